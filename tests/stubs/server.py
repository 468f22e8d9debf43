"""A provider stub on 127.0.0.1 speaking the OpenAI and Anthropic HTTP APIs.

    with ProviderStub(responder) as stub:           # responder: ScriptRequest -> ScriptedReply | str
        settings.models.api_base = stub.openai_base  # http://127.0.0.1:PORT/v1
        stub.inject("rate_limit", "stall")           # the next two requests misbehave
        ...
    stub.log                                         # one Exchange per request, what was sent

The replies come from ``responder`` (a replayable script of a capable model);
misbehaviour comes from ``inject`` (explicit, in order) or ``chooser`` (a
seeded draw, see :mod:`tests.stubs.faults`). Each request's reply is written
in the family's format, plain or as server-sent events, byte by byte as the
published API references show it.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from deepcode_tui.llm.scripted import ScriptedReply, ScriptRequest
from tests.stubs import faults as F
from tests.stubs.anthropic_wire import AnthropicWire
from tests.stubs.openai_wire import OpenAIWire
from tests.stubs.wire import Reply

Responder = Callable[[ScriptRequest], "ScriptedReply | str"]

HTML_500 = (
    "<!DOCTYPE html>\n<html>\n<head><title>500 Internal Server Error</title></head>\n"
    "<body>\n<center><h1>500 Internal Server Error</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
)


def wire_for(path: str) -> Any:
    """The wire format served at ``path`` (with or without the ``/v1`` prefix), or None."""
    clean = path.split("?", 1)[0].rstrip("/")
    for suffix, wire in (("/chat/completions", OpenAIWire), ("/messages", AnthropicWire)):
        if clean.endswith(suffix):
            return wire
    return None


# Events sent before a stream breaks or stalls: enough to carry the first text delta
# in both families (Anthropic opens with message_start, ping and content_block_start).
_BEGUN = 4


@dataclass
class Exchange:
    """One request the stub served and how."""

    family: str
    model: str
    stream: bool
    fault: str | None
    status: int
    prompt_tokens: int = 0  # billed: what the usage block said (0 when no reply was sent)
    completion_tokens: int = 0
    request: ScriptRequest | None = None


class ProviderStub:
    def __init__(
        self,
        responder: Responder,
        *,
        chooser: F.Chooser | None = None,
        retry_after: float = 1.0,
        stall_s: float = 30.0,
        keys: tuple[str, ...] = ("sk-stub-openai", "sk-ant-stub"),
    ) -> None:
        self.responder = responder
        self.chooser = chooser
        self.retry_after = retry_after
        self.stall_s = stall_s
        self.keys = keys
        self.queued: deque[str | None] = deque()
        self.log: list[Exchange] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                stub._serve(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up mid-reply (the point of some faults): not news

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="provider-stub", daemon=True)
        self._thread.start()

    # -- the outside ---------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base(self) -> str:
        return f"{self.base}/v1"

    def inject(self, *kinds: str | None) -> None:
        """The next requests play these faults, in order (None: behave)."""
        with self._lock:
            self.queued.extend(kinds)

    def billed(self) -> tuple[int, int]:
        """(prompt, completion) tokens the stub's usage blocks reported, over all requests."""
        return sum(e.prompt_tokens for e in self.log), sum(e.completion_tokens for e in self.log)

    def close(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request -----------------------------------------------------------------

    def _next_fault(self, request: ScriptRequest, reply: ScriptedReply) -> str | None:
        return self.chooser(request, reply) if self.chooser is not None else None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length) if length else b""
        wire = wire_for(h.path)
        if wire is None:
            return self._json(
                h, 404, {}, {"error": {"message": f"unknown path {h.path}", "type": "not_found"}}
            )
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._json(
                h, 400, {}, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}}
            )
        if not self._authorised(h, wire):
            status, payload = 401, (
                {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
                if wire is AnthropicWire
                else {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                "param": None, "code": "invalid_api_key"}}
            )  # fmt: skip
            return self._json(h, status, {}, payload)
        request = wire.read(body)
        with self._lock:
            queued = self.queued.popleft() if self.queued else "-"
        if queued in F.TRANSPORT or queued == F.SILENT:
            # The model never finishes a request the provider turned away: a queue script
            # keeps its place (what a broken stream had begun to say is only peeked at).
            peek = getattr(self.responder, "peek", None)
            scripted = peek(request) if peek is not None else ScriptedReply(text="(not generated)")
            scripted = ScriptedReply(text=scripted) if isinstance(scripted, str) else scripted
            fault = queued
        else:
            scripted = self.responder(request)
            scripted = ScriptedReply(text=scripted) if isinstance(scripted, str) else scripted
            fault = queued if queued != "-" else self._next_fault(request, scripted)
        with self._lock:
            self._ids += 1
            rid = f"stub{self._ids:05d}"
        entry = Exchange(wire.family, str(body.get("model", "")), request.stream, fault, 200, request=request)
        with self._lock:
            self.log.append(entry)
        prompt = wire.prompt_tokens(body)
        if fault in F.TRANSPORT or fault == F.SILENT:
            return self._misbehave(h, wire, body, fault, entry, scripted, prompt, rid)
        if fault in F.CONTENT:
            scripted = F.transform(fault, scripted)
        reply = Reply.of(scripted, prompt)
        if fault == "refusal":
            reply.refusal, reply.finish = F.REFUSAL, "refusal"
        entry.prompt_tokens, entry.completion_tokens = reply.prompt_tokens, reply.completion_tokens
        if request.stream:
            self._sse(h, wire.events(body, reply, rid))
        else:
            self._json(h, 200, {}, wire.body(body, reply, rid))

    def _authorised(self, h: BaseHTTPRequestHandler, wire: Any) -> bool:
        if wire is AnthropicWire:
            return h.headers.get("x-api-key") in self.keys and bool(h.headers.get("anthropic-version"))
        auth = h.headers.get("authorization") or ""
        return auth.removeprefix("Bearer ").strip() in self.keys

    def _misbehave(self, h, wire, body, fault, entry, scripted, prompt, rid) -> None:
        if fault == "rate_limit":
            status, headers, payload = wire.rate_limit(self.retry_after)
        elif fault == "overloaded":
            status, headers, payload = wire.overloaded()
        elif fault == "context_length":
            status, headers, payload = wire.context_length(prompt + 200_000)
        elif fault == "html_500":
            entry.status = 500
            return self._raw(h, 500, "text/html", HTML_500.encode())
        else:  # reset, stall, silent
            reply = Reply.of(scripted, prompt)
            frames = wire.events(body, reply, rid) if entry.stream else []
            if fault == "silent":
                entry.status = 0
                return self._hold(h)
            if fault == "stall" and entry.stream:
                entry.status = 0
                self._start_sse(h)
                self._chunk(h, b"".join(frames[:_BEGUN]))
                return self._hold(h)
            entry.status = 0
            if entry.stream:  # reset: after a few events; without a stream, before any byte
                self._start_sse(h)
                self._chunk(h, b"".join(frames[:_BEGUN]))
            if fault == "stall":
                return self._hold(h)
            return self._reset(h)
        entry.status = status
        self._json(h, status, headers, payload)

    # -- bytes on the wire -----------------------------------------------------------

    @staticmethod
    def _raw(
        h: BaseHTTPRequestHandler, status: int, ctype: str, data: bytes, headers: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        h.send_header("content-type", ctype)
        h.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()

    def _json(
        self, h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: dict[str, Any]
    ) -> None:
        self._raw(h, status, "application/json", json.dumps(payload).encode(), headers)

    @staticmethod
    def _start_sse(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("content-type", "text/event-stream; charset=utf-8")
        h.send_header("cache-control", "no-cache")
        h.send_header("transfer-encoding", "chunked")
        h.end_headers()
        h.wfile.flush()

    @staticmethod
    def _chunk(h: BaseHTTPRequestHandler, data: bytes) -> None:
        if data:
            h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            h.wfile.flush()

    def _sse(self, h: BaseHTTPRequestHandler, frames: list[bytes]) -> None:
        self._start_sse(h)
        try:
            for frame in frames:
                self._chunk(h, frame)
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _hold(self, h: BaseHTTPRequestHandler) -> None:
        """Say nothing more until ``stall_s`` passes or the stub closes, then drop the connection."""
        until = time.monotonic() + self.stall_s
        while time.monotonic() < until and not self._stop.is_set():
            time.sleep(0.02)
        self._reset(h)

    @staticmethod
    def _reset(h: BaseHTTPRequestHandler) -> None:
        # SO_LINGER 0: close() sends RST, as a crashed proxy or a dropped route does.
        try:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
        except OSError:
            pass
        h.close_connection = True


class Queue:
    """A responder that gives ``replies`` in order (then the last one again): for short scripts."""

    def __init__(self, *replies: ScriptedReply | str) -> None:
        self.replies = list(replies)
        self.requests: list[ScriptRequest] = []
        self._lock = threading.Lock()

    def __call__(self, request: ScriptRequest) -> ScriptedReply | str:
        with self._lock:
            self.requests.append(request)
            return self.replies[min(len(self.requests), len(self.replies)) - 1]

    def peek(self, request: ScriptRequest) -> ScriptedReply | str:
        """The reply the next request would get, without using it up."""
        with self._lock:
            return self.replies[min(len(self.requests) + 1, len(self.replies)) - 1]
