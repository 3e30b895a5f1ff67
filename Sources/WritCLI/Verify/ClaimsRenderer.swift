import Foundation
import WritToken

/// Renders verified claims for people: one claim a line, times in ISO 8601.
enum ClaimsRenderer {
    static func render(_ claims: AccessTokenClaims) -> String {
        let format = Date.ISO8601FormatStyle()
        var lines = [
            "iss        \(claims.issuer)",
            "sub        \(claims.subject)",
            "aud        \(claims.audience)",
            "client_id  \(claims.clientID)",
        ]
        if !claims.actorChain.isEmpty {
            lines.append("act        \(claims.actorChain.map(\.description).joined(separator: " <- "))")
        }
        lines.append("txn        \(claims.taskID)")
        if let purpose = claims.purpose { lines.append("purp       \(purpose)") }
        lines.append("jti        \(claims.tokenID)")
        lines.append("iat        \(claims.issuedAt.formatted(format))")
        if let notBefore = claims.notBefore { lines.append("nbf        \(notBefore.formatted(format))") }
        lines.append("exp        \(claims.expiresAt.formatted(format))")
        switch claims.confirmation {
        case .dpop(let thumbprint): lines.append("cnf        jkt \(thumbprint)")
        case .mutualTLS(let thumbprint): lines.append("cnf        x5t#S256 \(thumbprint)")
        case nil: lines.append("cnf        none (bearer)")
        }
        lines.append("scope      \(claims.scope)")
        for detail in claims.authorizationDetails {
            lines.append("grant      \(JSONWriter.string(detail.json))")
        }
        return lines.joined(separator: "\n")
    }
}
