"""An httpx2 transport that calls the sandbox's ASGI app in-process (no socket).

Unlike a plain ASGI transport it behaves like a network on the edges the MCP server must handle:

* the client's read timeout (`request.extensions["timeout"]["read"]`) is enforced around the app
  call, so an injected "timeout" fault surfaces as httpx2.ReadTimeout just as over TCP;
* an injected connection reset (faults.InjectedReset) surfaces as httpx2.ReadError, or as
  httpx2.RemoteProtocolError when the handler had already run (`after=True`);
* the response body is whatever bytes the app sent, so an injected malformed body reaches the
  client's JSON decoder intact.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import cast

import anyio
import httpx2

from .faults import InjectedReset


class SandboxTransport(httpx2.AsyncBaseTransport):
    def __init__(self, app, *, client: tuple[str, int] = ("127.0.0.1", 40000)):
        self.app = app
        self.client = client

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        # An AsyncClient only hands its transport async request streams (httpx2's own ASGI transport
        # asserts the same); the cast tells the type checker without adding a runtime check.
        stream = cast(httpx2.AsyncByteStream, request.stream)
        body = b"".join([chunk async for chunk in stream])
        url = request.url
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": self.client,
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        }
        done = anyio.Event()
        sent_request = False

        async def receive():
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def send(message):
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or [])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            with anyio.fail_after(timeout) if timeout else nullcontext():
                await self.app(scope, receive, send)
        except TimeoutError:
            raise httpx2.ReadTimeout("sandbox: read timed out", request=request) from None
        except InjectedReset as exc:
            if exc.after:
                raise httpx2.RemoteProtocolError(
                    "sandbox: server disconnected without completing the response", request=request
                ) from None
            raise httpx2.ReadError("sandbox: connection reset by peer", request=request) from None
        finally:
            done.set()
        return httpx2.Response(status, headers=headers, content=b"".join(chunks), request=request)
