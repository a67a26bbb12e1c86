"""The floor of the serving benchmark: a bare ASGI app answering a fixed prediction.

Served by the same uvicorn (httptools, uvloop) as ``mloop serve`` and loaded the same way,
it shows what the HTTP server, the load generator and the host cost on their own: the
latency no Python model server on this machine can go under at that rate.
"""

from __future__ import annotations

from typing import Any

_BODY = b'{"predictions": [0]}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_BODY))]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    message = await receive()
    while message.get("more_body", False):
        message = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
