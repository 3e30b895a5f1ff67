"""A Shared Signals push receiver in Python, written from OpenID SSF 1.0 and RFC 8935 (not from Writ's code): it
serves an endpoint with the standard library, creates a push stream naming it (with an Authorization header the
transmitter must send back), refuses the first delivery with 503 to see it retried, then takes events: checks
the media type, the header and the event (PyJWT against the transmitter's jwks_uri), answers 202, and prints one
JSON line per step until a session-revoked event arrives.

    python3 ssf_push_receiver.py ISSUER CREDENTIAL_FILE RECEIVER_ID PORT
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import requests

ISSUER, CREDENTIAL_FILE, RECEIVER, PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
SECRET = "Bearer push-secret-7f3a"
received = []
attempts = []
done = threading.Event()


def say(**fields):
    print(json.dumps(fields), flush=True)


configuration = requests.get(ISSUER + "/.well-known/ssf-configuration", timeout=10).json()
keys = jwt.PyJWKClient(configuration["jwks_uri"])


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        attempts.append(time.time())
        if len(attempts) == 1:
            return self.answer(503, None)
        if self.headers.get("Authorization") != SECRET:
            return self.answer(400, {"err": "authentication_failed", "description": "wrong Authorization"})
        if self.headers.get("Content-Type") != "application/secevent+jwt":
            return self.answer(400, {"err": "invalid_request", "description": "not application/secevent+jwt"})
        try:
            assert jwt.get_unverified_header(body)["typ"] == "secevent+jwt"
            key = keys.get_signing_key_from_jwt(body)
            claims = jwt.decode(body, key.key, algorithms=["ES256"], audience=RECEIVER, issuer=ISSUER,
                                options={"require": ["iat", "jti"]})
        except Exception as error:
            return self.answer(400, {"err": "invalid_key", "description": str(error)})
        event_type = next(iter(claims["events"]))
        received.append({"jti": claims["jti"], "type": event_type, "txn": claims.get("txn")})
        self.answer(202, None)
        if event_type == SESSION_REVOKED:
            done.set()

    def answer(self, code, body):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        if body is not None:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Language", "en")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *arguments):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
credential = open(CREDENTIAL_FILE).read().strip()
created = requests.post(
    configuration["configuration_endpoint"],
    headers={"Authorization": "Bearer " + credential},
    json={
        "events_requested": [SESSION_REVOKED],
        "delivery": {
            "method": "urn:ietf:rfc:8935",
            "endpoint_url": "http://127.0.0.1:%d/events" % PORT,
            "authorization_header": SECRET,
        },
    },
    timeout=10,
)
assert created.status_code == 201, created.text
stream = created.json()
assert "authorization_header" not in stream["delivery"], "the secret must not be shown again"
say(step="stream", stream_id=stream["stream_id"], method=stream["delivery"]["method"])
done.wait(60)
say(step="events", events=received, attempts=len(attempts),
    retried_after=(attempts[1] - attempts[0]) if len(attempts) > 1 else None)
server.shutdown()
