"""Authlib, unmodified, against the broker: the metadata passes its RFC 8414 validator; an OAuth2Session gets a
token for an implicit task by client_credentials with the workload's identity JWT as client assertion (a client
authentication method registered the way Authlib documents, no header set by hand); the resource server's session
introspects it; the agent's session revokes it (RFC 7009); PyJWT verifies the token against the JWKS. Around the
revocation it asks the MCP server (tools/list over HTTP) with the token. Prints one JSON object.

    python3 authlib_client.py BROKER MCP_URL AGENT_ID AGENT_JWT_FILE SERVER_ID SERVER_JWT_FILE
"""

import json
import sys
import time

import jwt
import requests
from authlib.common.urls import add_params_to_qs
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def workload_assertion(assertion):
    """Client authentication by the workload's identity JWT (RFC 7523 §2.2)."""

    def authenticate(client, method, uri, headers, body):
        body = add_params_to_qs(body or "", [("client_assertion_type", ASSERTION_TYPE), ("client_assertion", assertion)])
        return uri, headers, body

    return authenticate


def tools_list(mcp_url, token):
    answer = requests.post(
        mcp_url,
        headers={
            "Authorization": "Bearer " + token,
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        },
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        timeout=10,
    )
    return answer.status_code


def main(broker, mcp_url, agent_id, agent_file, server_id, server_file):
    out = {}
    metadata = requests.get(broker + "/.well-known/oauth-authorization-server", timeout=10).json()
    AuthorizationServerMetadata(metadata).validate()
    out["metadata_valid"] = True

    agent_jwt = open(agent_file).read().strip()
    agent = OAuth2Session(
        client_id=agent_id,
        token_endpoint_auth_method=workload_assertion(agent_jwt),
        revocation_endpoint_auth_method=workload_assertion(agent_jwt),
    )
    token = agent.fetch_token(
        metadata["token_endpoint"],
        grant_type="client_credentials",
        resource=mcp_url,
        authorization_details=json.dumps([{"type": "tool", "identifier": "search", "actions": ["call"]}]),
    )
    out["token_type"] = token["token_type"]
    out["details"] = token["authorization_details"]
    access = token["access_token"]

    server = OAuth2Session(client_id=server_id, token_endpoint_auth_method=workload_assertion(open(server_file).read().strip()))
    introspected = server.introspect_token(metadata["introspection_endpoint"], token=access).json()
    out["active"] = introspected.get("active")
    out["task"] = introspected.get("txn")

    keys = requests.get(metadata["jwks_uri"], timeout=10).json()["keys"]
    header = jwt.get_unverified_header(access)
    key = next(k for k in keys if k["kid"] == header["kid"])
    claims = jwt.decode(access, jwt.PyJWK(key).key, algorithms=[header["alg"]], audience=mcp_url, issuer=metadata["issuer"])
    out["pyjwt_txn"] = claims["txn"]

    out["mcp_before"] = tools_list(mcp_url, access)
    revoked = agent.revoke_token(metadata["revocation_endpoint"], token=access, token_type_hint="access_token")
    out["revoke_status"] = revoked.status_code
    out["active_after"] = server.introspect_token(metadata["introspection_endpoint"], token=access).json().get("active")
    # The MCP server learns of the revocation from the broker's feed, within its staleness bound.
    deadline = time.time() + 10
    status = tools_list(mcp_url, access)
    while status == 200 and time.time() < deadline:
        time.sleep(0.1)
        status = tools_list(mcp_url, access)
    out["mcp_after"] = status
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:7])
