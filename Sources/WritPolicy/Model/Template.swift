import WritToken

/// A value drawn from the request into an identifier pattern: `{user.sub}`, `{user.CLAIM}`,
/// `{user.email_domain}`, `{task.type}`, `{workload.trust_domain}`.
public enum Template: Sendable, Hashable, CustomStringConvertible {
    case userClaim(String)
    case taskType
    case workloadTrustDomain

    /// The accepted forms, for error messages.
    public static let documentation =
        "{user.sub}, {user.<claim>}, {user.email_domain}, {task.type} or {workload.trust_domain}"

    /// Reads a template name (without braces).
    public init?(_ name: String) {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        switch (parts[0], parts[1]) {
        case ("user", let claim):
            guard claim.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
            self = .userClaim(claim)
        case ("task", "type"): self = .taskType
        case ("workload", "trust_domain"): self = .workloadTrustDomain
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .userClaim(let claim): "{user.\(claim)}"
        case .taskType: "{task.type}"
        case .workloadTrustDomain: "{workload.trust_domain}"
        }
    }

    /// Whether the template needs a user.
    public var needsUser: Bool {
        if case .userClaim = self { return true }
        return false
    }
}

/// The values templates resolve to for one request.
struct TemplateContext {
    let request: PolicyRequest?

    /// A context in which no template resolves.
    static let none = TemplateContext(request: nil)

    /// A template's value; nil when absent or unsafe (empty, or holding `/`, `*`, `{`, `}`), so a claim can
    /// never widen a pattern.
    func value(of template: Template) -> String? {
        guard let request else { return nil }
        let value: String?
        switch template {
        case .userClaim(let claim): value = request.user?.text(claim)
        case .taskType: value = request.taskType
        case .workloadTrustDomain: value = request.workload.id.trustDomain
        }
        guard let value, !value.isEmpty else { return nil }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "/"), UInt8(ascii: "*"), UInt8(ascii: "{"), UInt8(ascii: "}"): return nil
            default: continue
            }
        }
        return value
    }
}
