import Foundation
public import WritToken

/// What a verified token allows: its claims, with authorization checks over its `authorization_details`.
public struct VerifiedAccess: Sendable, Hashable {
    /// The token's claims, all checked.
    public let claims: AccessTokenClaims
    /// The resource server's own location, which entries with `locations` must name.
    public let location: String

    /// Wraps verified claims for a resource server.
    public init(claims: AccessTokenClaims, location: String) {
        self.claims = claims
        self.location = location
    }

    /// The acting workload.
    public var workload: SPIFFEID { claims.clientID }
    /// The user, when the task is on behalf of one.
    public var user: String? { claims.hasUser ? claims.subject : nil }
    /// The task.
    public var taskID: String { claims.taskID }

    /// Whether the grant allows `action` on `resource`. Nothing matches by default.
    ///
    /// An entry allows it when all hold: the entry's `type` equals the resource's; the action is one of the
    /// entry's `actions` (an entry without actions allows nothing); the entry has no `locations`, or they
    /// name this resource server; the entry has no `identifier` (the whole type here), or it equals the
    /// resource's, or it ends in `/*` and the resource's lies strictly below that prefix; and the entry has
    /// no `datatypes`, or the resource names one of them.
    public func permits(_ action: String, on resource: Resource) -> Bool {
        claims.authorizationDetails.contains { $0.allows(action, on: resource, at: location) }
    }
}

/// A resource a request touches, as the resource server names it.
public struct Resource: Sendable, Hashable, CustomStringConvertible {
    /// The kind, matching an authorization detail's `type`.
    public var type: String
    /// The resource's identifier, e.g. `hr/employees/42`; nil for an action on the type as a whole.
    public var identifier: String?
    /// The kind of data touched, when the resource server distinguishes them.
    public var datatype: String?

    /// Names a resource.
    public init(type: String, identifier: String? = nil, datatype: String? = nil) {
        self.type = type
        self.identifier = identifier
        self.datatype = datatype
    }

    public var description: String {
        var text = type
        if let identifier { text += " \(identifier)" }
        if let datatype { text += " (\(datatype))" }
        return text
    }
}

extension AuthorizationDetail {
    /// Whether this entry allows `action` on `resource` at the resource server `location`. Every comparison
    /// is on UTF-8 bytes.
    public func allows(_ action: String, on resource: Resource, at location: String) -> Bool {
        guard bytesEqual(type, resource.type), containsBytes(actions, action) else { return false }
        if !locations.isEmpty, !containsBytes(locations, location) { return false }
        if let identifier {
            guard let wanted = resource.identifier, IdentifierSyntax.covers(identifier, wanted) else { return false }
        }
        if !datatypes.isEmpty {
            guard let datatype = resource.datatype, containsBytes(datatypes, datatype) else { return false }
        }
        return true
    }
}
