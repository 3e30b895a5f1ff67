"""A resource server in Python that checks Writ tokens with PyJWT and a Token Status List check written from
draft-ietf-oauth-status-list (sections 4, 5.1 and 8), not from Writ's code: it fetches the list a token's
`status.status_list.uri` names, checks the list token's `typ`, signature, `sub` and `exp`, inflates `lst` with
zlib, reads the token's bit, and caches the list for its `ttl`. Prints one JSON line per decision.

    python3 status_list_server.py ISSUER AUDIENCE PORT
"""

import base64
import json
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import requests

ISSUER, AUDIENCE, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
KEYS = jwt.PyJWKClient(ISSUER + "/.well-known/jwks.json", cache_keys=True, lifespan=60)
LISTS = {}
LOCK = threading.Lock()


def say(**fields):
    print(json.dumps(fields), flush=True)


def unpadded_base64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fetch_list(uri):
    """The Status List Token at `uri`, checked (section 8.3), as (bits, bytes, ttl)."""
    answer = requests.get(uri, headers={"Accept": "application/statuslist+jwt"}, timeout=5)
    answer.raise_for_status()
    if not answer.headers.get("Content-Type", "").startswith("application/statuslist+jwt"):
        raise ValueError("the status list is not application/statuslist+jwt")
    token = answer.text
    if jwt.get_unverified_header(token).get("typ") != "statuslist+jwt":
        raise ValueError("the status list's typ is not statuslist+jwt")
    key = KEYS.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["ES256"], options={"require": ["sub", "iat", "exp"], "verify_aud": False})
    if claims["sub"] != uri:
        raise ValueError("the status list's sub is not the URI it was fetched from")
    status_list = claims["status_list"]
    bits = status_list["bits"]
    if bits not in (1, 2, 4, 8):
        raise ValueError("status_list.bits must be 1, 2, 4 or 8")
    return bits, zlib.decompress(unpadded_base64url(status_list["lst"])), claims.get("ttl", 0)


def status(uri, index):
    """The status at `index` of the list at `uri`, from a copy at most its ttl old."""
    now = time.monotonic()
    with LOCK:
        cached = LISTS.get(uri)
    if cached is None or now >= cached[0]:
        bits, data, ttl = fetch_list(uri)
        cached = (now + ttl, bits, data)
        with LOCK:
            LISTS[uri] = cached
        say(step="fetched", uri=uri, ttl=ttl, size=len(data))
    _, bits, data = cached
    byte, offset = divmod(index * bits, 8)
    if byte >= len(data):
        raise ValueError("the index is outside the status list")
    return (data[byte] >> offset) & ((1 << bits) - 1)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            return self.answer(401, "invalid_request", "a bearer token is required")
        token = authorization[len("Bearer "):]
        try:
            if jwt.get_unverified_header(token).get("typ") != "at+jwt":
                raise ValueError("typ is not at+jwt")
            key = KEYS.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "iat", "jti"]})
            reference = claims["status"]["status_list"]
            value = status(reference["uri"], reference["idx"])
        except Exception as error:
            return self.answer(401, "invalid_token", str(error))
        if value != 0:
            return self.answer(401, "revoked", "the token's status is %d" % value, claims.get("txn"))
        return self.answer(200, "ok", "allowed", claims.get("txn"))

    def answer(self, code, outcome, detail, task=None):
        say(step="request", status=code, outcome=outcome, detail=detail, task=task)
        body = json.dumps({"outcome": outcome, "detail": detail}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
say(step="listening", port=PORT)
server.serve_forever()
