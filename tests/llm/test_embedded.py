"""The embedded default: a real llama.cpp server with SmolLM2-135M-Instruct."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from pydantic import BaseModel, Field

from deepcode_tui.config.settings import Settings
from deepcode_tui.errors import ProviderError
from deepcode_tui.llm import Gateway
from deepcode_tui.llm.embedded import EMBEDDED_NOTICE, EmbeddedServer, find_gguf, unavailable_reason

REASON = unavailable_reason()
needs_model = pytest.mark.skipif(REASON is not None, reason=f"embedded model not installed: {REASON}")


class Paper(BaseModel):
    title: str
    year: int = Field(ge=1900, le=2100)
    topics: list[str] = Field(max_length=4)


@pytest.mark.embedded
@needs_model
async def test_embedded_server_gives_a_schema_valid_structured_reply(events, run_dir):
    async with Gateway(Settings(), emit=events, run_dir=run_dir, environ={}) as gw:
        assert gw.resolve("analyst").embedded
        assert gw.notice == EMBEDDED_NOTICE
        paper = await gw.structured(
            "analyst",
            [{"role": "user", "content": "The paper 'Attention Is All You Need' (2017) introduced the "
                                         "Transformer for machine translation. Extract its metadata."}],
            Paper,
            name="metadata",
            max_repairs=0,  # schema-constrained decoding: valid on the first reply
        )  # fmt: skip
        assert isinstance(paper, Paper)
        pid = gw._embedded.proc.pid
        assert events.of("token_streamed")  # streamed from the local server
    # The app says plainly that the model is tiny, and how to configure a real one.
    [notice] = [e for e in events.of("log") if e.level == "warning"]
    assert "tiny" in notice.message and "models.default" in notice.message
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped with the gateway
    assert (run_dir / "llm" / "embedded-server.log").exists()


@pytest.mark.embedded
@needs_model
def test_embedded_server_context_manager_stops_the_process_group(tmp_path):
    with EmbeddedServer(log_path=tmp_path / "server.log") as server:
        pid = server.proc.pid
        assert server.api_base.startswith("http://127.0.0.1:")
        assert os.getpgid(pid) == pid  # its own process group, killed as a whole
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_gguf_is_found_inside_the_wheel_when_installed():
    path = find_gguf()
    if REASON is None:
        assert path is not None and path.suffix == ".gguf" and path.stat().st_size > 10_000_000


@pytest.mark.embedded
@needs_model
async def test_concurrent_streamed_calls_each_get_their_whole_reply(run_dir):
    # llama-cpp-python's server used to end a stream early (an empty reply) whenever
    # another request was waiting: two agents reading at once blanked every reply.
    async with Gateway(Settings(), run_dir=run_dir, environ={}) as gw:
        replies = await asyncio.gather(
            *(
                gw.complete("analyst", [{"role": "user", "content": f"Name three {thing}."}], max_tokens=24)
                for thing in ("colours", "animals", "rivers")
            )
        )
    assert all(r.text.strip() and r.usage.completion_tokens > 0 for r in replies)


def test_set_up_builds_the_embedded_model_only_for_commands_that_may_use_it(monkeypatch, tmp_path):
    from deepcode_tui.llm.embedded import embedded_needed

    monkeypatch.chdir(tmp_path)  # no deepcode.toml here; the user config is isolated
    assert embedded_needed(["run", "paper.md", "--yes"])
    assert not embedded_needed(["run", "paper.md", "--model", "openai/gpt-4.1"])
    assert not embedded_needed(["run", "paper.md", "--replay=tests/cassettes/ema-anomaly"])
    monkeypatch.setenv("DEEPCODE_MODELS__DEFAULT", "openai/gpt-4.1")
    assert not embedded_needed(["run", "paper.md"])
    monkeypatch.delenv("DEEPCODE_MODELS__DEFAULT")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert not embedded_needed([])
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    (tmp_path / "deepcode.toml").write_text("[models\n")  # broken: the command reports it, no build helps
    assert not embedded_needed([])


@pytest.mark.embedded
@needs_model
async def test_a_constrained_code_reply_is_one_closed_fenced_block(events, run_dir):
    from deepcode_tui.codegen.writer import extract_code
    from deepcode_tui.llm.grammar import code_reply_params

    async with Gateway(Settings(), emit=events, run_dir=run_dir, environ={}) as gw:
        params = code_reply_params(gw.profile(gw.resolve("coder")))
        assert params  # the embedded model decodes under grammars
        reply = await gw.complete(
            "coder",
            [{"role": "system", "content": "Reply with the file's code only."},
             {"role": "user", "content": "Write src/ema.py: a class EMA with update(x) returning the mean."}],
            name="codegen:src/ema.py", max_tokens=200, **params,
        )  # fmt: skip
    text = reply.text
    assert text.startswith("```"), text  # no prose, no echoed prompt before the code
    if reply.finish_reason != "length":  # a reply cut at the token cap cannot close its block
        assert text.rstrip().endswith("```") and text.count("```") == 2, text
        got = extract_code(text, "src/ema.py")
        assert got.code is not None or "empty" in (got.problem or ""), got  # never "truncated"


def test_only_grammar_models_get_the_code_grammar():
    from deepcode_tui.llm.cassette import ModelProfile
    from deepcode_tui.llm.grammar import CODE_REPLY_GBNF, code_reply_params

    assert code_reply_params(ModelProfile(structured="grammar")) == {
        "extra_body": {"grammar": CODE_REPLY_GBNF}
    }
    assert code_reply_params(ModelProfile(structured="native")) == {}
    assert code_reply_params(ModelProfile()) == {}


_CRASHING_SERVER = """
import http.server, json, os, signal, sys

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"object": "list", "data": [{"id": "m", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        # As llama.cpp's AMX kernel did: headers out, then the process dies mid-body.
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "1000")
        self.end_headers()
        self.wfile.write(b'{"id": ')
        self.wfile.flush()
        os.kill(os.getpid(), signal.SIGSEGV)

    def log_message(self, *a):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


@needs_model  # the gateway checks the embedded model is installed before it starts one
async def test_a_crashing_embedded_server_is_named_as_a_crash_not_the_network(events, run_dir, monkeypatch):
    """The server dying on every request (a native crash in llama.cpp) ends the call after two
    crashes with one message naming the signal and the rebuild; it said "check the network"."""
    script = run_dir / "crashing_server.py"
    script.write_text(_CRASHING_SERVER)
    monkeypatch.setattr(EmbeddedServer, "command", lambda self, gguf: [sys.executable, str(script), str(self.port)])
    async def no_wait(_s: float) -> None:
        return None

    async with Gateway(Settings(), emit=events, run_dir=run_dir, environ={}, sleep=no_wait) as gw:
        with pytest.raises(ProviderError) as caught:
            await gw.complete("coder", [{"role": "user", "content": "hello"}], name="probe")
    err = caught.value
    assert "crashed (signal SIGSEGV)" in str(err) and "'probe'" in str(err) and "2 times" in str(err)
    assert "network" not in str(err) and "bootstrap.sh" in err.fix
    retries = [e for e in events.of("log") if "retry" in e.message]
    assert len(retries) == 1  # one restart, then the second crash ends it


def test_the_set_up_check_reports_a_model_that_crashes_with_its_signal(monkeypatch):
    from deepcode_tui.llm import embedded_check

    monkeypatch.setattr(embedded_check, "unavailable_reason", lambda: None)
    monkeypatch.setattr(embedded_check, "_ONE_TOKEN", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert embedded_check.check() == "the model crashed on its first token (signal SIGSEGV)"
    monkeypatch.setattr(embedded_check, "_ONE_TOKEN", "print('ok')")
    assert embedded_check.check() is None


# A server that, like llama.cpp's, works on one request at a time and queues the others:
# each reply's first byte leaves the given seconds (argv[2]) after the server starts on it.
_QUEUEING_SERVER = """
import http.server, json, sys, time

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def _send(self, payload):
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send({"object": "list", "data": [{"id": "m", "object": "model"}]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        time.sleep(float(sys.argv[2]))
        self._send({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "queued and answered"}}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}})

    def log_message(self, *a):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


@needs_model  # the gateway checks the embedded model is installed before it starts one
async def test_calls_queued_on_the_embedded_server_count_their_silence_from_their_own_turn(run_dir, monkeypatch):
    """Three concurrent calls, each answered 1.2 s after the server takes it, against a 2 s
    bound and no retries: the third waited 2.4 s in the server's queue before its turn and
    timed out, although the server never failed (the blueprint's concurrent agents on the
    embedded model, on a slow machine). The gateway now sends them one at a time."""
    script = run_dir / "queueing_server.py"
    script.write_text(_QUEUEING_SERVER)
    monkeypatch.setattr(EmbeddedServer, "command",
                        lambda self, gguf: [sys.executable, str(script), str(self.port), "1.2"])
    settings = Settings(models={"max_retries": 0, "timeout_s": 2.0, "first_byte_timeout_s": 2.0})
    async with Gateway(settings, run_dir=run_dir, environ={}) as gw:
        replies = await asyncio.gather(*[
            gw.complete("coder", [{"role": "user", "content": f"call {n}"}], name=f"q{n}", stream=False)
            for n in range(3)])
    assert [r.text for r in replies] == ["queued and answered"] * 3
