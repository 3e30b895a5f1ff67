public import Foundation
import WritToken

/// One policy test: a request and the decision it must get.
public struct PolicyTestCase: Sendable {
    /// The test's name.
    public let name: String
    /// Where it is written.
    public let location: SourceLocation
    /// The request.
    public let request: PolicyRequest
    /// The expected decision.
    public let expectation: Expectation

    /// What a test expects.
    public struct Expectation: Sendable {
        /// Permit or deny.
        public var permit: Bool
        /// For a permit, the exact rules it must rest on, when given.
        public var rules: [String]?
        /// Expected ceilings, when given.
        public var taskDuration: TimeInterval?
        public var tokenLifetime: TimeInterval?
        public var delegationDepth: Int?
        public var bearerTokens: Bool?
        /// For a deny, the expected reasons, when given: each must match one actual reason on the fields it
        /// names, and there must be as many actual reasons as expected ones.
        public var reasons: [ExpectedReason]?
    }

    /// An expected denial reason; nil fields are not compared.
    public struct ExpectedReason: Sendable, CustomStringConvertible {
        public var code: String
        public var entry: Int?
        public var action: String?
        public var rules: [String]?

        func matches(_ reason: DenialReason) -> Bool {
            reason.code.rawValue == code && (entry == nil || reason.entry == entry)
                && (action == nil || reason.action == action) && (rules == nil || reason.rules == rules!.sorted())
        }

        public var description: String {
            var text = code
            if let entry { text += " entry \(entry)" }
            if let action { text += " action \(action)" }
            if let rules { text += " rules [\(rules.joined(separator: ", "))]" }
            return text
        }
    }

    /// Runs the test; nil when it passes, otherwise why it failed.
    public func failure(against policies: PolicySet) -> String? {
        let decision = policies.evaluate(request)
        switch decision {
        case .permit(let grant, let rules):
            guard expectation.permit else {
                return "expected deny, got permit (rules: \(rules.joined(separator: ", ")))"
            }
            if let expected = expectation.rules, expected.sorted() != rules {
                return
                    "expected permit by [\(expected.sorted().joined(separator: ", "))], got [\(rules.joined(separator: ", "))]"
            }
            if let expected = expectation.taskDuration, expected != grant.taskDuration {
                return "expected task_duration \(Int(expected))s, got \(Int(grant.taskDuration))s"
            }
            if let expected = expectation.tokenLifetime, expected != grant.tokenLifetime {
                return "expected token_lifetime \(Int(expected))s, got \(Int(grant.tokenLifetime))s"
            }
            if let expected = expectation.delegationDepth, expected != grant.delegationDepth {
                return "expected delegation_depth \(expected), got \(grant.delegationDepth)"
            }
            if let expected = expectation.bearerTokens, expected != grant.bearerTokensAllowed {
                return "expected bearer_tokens \(expected), got \(grant.bearerTokensAllowed)"
            }
            return nil
        case .deny(let reasons):
            guard !expectation.permit else {
                return "expected permit, got deny:\n" + reasons.map { "        \($0)" }.joined(separator: "\n")
            }
            guard let expected = expectation.reasons else { return nil }
            var unmatched = reasons
            for reason in expected {
                guard let index = unmatched.firstIndex(where: reason.matches) else {
                    return "expected reason \(reason) not found; got:\n"
                        + reasons.map { "        \($0)" }.joined(separator: "\n")
                }
                unmatched.remove(at: index)
            }
            if !unmatched.isEmpty {
                return "unexpected reasons:\n" + unmatched.map { "        \($0)" }.joined(separator: "\n")
            }
            return nil
        }
    }
}

/// Reads and runs the policy tests of a directory (`policies/tests/*.yaml`).
public enum PolicyTestRunner {
    static let testKeys = ["name", "request", "expect"]
    static let expectKeys = [
        "decision", "rules", "task_duration", "token_lifetime", "delegation_depth", "bearer_tokens", "reasons",
    ]

    /// Reads every test in a document.
    public static func tests(in text: String, file: String) throws(PolicyDiagnostic) -> [PolicyTestCase] {
        guard let root = try YAMLNode.parse(text, file: file) else { return [] }
        let top = try root.mapping(allowed: ["tests", "monitoring_tests"], what: "a policy test file")
        if top["tests"] == nil, top["monitoring_tests"] == nil {
            throw root.error("a policy test file needs a 'tests' list (or a 'monitoring_tests' list)")
        }
        guard let list = top["tests"] else { return [] }
        var cases: [PolicyTestCase] = []
        for node in try list.sequence("tests") {
            let fields = try node.mapping(allowed: testKeys, what: "a test")
            guard let name = fields["name"], let request = fields["request"], let expect = fields["expect"] else {
                throw node.error("a test needs 'name', 'request' and 'expect'")
            }
            cases.append(
                PolicyTestCase(
                    name: try name.nonEmptyString("name"),
                    location: node.location,
                    request: try RequestReader.request(request),
                    expectation: try expectation(expect)
                )
            )
        }
        return cases
    }

    static func expectation(_ node: YAMLNode) throws(PolicyDiagnostic) -> PolicyTestCase.Expectation {
        let fields = try node.mapping(allowed: expectKeys, what: "'expect'")
        guard let decision = fields["decision"] else { throw node.error("'expect' needs a 'decision': permit or deny") }
        let permit: Bool
        switch try decision.string("decision") {
        case "permit": permit = true
        case "deny": permit = false
        default: throw decision.error("decision must be permit or deny")
        }
        var reasons: [PolicyTestCase.ExpectedReason]?
        if let list = fields["reasons"] {
            guard !permit else { throw list.error("only a deny has reasons") }
            var parsed: [PolicyTestCase.ExpectedReason] = []
            for item in try list.sequence("reasons") {
                let reason = try item.mapping(allowed: ["code", "entry", "action", "rules"], what: "a reason")
                guard let code = reason["code"] else { throw item.error("a reason needs a 'code'") }
                let codeText = try code.string("code")
                guard DenialReason.Code.all.contains(where: { $0.rawValue == codeText }) else {
                    throw code.error(
                        "unknown code '\(codeText)'; expected one of: \(DenialReason.Code.all.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                parsed.append(
                    PolicyTestCase.ExpectedReason(
                        code: codeText,
                        entry: try reason["entry"]?.integer("entry"),
                        action: try reason["action"]?.string("action"),
                        rules: try reason["rules"]?.strings("rules")
                    )
                )
            }
            reasons = parsed
        }
        return PolicyTestCase.Expectation(
            permit: permit,
            rules: try fields["rules"]?.strings("rules"),
            taskDuration: try fields["task_duration"]?.duration("task_duration"),
            tokenLifetime: try fields["token_lifetime"]?.duration("token_lifetime"),
            delegationDepth: try fields["delegation_depth"]?.integer("delegation_depth"),
            bearerTokens: try fields["bearer_tokens"]?.bool("bearer_tokens"),
            reasons: reasons
        )
    }
}
