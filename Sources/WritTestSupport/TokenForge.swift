public import Foundation
public import WritToken
public import WritVerifier

/// Builds valid and deliberately broken tokens and proofs for tests.
public struct TokenForge: Sendable {
    /// The broker's ES256 key.
    public let key: SigningKey
    /// A second, Ed25519 broker key.
    public let edKey: SigningKey
    /// An attacker's key, never configured in a verifier.
    public let attackerKey: SigningKey
    /// The holder's DPoP key.
    public let holderKey: PrivateKey

    /// Fresh keys for one test.
    public init() {
        key = SigningKey(id: "es-1", privateKey: .generate(.es256))
        edKey = SigningKey(id: "ed-1", privateKey: .generate(.edDSA))
        attackerKey = SigningKey(id: "es-1", privateKey: .generate(.es256))
        holderKey = .generate(.es256)
    }

    /// The verifier's key set: both broker keys.
    public var keySet: StaticKeySet { try! StaticKeySet([key.verificationKey, edKey.verificationKey]) }

    /// A verifier at ``TestIdentity/now`` for ``TestIdentity/audience``.
    public func verifier(
        revocations: any RevocationView = InMemoryRevocationView(),
        usage: UsageRecorder? = nil,
        configure: (inout TokenVerifier.Configuration) -> Void = { _ in }
    ) -> TokenVerifier {
        var configuration = TokenVerifier.Configuration(issuer: TestIdentity.issuer, audience: TestIdentity.audience)
        configure(&configuration)
        return TokenVerifier(
            configuration: configuration,
            keys: keySet,
            revocations: revocations,
            clock: FixedClock(TestIdentity.now),
            usage: usage
        )
    }

    /// A properly signed token.
    public func token(_ claims: AccessTokenClaims = TestIdentity.claims(), key: SigningKey? = nil) -> String {
        try! AccessToken.sign(claims, with: key ?? self.key)
    }

    /// A compact JWS from raw header and payload JSON text, signed by `signer` or carrying `signature`.
    public func raw(
        header: String,
        payload: String,
        signer: PrivateKey? = nil,
        signature: [UInt8]? = nil
    ) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let bytes = signature ?? (try! (signer ?? key.privateKey).signature(for: Array(input.utf8)))
        return input + "." + Base64URL.encode(bytes)
    }

    /// The compact payload JSON of a typical claim set, for editing as text.
    public func payloadText(_ claims: AccessTokenClaims = TestIdentity.claims()) -> String {
        JSONWriter.string(claims.json)
    }

    /// A typical ES256 header as text.
    public var headerText: String { #"{"alg":"ES256","kid":"es-1","typ":"at+jwt"}"# }

    /// A DPoP proof from the holder's key for a GET of the resource.
    public func proof(
        for token: String?,
        method: String = "GET",
        url: String = TestIdentity.audience + "/documents/hr/dept-42/handbook",
        key: PrivateKey? = nil,
        issuedAt: Date = TestIdentity.now,
        nonce: String? = nil
    ) -> String {
        try! DPoPProof.create(
            method: method,
            url: url,
            key: key ?? holderKey,
            accessToken: token,
            nonce: nonce,
            issuedAt: issuedAt
        )
    }

    /// The claims of a token bound to the holder's DPoP key.
    public var boundClaims: AccessTokenClaims {
        TestIdentity.claims(confirmation: .dpop(jwkThumbprint: holderKey.publicKey.thumbprint))
    }

    /// A request presenting a DPoP-bound token with a fresh proof.
    public func boundPresentation(token: String? = nil) -> Presentation {
        let token = token ?? self.token(boundClaims)
        return Presentation(
            authorization: "DPoP " + token,
            dpopProof: proof(for: token),
            method: "GET",
            url: TestIdentity.audience + "/documents/hr/dept-42/handbook"
        )
    }
}
