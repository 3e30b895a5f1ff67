#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus: tokens signed by the key embedded in FuzzAccessToken, proofs, and
fragments of the formats they parse. Run from FuzzTesting/ with the `cryptography` package installed."""
import base64, hashlib, json, os
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")

def sign(key, header: dict, payload: dict) -> str:
    text = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(json.dumps(payload, separators=(",", ":")).encode())
    r, s = decode_dss_signature(key.sign(text.encode(), ec.ECDSA(hashes.SHA256())))
    return text + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

source = open("Sources/FuzzAccessToken/main.swift").read()
pem = source[source.index("-----BEGIN"):source.index("-----END PRIVATE KEY-----") + 25]
pem = "\n".join(line.strip() for line in pem.splitlines())
key = serialization.load_pem_private_key(pem.encode(), password=None)

claims = {
    "iss": "https://broker.writ.test", "sub": "alice@example.org", "aud": "https://docs.writ.test",
    "exp": 1800000300, "iat": 1799999990, "jti": "Zm9vYmFyYmF6cXV4cXV1eA", "client_id": "spiffe://example.org/agents/retrieval",
    "act": {"sub": "spiffe://example.org/agents/orchestrator", "act": {"sub": "spiffe://example.org/agents/root"}},
    "txn": "task-7f3a", "purp": "answer a question",
    "authorization_details": [{"type": "document", "actions": ["read"], "identifier": "hr/dept-42/*", "locations": ["https://docs.writ.test"]}],
    "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiGuA4I"}, "scope": "document:read",
}
header = {"alg": "ES256", "kid": "fuzz-es", "typ": "at+jwt"}
seeds = {
    "token-full": sign(key, header, claims),
    "token-bearer": sign(key, header, {k: v for k, v in claims.items() if k not in ("cnf", "act", "purp")}),
    "token-x5t": sign(key, header, {**claims, "cnf": {"x5t#S256": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiGuA4I"}}),
    "token-aud-array": sign(key, header, {**claims, "aud": ["https://docs.writ.test"]}),
    "token-nbf": sign(key, header, {**claims, "nbf": 1799999990}),
    "token-unknown-kid": sign(key, {**header, "kid": "nope"}, claims),
    "claims-json": json.dumps(claims),
    "revocation-json": json.dumps({"seq": 3, "kind": "issued_before", "before": 1800000000, "workload": "spiffe://example.org/a", "revoked_at": 1800000000, "retain_until": 1800000600}),
    "jwks-json": json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "kid": "a", "alg": "ES256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}),
    "spiffe-id": "spiffe://example.org/ns/default/sa/agent",
}
os.makedirs("Corpus/AccessToken", exist_ok=True)
for name, text in seeds.items():
    open(f"Corpus/AccessToken/{name}", "w").write(text)

proof_key = ec.generate_private_key(ec.SECP256R1())
numbers = proof_key.public_key().public_numbers()
jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}
proof_header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
ath = b64(hashlib.sha256(b"token").digest())
proofs = {
    "proof-rfc9449": "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg",
    "proof-get": sign(proof_key, proof_header, {"jti": "p1", "htm": "GET", "htu": "https://docs.writ.test/documents/1", "iat": 1800000000, "ath": ath, "nonce": "n"}),
    "uri": "HTTPS://Docs.Writ.Test:443/a/./b/../%7ec?q#f",
}
os.makedirs("Corpus/DPoPProof", exist_ok=True)
for name, text in proofs.items():
    open(f"Corpus/DPoPProof/{name}", "w").write(text)
print("wrote", len(seeds) + len(proofs), "seeds")
