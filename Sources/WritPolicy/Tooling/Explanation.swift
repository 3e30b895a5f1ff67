public import WritToken

/// Why a request gets its decision, and for a denial the smallest narrowing that would be permitted.
public struct Explanation: Sendable {
    /// The decision.
    public let decision: Decision
    /// Every rule whose conditions hold for the request, sorted by id.
    public let matchingRules: [Rule]
    /// For a denial: the changes that make the request permitted, or nil when narrowing cannot help.
    public let suggestion: [String]?
    /// The request after those changes, when there is one.
    public let narrowedRequest: PolicyRequest?

    /// Explains a request against a policy set.
    public init(request: PolicyRequest, policies: PolicySet) {
        decision = policies.evaluate(request)
        matchingRules = policies.matchingRules(for: request)
        guard case .deny(let reasons) = decision else {
            suggestion = nil
            narrowedRequest = nil
            return
        }
        (suggestion, narrowedRequest) = Self.narrow(request, reasons: reasons, policies: policies)
    }

    /// Removes exactly what the reasons name — denied actions, then empty entries, bearer tokens, entries
    /// past the resource ceiling — and checks that the result is permitted.
    static func narrow(
        _ request: PolicyRequest,
        reasons: [DenialReason],
        policies: PolicySet
    ) -> ([String]?, PolicyRequest?) {
        if reasons.contains(where: { [.noMatchingPermit, .delegationTooDeep, .invalidRequest].contains($0.code) }) {
            return (nil, nil)
        }
        var narrowed = request
        var changes: [String] = []
        var droppedActions: [Int: Set<String>] = [:]
        for reason in reasons {
            guard let entry = reason.entry else { continue }
            let detail = request.authorizationDetails[entry]
            let actions = reason.action.map { [$0] } ?? detail.actions
            droppedActions[entry, default: []].formUnion(actions)
        }
        var kept: [AuthorizationDetail] = []
        for (index, detail) in request.authorizationDetails.enumerated() {
            let drop = droppedActions[index] ?? []
            let remaining = detail.actions.filter { !drop.contains($0) }
            let name = detail.identifier.map { "\(detail.type) \($0)" } ?? detail.type
            if remaining.isEmpty {
                changes.append("remove entry \(index) (\(name))")
            } else {
                if !drop.isEmpty {
                    changes.append("remove \(drop.sorted().joined(separator: ", ")) from entry \(index) (\(name))")
                }
                var copy = detail
                copy.actions = remaining
                kept.append(copy)
            }
        }
        narrowed.authorizationDetails = kept
        if reasons.contains(where: { $0.code == .bearerNotAllowed })
            || (request.wantsBearerTokens
                && reasons.contains(where: { $0.code == .exceedsParent && $0.entry == nil }))
        {
            narrowed.wantsBearerTokens = false
            changes.append("ask for sender-constrained tokens (DPoP or mutual TLS) instead of bearer tokens")
        }
        guard !narrowed.authorizationDetails.isEmpty else { return (nil, nil) }
        var decision = policies.evaluate(narrowed)
        if case .deny(let remaining) = decision, remaining.allSatisfy({ $0.code == .tooManyResources }) {
            var limit = narrowed.authorizationDetails.count - 1
            while limit > 0 {
                var trimmed = narrowed
                trimmed.authorizationDetails = Array(narrowed.authorizationDetails.prefix(limit))
                if policies.evaluate(trimmed).isPermit {
                    changes.append("split the task: ask for at most \(limit) resources per task")
                    narrowed = trimmed
                    break
                }
                limit -= 1
            }
            decision = policies.evaluate(narrowed)
        }
        return decision.isPermit ? (changes, narrowed) : (nil, nil)
    }

    /// A readable report.
    public var text: String {
        var lines: [String] = []
        switch decision {
        case .permit(let grant, let rules):
            lines.append("decision: permit")
            lines.append("because:  \(rules.joined(separator: ", "))")
            lines.append(
                "grant:    \(grant.authorizationDetails.count) entries, task up to \(Int(grant.taskDuration))s, "
                    + "tokens up to \(Int(grant.tokenLifetime))s, delegation depth \(grant.delegationDepth), "
                    + "bearer tokens \(grant.bearerTokensAllowed ? "allowed" : "not allowed")"
            )
        case .deny(let reasons):
            lines.append("decision: deny")
            lines.append("reasons:")
            for reason in reasons { lines.append("  - \(reason)") }
        }
        lines.append("matching rules:")
        if matchingRules.isEmpty { lines.append("  (none)") }
        for rule in matchingRules { lines.append("  \(rule.effect.rawValue) \(rule.id)  (\(rule.location))") }
        if case .deny = decision {
            if let suggestion {
                lines.append("smallest change that would be permitted:")
                for change in suggestion { lines.append("  - \(change)") }
            } else {
                lines.append("no narrowing of this request is permitted; a policy change is needed")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The report as JSON, for scripts and agents.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "decision": .string(decision.isPermit ? "permit" : "deny"),
            "matching_rules": .array(
                matchingRules.map {
                    .object([
                        "id": .string($0.id), "effect": .string($0.effect.rawValue),
                        "location": .string($0.location.description),
                    ])
                }
            ),
        ]
        switch decision {
        case .permit(let grant, let rules):
            members["rules"] = .array(rules.map(JSONValue.string))
            members["grant"] = grant.json
        case .deny(let reasons):
            members["reasons"] = .array(reasons.map(\.json))
            if let suggestion { members["suggestion"] = .array(suggestion.map(JSONValue.string)) }
            if let narrowedRequest {
                members["narrowed_authorization_details"] = .array(narrowedRequest.authorizationDetails.map(\.json))
            }
        }
        return .object(members)
    }
}

extension Grant {
    /// The grant as JSON.
    public var json: JSONValue {
        .object([
            "authorization_details": .array(authorizationDetails.map(\.json)),
            "task_duration": .integer(Int64(taskDuration)),
            "token_lifetime": .integer(Int64(tokenLifetime)),
            "delegation_depth": .integer(Int64(delegationDepth)),
            "bearer_tokens": .bool(bearerTokensAllowed),
        ])
    }
}
