"""An unmodified MCP client (the Python `mcp` SDK's private-key-JWT provider) against a Writ-protected MCP server.

It discovers the server's protected-resource metadata from the 401, the broker from that, gets a token with the
workload's identity JWT as client assertion, and calls tools. Each outcome is printed as one JSON line. After the
first calls it prints {"step": "waiting"} and waits for the file GO_FILE to exist (the test revokes the workload
meanwhile), then calls a tool once more.

    python3 mcp_client.py MCP_URL BROKER_ISSUER CLIENT_ID ASSERTION_FILE GO_FILE
"""

import asyncio
import json
import os
import sys

import httpx2
from mcp import Client
from mcp.client.auth.extensions.client_credentials import PrivateKeyJWTOAuthProvider, static_assertion_provider
from mcp.client.streamable_http import streamable_http_client


class MemoryStorage:
    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, info):
        self.client = info


def say(**fields):
    print(json.dumps(fields), flush=True)


def text(result):
    return "\n".join(getattr(part, "text", "") for part in result.content)


def leaves(group):
    """The exceptions inside (nested) exception groups."""
    if isinstance(group, BaseExceptionGroup):
        return [leaf for inner in group.exceptions for leaf in leaves(inner)]
    return [group]


async def main(url, issuer, client_id, assertion_file, go_file):
    assertion = open(assertion_file).read().strip()
    auth = PrivateKeyJWTOAuthProvider(
        server_url=url,
        storage=MemoryStorage(),
        client_id=client_id,
        assertion_provider=static_assertion_provider(assertion),
        issuer=issuer,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            tools = await client.list_tools()
            say(step="list", tools=sorted(tool.name for tool in tools.tools))
            found = await client.call_tool("search", {"query": "refunds"})
            say(step="search", error=bool(found.is_error), text=text(found))
            read = await client.call_tool("read_document", {"id": "public/faq/refunds"})
            say(step="read", error=bool(read.is_error), text=text(read))
            try:
                sent = await client.call_tool("send_email", {"to": "a@example.org", "subject": "s", "body": "b"})
                say(step="email", refused=bool(sent.is_error), detail=text(sent))
            except Exception as error:
                say(step="email", refused=True, detail=f"{type(error).__name__}: {error}")
            say(step="waiting")
            while not os.path.exists(go_file):
                await asyncio.sleep(0.05)
            try:
                again = await client.call_tool("search", {"query": "refunds"})
                say(step="after-revocation", refused=bool(again.is_error), detail=text(again))
            except Exception as error:
                say(step="after-revocation", refused=True, detail=f"{type(error).__name__}: {error}")


if __name__ == "__main__":
    try:
        asyncio.run(main(*sys.argv[1:6]))
    except BaseException as group:
        # Errors raised while the client closes come wrapped in exception groups; the last step printed says
        # what happened, and this says why the client stopped.
        for leaf in leaves(group):
            say(step="stopped", detail=f"{type(leaf).__name__}: {leaf}")
        sys.exit(1)
