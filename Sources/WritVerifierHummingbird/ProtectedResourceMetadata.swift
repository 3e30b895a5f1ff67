import Foundation
public import WritToken

/// RFC 9728 OAuth 2.0 Protected Resource Metadata: what a client needs to learn, from the resource server
/// alone, where to get a token for it and how to present it. ``WritAuthorizationMiddleware`` serves it at
/// `/.well-known/oauth-protected-resource` followed by the resource's path (RFC 9728 §3.1), and at the bare
/// well-known path too, and names it in every 401 challenge (§5.1), as the MCP authorization specification
/// requires of MCP servers.
public struct ProtectedResourceMetadata: Sendable, Hashable {
    /// The resource identifier: the URL clients use, which is the `aud` of its tokens (RFC 8707).
    public var resource: String
    /// The issuers of the tokens it takes (the broker's issuer, exactly as its own metadata says it).
    public var authorizationServers: [String]
    /// The scope values the broker maps to this resource's authorization details; empty when none.
    public var scopesSupported: [String]
    /// How tokens are sent: `header` only.
    public var bearerMethodsSupported: [String]
    /// The algorithms DPoP proofs may use.
    public var dpopSigningAlgValuesSupported: [String]
    /// Whether every token must be DPoP-bound (false: bearer tokens are taken where the grant allows them).
    public var dpopBoundAccessTokensRequired: Bool
    /// A name for people.
    public var resourceName: String?
    /// The RFC 9396 detail types the resource checks.
    public var authorizationDetailsTypesSupported: [String]

    /// Metadata for a resource.
    public init(
        resource: String,
        authorizationServers: [String],
        scopesSupported: [String] = [],
        dpopBoundAccessTokensRequired: Bool = false,
        resourceName: String? = nil,
        authorizationDetailsTypesSupported: [String] = []
    ) {
        self.resource = resource
        self.authorizationServers = authorizationServers
        self.scopesSupported = scopesSupported
        self.bearerMethodsSupported = ["header"]
        self.dpopSigningAlgValuesSupported = ["ES256", "EdDSA"]
        self.dpopBoundAccessTokensRequired = dpopBoundAccessTokensRequired
        self.resourceName = resourceName
        self.authorizationDetailsTypesSupported = authorizationDetailsTypesSupported
    }

    /// The document.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "resource": .string(resource),
            "authorization_servers": .array(authorizationServers.map(JSONValue.string)),
            "bearer_methods_supported": .array(bearerMethodsSupported.map(JSONValue.string)),
            "dpop_signing_alg_values_supported": .array(dpopSigningAlgValuesSupported.map(JSONValue.string)),
            "dpop_bound_access_tokens_required": .bool(dpopBoundAccessTokensRequired),
        ]
        if !scopesSupported.isEmpty { members["scopes_supported"] = .array(scopesSupported.map(JSONValue.string)) }
        if let resourceName { members["resource_name"] = .string(resourceName) }
        if !authorizationDetailsTypesSupported.isEmpty {
            members["authorization_details_types_supported"] = .array(
                authorizationDetailsTypesSupported.map(JSONValue.string)
            )
        }
        return .object(members)
    }

    /// The well-known prefix (RFC 9728 §3).
    public static let wellKnownPrefix = "/.well-known/oauth-protected-resource"

    /// The resource's origin (`scheme://authority`) and path (empty for none; no query or fragment).
    var originAndPath: (origin: String, path: String) {
        guard let schemeEnd = resource.range(of: "://") else { return (resource, "") }
        let afterScheme = resource[schemeEnd.upperBound...]
        let pathStart = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        var path = String(afterScheme[pathStart...])
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<end]) }
        if path == "/" { path = "" }
        return (String(resource[..<pathStart]), path)
    }

    /// The paths the document is served at: the well-known prefix followed by the resource's path (§3.1), and
    /// the bare prefix.
    public var wellKnownPaths: [String] {
        let path = originAndPath.path
        return path.isEmpty ? [Self.wellKnownPrefix] : [Self.wellKnownPrefix + path, Self.wellKnownPrefix]
    }

    /// The resource's origin, `scheme://authority`: the public base DPoP proofs name.
    public var origin: String { originAndPath.origin }

    /// The resource's path, empty when it has none.
    public var resourcePath: String { originAndPath.path }

    /// The document's URL, as 401 challenges name it (`resource_metadata`).
    public var url: String { originAndPath.origin + Self.wellKnownPrefix + originAndPath.path }
}
