import Foundation
public import WritToken

/// An immutable, indexed set of rules. Loading a new set builds a new value; nothing is ever half-loaded.
///
/// Evaluation is order-independent: rules are found through an index and combined as sets, so the order of
/// rules and files never changes a decision.
public struct PolicySet: Sendable {
    /// Every rule, sorted by id.
    public let rules: [Rule]
    /// The audiences declared, by location: implicit task defaults and scope mappings.
    public let audiences: [String: Audience]
    /// The detection rules of the `monitoring` sections, sorted by id.
    public let monitoring: [MonitoringRule]
    private let byExactWorkload: [String: [Int]]
    private let byTrustDomain: [String: [Int]]
    private let unscoped: [Int]

    /// Builds a set; rule ids must be unique (the loader reports duplicates with their locations).
    public init(rules: [Rule], audiences: [Audience] = [], monitoring: [MonitoringRule] = []) {
        self.monitoring = monitoring.sorted { $0.id < $1.id }
        var byLocation: [String: Audience] = [:]
        for audience in audiences where byLocation[audience.location] == nil {
            byLocation[audience.location] = audience
        }
        self.audiences = byLocation
        let sorted = rules.sorted { $0.id < $1.id }
        self.rules = sorted
        var exact: [String: [Int]] = [:]
        var domains: [String: [Int]] = [:]
        var rest: [Int] = []
        for (index, rule) in sorted.enumerated() {
            let ids = rule.conditions.workload.ids
            if ids.isEmpty {
                rest.append(index)
            } else if ids.allSatisfy({ $0.literal != nil }) {
                for id in Set(ids.compactMap { $0.literal?.description }) { exact[id, default: []].append(index) }
            } else {
                for domain in Set(ids.map(\.trustDomain)) { domains[domain, default: []].append(index) }
            }
        }
        byExactWorkload = exact
        byTrustDomain = domains
        unscoped = rest
    }

    /// An empty set: denies everything.
    public static let empty = PolicySet(rules: [])

    /// The rules whose conditions hold for a request.
    public func matchingRules(for request: PolicyRequest) -> [Rule] {
        var indices = byExactWorkload[request.workload.id.description] ?? []
        indices.append(contentsOf: byTrustDomain[request.workload.id.trustDomain] ?? [])
        indices.append(contentsOf: unscoped)
        indices.sort()
        var result: [Rule] = []
        var previous = -1
        rules.withUnsafeBufferPointer { rules in
            for index in indices where index != previous {
                previous = index
                let rule = rules[index]
                if rule.conditions.holds(for: request) { result.append(rule) }
            }
        }
        return result
    }

    /// Decides a request: every requested entry must be inside the union of the matching permits' grants
    /// and outside every matching forbid; the grant is exactly the request, with ceilings at the smallest
    /// of the permits it rests on.
    public func evaluate(_ request: PolicyRequest) -> Decision {
        if let invalid = Self.validate(request) { return .deny([invalid]) }
        let matching = matchingRules(for: request)
        let permits = matching.filter { $0.effect == .permit }
        let forbids = matching.filter { $0.effect == .forbid }
        guard !permits.isEmpty else {
            return .deny([
                DenialReason(
                    code: .noMatchingPermit,
                    message: "no permit rule applies to this workload, user and task type"
                )
            ])
        }
        let context = TemplateContext(request: request)
        var reasons: [DenialReason] = []
        var contributing: [String: Rule] = [:]
        for (index, entry) in request.authorizationDetails.enumerated() {
            for action in entry.actions {
                let covering = permits.filter { rule in
                    rule.resources.contains { $0.covers(entry, action: action, context: context) }
                }
                if covering.isEmpty {
                    let involved = permits.filter { rule in rule.resources.contains { $0.type == entry.type } }
                    reasons.append(
                        DenialReason(
                            code: .notCovered,
                            entry: index,
                            action: action,
                            message: Self.uncoveredMessage(entry, action: action, involved: involved, context: context),
                            rules: (involved.isEmpty ? permits : involved).map(\.id)
                        )
                    )
                } else {
                    for rule in covering { contributing[rule.id] = rule }
                }
            }
            for rule in forbids {
                let actions = rule.forbiddenActions(in: entry, context: context)
                if !actions.isEmpty {
                    reasons.append(
                        DenialReason(
                            code: .forbidden,
                            entry: index,
                            action: actions.count == 1 ? actions[0] : nil,
                            message: "forbidden: \(entry.type) \(actions.joined(separator: ", "))"
                                + (rule.description.map { " — \($0)" } ?? ""),
                            rules: [rule.id]
                        )
                    )
                }
            }
        }
        let basis = contributing.values.sorted { $0.id < $1.id }
        let ceilings = basis.isEmpty ? Ceilings() : Self.smallest(basis.map(\.ceilings))
        if !basis.isEmpty, request.authorizationDetails.count > ceilings.resources {
            reasons.append(
                DenialReason(
                    code: .tooManyResources,
                    message:
                        "the task asks for \(request.authorizationDetails.count) resources; at most \(ceilings.resources) are allowed",
                    rules: basis.map(\.id)
                )
            )
        }
        if request.wantsBearerTokens, !basis.isEmpty, !ceilings.bearerTokens {
            reasons.append(
                DenialReason(
                    code: .bearerNotAllowed,
                    message: "bearer tokens are not allowed; bind tokens with DPoP or mutual TLS",
                    rules: basis.filter { !$0.ceilings.bearerTokens }.map(\.id)
                )
            )
        }
        if let parent = request.parent {
            reasons.append(contentsOf: Self.parentReasons(request, parent: parent))
        }
        guard reasons.isEmpty else { return .deny(reasons) }
        var taskDuration = min(request.requestedDuration ?? ceilings.taskDuration, ceilings.taskDuration)
        var tokenLifetime = ceilings.tokenLifetime
        var delegationDepth = ceilings.delegationDepth
        if let parent = request.parent {
            taskDuration = min(taskDuration, parent.remaining)
            tokenLifetime = min(tokenLifetime, parent.grant.tokenLifetime)
            delegationDepth = min(delegationDepth, parent.grant.delegationDepth - 1)
        }
        let grant = Grant(
            authorizationDetails: request.authorizationDetails,
            taskDuration: taskDuration,
            tokenLifetime: min(tokenLifetime, taskDuration),
            delegationDepth: max(0, delegationDepth),
            bearerTokensAllowed: ceilings.bearerTokens && request.wantsBearerTokens
        )
        return .permit(grant, rules: basis.map(\.id))
    }

