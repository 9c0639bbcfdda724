"""A local fake of an OpenAI-compatible chat-completions endpoint (what llama.cpp's
server, Ollama and vLLM speak): `POST {base}/chat/completions` with
`{model, messages, ...}` answers `{id, object: "chat.completion", created, model,
choices: [{index, message: {role: "assistant", content}, finish_reason}], usage}`.

A real HTTP server on 127.0.0.1 (stdlib ThreadingHTTPServer, OS-assigned port). The test
scripts the assistant's replies (`replies`, used in order; the last one repeats), can
require a bearer key, delay answers (for timeouts) or answer with an HTTP error, and reads
back every request it got (`requests`).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeChatCompletions:
    def __init__(self, replies: list[str] | None = None, *, key: str | None = None,
                 delay_s: float = 0.0, status: int = 200) -> None:  # fmt: skip
        self.replies = list(replies or ['{"view": "help"}'])
        self.key = key
        self.delay_s = delay_s
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:  # quiet
                return

            def _send(self, code: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                    return
                if fake.key is not None and self.headers.get("Authorization") != f"Bearer {fake.key}":
                    self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
                    return
                if not isinstance(body.get("messages"), list) or not body.get("model"):
                    self._send(400, {"error": {"message": "model and messages are required",
                                               "type": "invalid_request_error"}})  # fmt: skip
                    return
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                if fake.status != 200:
                    self._send(fake.status, {"error": {"message": "server error", "type": "server_error"}})
                    return
                self._send(200, {
                    "id": f"chatcmpl-{len(fake.requests)}", "object": "chat.completion",
                    "created": 1_780_000_000, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                })  # fmt: skip

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeChatCompletions:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
