import Foundation
import WritToken
import Yams

/// Reads a policy request — the `request` of a policy test, or the file `writ policy explain` takes — from
/// YAML or JSON (JSON is read as YAML, of which it is a subset).
public enum RequestReader {
    static let requestKeys = ["workload", "attestation", "user", "task", "parent"]
    static let taskKeys = ["type", "purpose", "duration", "bearer", "authorization_details"]
    static let parentKeys = ["workload", "depth", "remaining", "grant"]
    static let grantKeys = ["authorization_details", "task_duration", "token_lifetime", "delegation_depth", "bearer"]

    /// Reads a request document.
    public static func request(from text: String, file: String) throws(PolicyDiagnostic) -> PolicyRequest {
        guard let root = try YAMLNode.parse(text, file: file) else {
            throw PolicyDiagnostic(SourceLocation(file: file, line: 1, column: 1), "the request is empty")
        }
        return try request(root)
    }

    static func request(_ node: YAMLNode) throws(PolicyDiagnostic) -> PolicyRequest {
        let fields = try node.mapping(allowed: requestKeys, what: "a request")
        guard let workloadNode = fields["workload"] else { throw node.error("a request needs a 'workload' SPIFFE ID") }
        let workload = try spiffeID(workloadNode)
        var attestation = Attestation.jwtSVID
        if let value = fields["attestation"] {
            guard let parsed = Attestation(rawValue: try value.string("attestation")) else {
                throw value.error("attestation must be jwt-svid, x509-svid or oidc")
            }
            attestation = parsed
        }
        var user: UserClaims?
        if let userNode = fields["user"] {
            guard case .object(let claims) = try json(userNode) else {
                throw userNode.error("user must be a mapping of claims")
            }
            guard claims["sub"]?.stringValue != nil else { throw userNode.error("user claims need a string 'sub'") }
            user = UserClaims(claims: claims)
        }
        guard let taskNode = fields["task"] else { throw node.error("a request needs a 'task'") }
        let task = try taskNode.mapping(allowed: taskKeys, what: "'task'")
        guard let type = task["type"] else { throw taskNode.error("a task needs a 'type'") }
        guard let detailsNode = task["authorization_details"] else {
            throw taskNode.error("a task needs 'authorization_details'")
        }
        var parent: ParentTask?
        if let parentNode = fields["parent"] { parent = try self.parent(parentNode) }
        return PolicyRequest(
            workload: WorkloadIdentity(id: workload, attestation: attestation),
            user: user,
            taskType: try type.nonEmptyString("task type"),
            purpose: try task["purpose"]?.string("purpose"),
            authorizationDetails: try details(detailsNode),
            requestedDuration: try task["duration"]?.duration("duration"),
            wantsBearerTokens: try task["bearer"]?.bool("bearer") ?? false,
            parent: parent
        )
    }

    static func parent(_ node: YAMLNode) throws(PolicyDiagnostic) -> ParentTask {
        let fields = try node.mapping(allowed: parentKeys, what: "'parent'")
        guard let workload = fields["workload"], let grantNode = fields["grant"] else {
            throw node.error("a parent needs 'workload' and 'grant'")
        }
        let grant = try grantNode.mapping(allowed: grantKeys, what: "the parent's grant")
        guard let detailsNode = grant["authorization_details"] else {
            throw grantNode.error("the parent's grant needs 'authorization_details'")
        }
        let taskDuration = try grant["task_duration"]?.duration("task_duration") ?? 900
        return ParentTask(
            workload: try spiffeID(workload),
            grant: Grant(
                authorizationDetails: try details(detailsNode),
                taskDuration: taskDuration,
                tokenLifetime: try grant["token_lifetime"]?.duration("token_lifetime") ?? 300,
                delegationDepth: try grant["delegation_depth"]?.integer("delegation_depth") ?? 0,
                bearerTokensAllowed: try grant["bearer"]?.bool("bearer") ?? false
            ),
            depth: try fields["depth"]?.integer("depth") ?? 0,
            remaining: try fields["remaining"]?.duration("remaining") ?? taskDuration
        )
    }

    static func details(_ node: YAMLNode) throws(PolicyDiagnostic) -> [AuthorizationDetail] {
        var result: [AuthorizationDetail] = []
        for item in try node.sequence("authorization_details") {
            do {
                result.append(try AuthorizationDetail(json: try json(item)))
            } catch let error as VerificationError {
                throw item.error("bad authorization detail: \(error.reason)")
            } catch {
                throw item.error("bad authorization detail")
            }
        }
        return result
    }

    static func spiffeID(_ node: YAMLNode) throws(PolicyDiagnostic) -> SPIFFEID {
        let text = try node.string("workload")
        do {
            return try SPIFFEID(text)
        } catch {
            throw node.error("'\(text)' is not a SPIFFE ID: \(error.reason)")
        }
    }

    /// Converts a YAML node to JSON: mappings to objects, sequences to arrays, plain scalars to numbers and
    /// booleans where they read as such.
    static func json(_ node: YAMLNode) throws(PolicyDiagnostic) -> JSONValue {
        switch node.node {
        case .scalar:
            return node.jsonValue ?? .null
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for element in sequence { elements.append(try json(YAMLNode(node: element, file: node.file))) }
            return .array(elements)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                let name = try YAMLNode(node: key, file: node.file).string("a key")
                guard members[name] == nil else {
                    throw YAMLNode(node: key, file: node.file).error("duplicate key '\(name)'")
                }
                members[name] = try json(YAMLNode(node: value, file: node.file))
            }
            return .object(members)
        case .alias:
            throw node.error("anchors and aliases are not allowed")
        }
    }
}
