import WritToken

/// When a rule applies. Every present condition must hold; an absent one always holds.
public struct Conditions: Sendable, Hashable {
    /// Workload conditions.
    public var workload: WorkloadCondition
    /// User conditions.
    public var user: UserCondition
    /// Task conditions.
    public var task: TaskCondition
    /// Delegation conditions.
    public var delegation: DelegationCondition

    /// Conditions.
    public init(
        workload: WorkloadCondition = .init(),
        user: UserCondition = .any,
        task: TaskCondition = .init(),
        delegation: DelegationCondition = .init()
    ) {
        self.workload = workload
        self.user = user
        self.task = task
        self.delegation = delegation
    }

    /// Whether every condition holds; the cheapest and most selective checks run first.
    func holds(for request: PolicyRequest) -> Bool {
        task.holds(for: request) && delegation.holds(for: request) && workload.holds(for: request.workload)
            && user.holds(for: request.user)
    }
}

/// Which workloads a rule is for.
public struct WorkloadCondition: Sendable, Hashable {
    /// SPIFFE ID patterns; any may match. Empty: any workload.
    public var ids: [SPIFFEPattern]
    /// Trust domains; any may match. Empty: any.
    public var trustDomains: [String]
    /// How the workload must have been attested; any. Empty: any.
    public var attestations: [Attestation]

    /// A condition.
    public init(ids: [SPIFFEPattern] = [], trustDomains: [String] = [], attestations: [Attestation] = []) {
        self.ids = ids
        self.trustDomains = trustDomains
        self.attestations = attestations
    }

    func holds(for workload: WorkloadIdentity) -> Bool {
        names(workload.id) && (attestations.isEmpty || attestations.contains(workload.attestation))
    }

    /// Whether the IDs and trust domains admit this workload (its attestation aside).
    func names(_ id: SPIFFEID) -> Bool {
        (ids.isEmpty || ids.contains { $0.matches(id) })
            && (trustDomains.isEmpty || trustDomains.contains(id.trustDomain))
    }
}

/// Which users a rule is for.
public enum UserCondition: Sendable, Hashable {
    /// With or without a user.
    case any
    /// Only without a user.
    case absent
    /// Only with a user whose claims match.
    case present(UserClaimsCondition)

    func holds(for user: UserClaims?) -> Bool {
        switch self {
        case .any: true
        case .absent: user == nil
        case .present(let condition): user.map(condition.holds) ?? false
        }
    }
}

/// Conditions on a present user's claims; each listed one must hold.
public struct UserClaimsCondition: Sendable, Hashable {
    /// Subjects (text patterns); any.
    public var subjects: [TextPattern]
    /// Groups; the user must be in at least one.
    public var groups: [String]
    /// Email domains; any.
    public var emailDomains: [String]
    /// Named claims and their allowed values (text patterns); `*` requires only presence.
    public var claims: [String: [TextPattern]]

    /// A condition.
    public init(
        subjects: [TextPattern] = [],
        groups: [String] = [],
        emailDomains: [String] = [],
        claims: [String: [TextPattern]] = [:]
    ) {
        self.subjects = subjects
        self.groups = groups
        self.emailDomains = emailDomains
        self.claims = claims
    }

    func holds(for user: UserClaims) -> Bool {
        if !subjects.isEmpty {
            guard let subject = user.subject, subjects.contains(where: { $0.matches(subject) }) else {
                return false
            }
        }
        if !groups.isEmpty, !user.groups.contains(where: { containsBytes(groups, $0) }) { return false }
        if !emailDomains.isEmpty {
            guard let domain = user.emailDomain, containsBytes(emailDomains, domain) else { return false }
        }
        for (claim, patterns) in claims {
            guard let value = user.text(claim) else { return false }
            if !patterns.contains(where: { $0.matches(value) }) { return false }
        }
        return true
    }
}

/// Which tasks a rule is for.
public struct TaskCondition: Sendable, Hashable {
    /// Task types; any. Empty: any.
    public var types: [String]
    /// Purpose patterns (free text: `*` crosses `/`); any. Empty: any, including none.
    public var purposes: [TextPattern]

    /// A condition.
    public init(types: [String] = [], purposes: [TextPattern] = []) {
        self.types = types
        self.purposes = purposes
    }

    func holds(for request: PolicyRequest) -> Bool {
        if !types.isEmpty, !containsBytes(types, request.taskType) { return false }
        if !purposes.isEmpty {
            guard let purpose = request.purpose, purposes.contains(where: { $0.matches(purpose) }) else {
                return false
            }
        }
        return true
    }
}

/// Where in a delegation chain a rule applies.
public struct DelegationCondition: Sendable, Hashable {
    /// The least depth (0: a root task).
    public var minimumDepth: Int
    /// The greatest depth.
    public var maximumDepth: Int
    /// Who must have delegated (the parent task's workload); any. Empty: anyone, or a root task.
    public var delegatedBy: [SPIFFEPattern]

    /// A condition; by default root tasks and sub-tasks alike.
    public init(minimumDepth: Int = 0, maximumDepth: Int = Int.max, delegatedBy: [SPIFFEPattern] = []) {
        self.minimumDepth = minimumDepth
        self.maximumDepth = maximumDepth
        self.delegatedBy = delegatedBy
    }

    func holds(for request: PolicyRequest) -> Bool {
        let depth = request.depth
        guard depth >= minimumDepth, depth <= maximumDepth else { return false }
        if !delegatedBy.isEmpty {
            guard let parent = request.parent, delegatedBy.contains(where: { $0.matches(parent.workload) }) else {
                return false
            }
        }
        return true
    }
}

extension SegmentPattern {
    /// Matches a literal string; a pattern with templates (never allowed in conditions) matches nothing.
    func matchesLiteral(_ value: Substring) -> Bool {
        !hasTemplates && matches(value, context: .none) == true
    }

    /// Matches a literal string; see ``matchesLiteral(_:)-(Substring)``.
    func matchesLiteral(_ value: String) -> Bool { matchesLiteral(value[...]) }
}
