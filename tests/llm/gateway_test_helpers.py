"""Helpers shared by the gateway tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deepcode_tui.config.settings import Settings


def settings_for(model: str | None = None, **models: Any) -> Settings:
    data: dict[str, Any] = {"default": model, **models}
    return Settings(models={k: v for k, v in data.items() if v is not None})


class Events:
    def __init__(self) -> None:
        self.items: list[Any] = []

    async def __call__(self, event: Any) -> Any:
        self.items.append(event)
        return event

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.items if e.type == kind]

    def types(self) -> list[str]:
        return [e.type for e in self.items]


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def read_calls(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "llm" / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- a fake OpenAI-compatible HTTP server (exercises litellm's real HTTP path) -------


def ok_reply(text: str = "ok", prompt_tokens: int = 10, completion_tokens: int = 5) -> dict[str, Any]:
    return {"kind": "ok", "text": text, "usage": (prompt_tokens, completion_tokens)}


def raw_reply(status: int, body: str, content_type: str = "application/json") -> dict[str, Any]:
    return {"kind": "raw", "status": status, "body": body, "content_type": content_type}


class FakeOpenAI:
    def __init__(self) -> None:
        self.replies: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                fake.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("authorization")}
                )
                reply = (
                    fake.replies.popleft()
                    if fake.replies
                    else raw_reply(500, '{"error": {"message": "no reply"}}')
                )
                if reply["kind"] == "raw":
                    data = reply["body"].encode()
                    self.send_response(reply["status"])
                    self.send_header("content-type", reply["content_type"])
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                p, c = reply["usage"]
                usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    words = reply["text"].split(" ")
                    for i, w in enumerate(words):
                        piece = w if i == len(words) - 1 else w + " "
                        chunk = {
                            "id": "x",
                            "object": "chat.completion.chunk",
                            "created": 1,
                            "model": body["model"],
                            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                        }
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    end = {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "created": 1,
                        "model": body["model"],
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    }
                    self.wfile.write(f"data: {json.dumps(end)}\n\n".encode())
                    if (body.get("stream_options") or {}).get("include_usage"):
                        last = {
                            "id": "x",
                            "object": "chat.completion.chunk",
                            "created": 1,
                            "model": body["model"],
                            "choices": [],
                            "usage": usage,
                        }
                        self.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                data = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 1, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply["text"]},
                                 "finish_reason": "stop"}],
                    "usage": usage,
                }).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
