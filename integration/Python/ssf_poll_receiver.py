"""A Shared Signals poll receiver in Python, written from OpenID SSF 1.0 and RFC 8936 (not from Writ's code): it
reads the transmitter's /.well-known/ssf-configuration, creates a poll stream with its own credential, then polls
until a session-revoked event arrives, checks the event (PyJWT: signature against the transmitter's jwks_uri,
typ secevent+jwt, iss, aud, no sub or exp, one event, sub_id present), acknowledges it, and prints one JSON line
per step.

    python3 ssf_poll_receiver.py ISSUER CREDENTIAL_FILE AUDIENCE_ID
"""

import json
import sys
import time

import jwt
import requests

ISSUER, CREDENTIAL_FILE, RECEIVER = sys.argv[1], sys.argv[2], sys.argv[3]
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


def say(**fields):
    print(json.dumps(fields), flush=True)


credential = open(CREDENTIAL_FILE).read().strip()
headers = {"Authorization": "Bearer " + credential}
configuration = requests.get(ISSUER + "/.well-known/ssf-configuration", timeout=10).json()
assert configuration["issuer"] == ISSUER, configuration
assert "urn:ietf:rfc:8936" in configuration["delivery_methods_supported"], configuration
anonymous = requests.post(configuration["configuration_endpoint"], json={}, timeout=10)
created = requests.post(
    configuration["configuration_endpoint"],
    headers=headers,
    json={"events_requested": [SESSION_REVOKED], "description": "python poll receiver"},
    timeout=10,
)
assert created.status_code == 201, created.text
stream = created.json()
assert stream["delivery"]["method"] == "urn:ietf:rfc:8936", stream
say(step="stream", stream_id=stream["stream_id"], anonymous=anonymous.status_code)

keys = jwt.PyJWKClient(configuration["jwks_uri"])
acknowledge = []
received = []
deadline = time.time() + 60
while time.time() < deadline:
    answer = requests.post(
        stream["delivery"]["endpoint_url"],
        headers=headers,
        json={"ack": acknowledge, "maxEvents": 10, "returnImmediately": False},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    acknowledge = []
    for jti, token in answer.json()["sets"].items():
        assert jwt.get_unverified_header(token)["typ"] == "secevent+jwt"
        key = keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=RECEIVER, issuer=ISSUER,
                            options={"require": ["iat", "jti"]})
        assert claims["jti"] == jti and "sub" not in claims and "exp" not in claims and "sub_id" in claims
        assert len(claims["events"]) == 1
        event_type = next(iter(claims["events"]))
        received.append({"jti": jti, "type": event_type, "txn": claims.get("txn"), "sub_id": claims["sub_id"]})
        acknowledge.append(jti)
    if any(event["type"] == SESSION_REVOKED for event in received):
        break
# The last acknowledgements, and nothing left afterwards.
final = requests.post(stream["delivery"]["endpoint_url"], headers=headers,
                      json={"ack": acknowledge, "returnImmediately": True}, timeout=30).json()
say(step="events", events=received, left=len(final["sets"]))
