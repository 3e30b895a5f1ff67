"""A token taken from its agent, presented by someone else: PyJWT signs a DPoP proof (RFC 9449 §4.2) for the request
with a key of its own, made with `cryptography`, and `requests` sends the token with it. Prints one JSON object: the
status and the body of the answer.

    python3 other_key_proof.py URL TOKEN
"""

import base64
import hashlib
import json
import sys
import time
import uuid

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main(url, token):
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk = {"kty": "EC", "crv": "P-256", "x": public["x"], "y": public["y"]}
    claims = {
        "jti": str(uuid.uuid4()),
        "htm": "GET",
        "htu": url,
        "iat": int(time.time()),
        "ath": b64url(hashlib.sha256(token.encode()).digest()),
    }
    proof = jwt.encode(claims, key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": jwk})
    answer = requests.get(url, headers={"Authorization": "DPoP " + token, "DPoP": proof}, timeout=10)
    print(json.dumps({"status": answer.status_code, "body": answer.text}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