    static func validate(_ request: PolicyRequest) -> DenialReason? {
        if request.authorizationDetails.isEmpty {
            return DenialReason(code: .invalidRequest, message: "the task asks for no authorization details")
        }
        for (index, entry) in request.authorizationDetails.enumerated() {
            if entry.type.isEmpty || entry.actions.isEmpty || entry.actions.contains(where: \.isEmpty) {
                return DenialReason(
                    code: .invalidRequest,
                    entry: index,
                    message: "every authorization detail needs a type and at least one non-empty action"
                )
            }
            if let identifier = entry.identifier, !Self.isWellFormed(identifier) {
                return DenialReason(
                    code: .invalidRequest,
                    entry: index,
                    message:
                        "an identifier is at most 1024 bytes and 64 segments joined by /, none empty, . or .., with * only as a final /*"
                )
            }
        }
        if let duration = request.requestedDuration, !(duration > 0) {
            return DenialReason(code: .invalidRequest, message: "the requested duration must be positive")
        }
        return nil
    }

    /// The longest identifier a request may name, in bytes.
    public static let maximumIdentifierLength = 1024
    /// The most segments an identifier may have.
    public static let maximumIdentifierSegments = 64

    /// Identifiers name resources plainly: bounded in length and depth, no empty, `.` or `..` segments, and
    /// `*` only as a final `/*`.
    static func isWellFormed(_ identifier: String) -> Bool {
        let bytes = identifier.utf8
        guard bytes.count <= maximumIdentifierLength,
            bytes.lazy.filter({ $0 == UInt8(ascii: "/") }).count < maximumIdentifierSegments
        else { return false }
        return IdentifierSyntax.hasPlainSegments(IdentifierSyntax.wildcardPrefix(identifier) ?? identifier[...])
    }

    static func smallest(_ all: [Ceilings]) -> Ceilings {
        Ceilings(
            taskDuration: all.map(\.taskDuration).min()!,
            tokenLifetime: all.map(\.tokenLifetime).min()!,
            delegationDepth: all.map(\.delegationDepth).min()!,
            resources: all.map(\.resources).min()!,
            bearerTokens: all.allSatisfy(\.bearerTokens)
        )
    }

    static func parentReasons(_ request: PolicyRequest, parent: ParentTask) -> [DenialReason] {
        var reasons: [DenialReason] = []
        if parent.grant.delegationDepth < 1 {
            reasons.append(
                DenialReason(
                    code: .delegationTooDeep,
                    message: "the parent task may not delegate further (depth \(request.depth))"
                )
            )
        }
        for (index, entry) in request.authorizationDetails.enumerated() {
            for action in entry.actions
            where !parent.grant.authorizationDetails.contains(where: { $0.contains(entry, action: action) }) {
                reasons.append(
                    DenialReason(
                        code: .exceedsParent,
                        entry: index,
                        action: action,
                        message: "the parent task was not granted \(action) on this \(entry.type)"
                    )
                )
            }
        }
        if request.wantsBearerTokens, !parent.grant.bearerTokensAllowed {
            reasons.append(DenialReason(code: .exceedsParent, message: "the parent task may not use bearer tokens"))
        }
        return reasons
    }

    static func uncoveredMessage(
        _ entry: AuthorizationDetail,
        action: String,
        involved: [Rule],
        context: TemplateContext
    ) -> String {
        let target = entry.identifier.map { "\(entry.type) \($0)" } ?? "every \(entry.type)"
        if involved.isEmpty { return "no permit grants any access to \(entry.type) resources" }
        let grantsAction = involved.contains { rule in
            rule.resources.contains { $0.type == entry.type && $0.actions.contains(action) }
        }
        if !grantsAction { return "\(action) is not granted on \(entry.type) resources" }
        return "\(action) on \(target) is outside what the applicable permits grant"
    }
}

extension PolicySet {
    /// The authorization detail types some permit grants, sorted (RFC 9396 §10's
    /// `authorization_details_types_supported`).
    public var permittedTypes: [String] {
        Set(rules.filter { $0.effect == .permit }.flatMap { $0.resources.map(\.type) }).sorted()
    }

    /// Every scope value some audience maps, sorted.
    public var scopeValues: [String] { Set(audiences.values.flatMap(\.scopes.keys)).sorted() }
}

extension AuthorizationDetail {
    /// Whether every action of this requested entry is contained in one of the granted entries (RFC 9396 §6: a
    /// client may ask the token endpoint for a subset of its grant): same type and type-specific members,
    /// locations, identifier and datatypes within.
    /// Asking for exactly a granted `prefix/*` is within it (the same set).
    public func isWithin(_ granted: [AuthorizationDetail]) -> Bool {
        !actions.isEmpty
            && actions.allSatisfy { action in
                granted.contains { $0.contains(self, action: action, sameWildcard: true) }
            }
    }
}
