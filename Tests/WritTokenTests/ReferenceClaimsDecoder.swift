import Foundation
import WritToken

/// The claims decoder the library used before it read claims in one pass: parse the payload into a
/// ``JSONValue`` tree with ``StrictJSON``, then check each member. Kept here, unchanged in its rules, as the
/// reference the one-pass decoder must agree with on every input.
enum ReferenceClaimsDecoder {
    static func decode(_ bytes: [UInt8]) throws(VerificationError) -> AccessTokenClaims {
        let value: JSONValue
        do {
            value = try StrictJSON(maximumDepth: 16).parse(bytes: bytes)
        } catch {
            throw .malformed("the payload is not strict JSON: \(error.message)")
        }
        guard let members = value.objectValue else { throw .malformed("the payload must be a JSON object") }
        var builder = Builder()
        for (name, value) in members { try builder.accept(name, value) }
        return try builder.build()
    }

    private struct Builder {
        var issuer: String?
        var subject: String?
        var audience: String?
        var expiresAt: Date?
        var issuedAt: Date?
        var notBefore: Date?
        var tokenID: String?
        var clientID: SPIFFEID?
        var actorChain: [SPIFFEID] = []
        var taskID: String?
        var purpose: String?
        var details: [AuthorizationDetail]?
        var confirmation: Confirmation?
        var status: StatusListReference?

        mutating func accept(_ name: String, _ value: JSONValue) throws(VerificationError) {
            switch name {
            case "iss": issuer = try Self.string(name, value)
            case "sub": subject = try Self.string(name, value)
            case "aud": audience = try Self.audience(value)
            case "exp": expiresAt = try Self.date(name, value)
            case "iat": issuedAt = try Self.date(name, value)
            case "nbf": notBefore = try Self.date(name, value)
            case "jti": tokenID = try Self.string(name, value)
            case "client_id":
                let text = try Self.string(name, value)
                do {
                    clientID = try SPIFFEID(text)
                } catch {
                    throw .malformed("client_id is not a SPIFFE ID: \(error.reason)")
                }
            case "txn": taskID = try Self.string(name, value)
            case "purp": purpose = try Self.string(name, value)
            case "scope": guard value.stringValue != nil else { throw .malformed("scope must be a string") }
            case "cnf": confirmation = try Confirmation(json: value)
            case "status": status = try Self.status(value)
            case "act": actorChain = try Self.actors(value)
            case "authorization_details":
                guard let entries = value.arrayValue else { throw .malformed("authorization_details must be an array") }
                var parsed: [AuthorizationDetail] = []
                for entry in entries { parsed.append(try AuthorizationDetail(json: entry)) }
                details = parsed
            default: break
            }
        }

        func build() throws(VerificationError) -> AccessTokenClaims {
            guard let issuer, let subject, let audience, let expiresAt, let issuedAt, let tokenID, let clientID,
                let taskID, let details
            else { throw .malformed("a required claim is missing") }
            return AccessTokenClaims(
                issuer: issuer,
                subject: subject,
                audience: audience,
                expiresAt: expiresAt,
                issuedAt: issuedAt,
                notBefore: notBefore,
                tokenID: tokenID,
                clientID: clientID,
                actorChain: actorChain,
                taskID: taskID,
                purpose: purpose,
                authorizationDetails: details,
                confirmation: confirmation,
                status: status
            )
        }

        /// `status`: an object; its `status_list`, when present, an object with a non-negative integer `idx` and a
        /// non-empty string `uri`.
        static func status(_ value: JSONValue) throws(VerificationError) -> StatusListReference? {
            guard let members = value.objectValue else { throw .malformed("status must be an object") }
            guard let reference = members["status_list"] else { return nil }
            guard let list = reference.objectValue, let index = list["idx"]?.integerValue, index >= 0,
                let uri = list["uri"]?.stringValue, !uri.isEmpty
            else { throw .malformed("status.status_list needs a non-negative integer idx and a string uri") }
            return StatusListReference(index: Int(index), uri: uri)
        }

        static func string(_ name: String, _ value: JSONValue) throws(VerificationError) -> String {
            guard let text = value.stringValue, !text.isEmpty else {
                throw .malformed("\(name) must be a non-empty string")
            }
            return text
        }

        static func date(_ name: String, _ value: JSONValue) throws(VerificationError) -> Date {
            guard let seconds = value.integerValue, seconds >= 0 else {
                throw .malformed("\(name) must be a non-negative integer NumericDate")
            }
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }

        static func audience(_ value: JSONValue) throws(VerificationError) -> String {
            switch value {
            case .string(let audience) where !audience.isEmpty:
                return audience
            case .array(let audiences) where audiences.count == 1:
                guard let audience = audiences[0].stringValue, !audience.isEmpty else {
                    throw .malformed("aud must be a non-empty string")
                }
                return audience
            case .array(let audiences) where audiences.count > 1:
                throw .wrongAudience("the token names \(audiences.count) audiences; this profile allows exactly one")
            default:
                throw .malformed("aud must be a non-empty string")
            }
        }

        static func actors(_ value: JSONValue) throws(VerificationError) -> [SPIFFEID] {
            var chain: [SPIFFEID] = []
            var next: JSONValue? = value
            while let actor = next {
                guard chain.count < AccessTokenClaims.maximumActorDepth else {
                    throw .malformed("act is nested too deeply")
                }
                guard let entry = actor.objectValue, let sub = entry["sub"]?.stringValue,
                    let workload = try? SPIFFEID(sub)
                else { throw .malformed("every act entry needs a SPIFFE ID sub") }
                chain.append(workload)
                next = entry["act"]
            }
            return chain
        }
    }
}
