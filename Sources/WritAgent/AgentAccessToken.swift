public import Foundation

/// An access token for one audience. Its text never appears in a description, a log line or a string
/// interpolation, so it cannot end up in a model's context by accident; read ``unsafeToken`` only to put it
/// on the wire.
public struct AgentAccessToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The token itself.
    public let unsafeToken: String
    /// The resource server it is for.
    public let audience: String
    /// When it expires.
    public let expiresAt: Date
    /// `DPoP` or `Bearer`.
    public let tokenType: String

    public var description: String {
        "AgentAccessToken(aud: \(audience), type: \(tokenType), expires: \(Int(expiresAt.timeIntervalSince1970)), redacted)"
    }
    public var debugDescription: String { description }
}
