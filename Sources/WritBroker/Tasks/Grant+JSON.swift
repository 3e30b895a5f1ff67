import Foundation
public import WritPolicy
public import WritToken

extension Grant {
    /// The grant as stored and returned by the API.
    public var json: JSONValue {
        .object([
            "authorization_details": .array(authorizationDetails.map(\.json)),
            "task_duration": .integer(Int64(taskDuration.rounded(.down))),
            "token_lifetime": .integer(Int64(tokenLifetime.rounded(.down))),
            "delegation_depth": .integer(Int64(delegationDepth)),
            "bearer_tokens": .bool(bearerTokensAllowed),
        ])
    }

    /// Reads a stored grant.
    public init(json: JSONValue) throws(VerificationError) {
        guard let members = json.objectValue, let details = members["authorization_details"]?.arrayValue,
            let taskDuration = members["task_duration"]?.integerValue,
            let tokenLifetime = members["token_lifetime"]?.integerValue,
            let depth = members["delegation_depth"]?.integerValue,
            case .bool(let bearer) = members["bearer_tokens"]
        else { throw .malformed("a stored grant is incomplete") }
        var parsed: [AuthorizationDetail] = []
        for detail in details { parsed.append(try AuthorizationDetail(json: detail)) }
        self.init(
            authorizationDetails: parsed,
            taskDuration: TimeInterval(taskDuration),
            tokenLifetime: TimeInterval(tokenLifetime),
            delegationDepth: Int(depth),
            bearerTokensAllowed: bearer
        )
    }
}
