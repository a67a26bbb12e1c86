"""A fast OpenAI-compatible upstream for the gateway benchmarks: answers at once.

A bare asyncio protocol (uvloop when installed) that reads keep-alive HTTP/1.1 requests
and answers ``/v1/chat/completions`` and ``/v1/embeddings`` with a fixed body, so the
gateway, not the upstream, is what a benchmark measures.

    python benchmarks/genai/upstream.py --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import json

CHAT = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "bench-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paris."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
    }
).encode()
EMBED = json.dumps(
    {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
        "model": "bench-embed",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
).encode()
MODELS = json.dumps({"object": "list", "data": [{"id": "bench-model", "object": "model"}]}).encode()


def _response(body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


ANSWERS = {
    b"/v1/chat/completions": _response(CHAT),
    b"/v1/embeddings": _response(EMBED),
    b"/v1/models": _response(MODELS),
}
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"


class Upstream(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            path = head.split(b" ", 2)[1]
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(ANSWERS.get(path.split(b"?")[0], NOT_FOUND))


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Upstream, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
