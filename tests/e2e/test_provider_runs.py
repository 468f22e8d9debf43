"""The whole example run through litellm's real provider adapters, against provider stubs.

`deepcode-tui run examples/ema-anomaly.md --yes` in a child process, configured as a
user with a key would configure it (``openai/gpt-4.1``, ``anthropic/claude-sonnet-4-5``,
or a local OpenAI-compatible server), with the endpoint at a stub on 127.0.0.1
that plays the capable model of tests/stubs/ema.py. Every call streams; the agents
use native tool calls (or the JSON action protocol on the compatible server), the
planner native structured output (or JSON in the prompt), and the run must end
passed with the cost litellm's local price table gives for the usage the stub sent.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from deepcode_tui.store.catalog import summarize_run
from deepcode_tui.store.eventlog import read_log
from tests.e2e.scripted_run import project_files, repo_files
from tests.stubs.ema import ema_model
from tests.stubs.faults import SILENT
from tests.stubs.runs import run_example
from tests.stubs.server import ProviderStub

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.timeout(900)]
PRICED = {"openai": "gpt-4.1", "anthropic": "claude-sonnet-4-5"}


def _sandbox_or_skip() -> None:
    from deepcode_tui.errors import SandboxError
    from deepcode_tui.verify.sandbox import choose_backend

    try:
        choose_backend("auto")
    except SandboxError as exc:
        pytest.skip(f"no sandbox backend here: {exc.one_line()}")


FAMILIES = ["anthropic", "openai", "compatible"]


@pytest.fixture(scope="module")
def all_runs(tmp_path_factory):
    """The three runs at once (each its own child process and stub): the wall time of one."""
    _sandbox_or_skip()
    stubs = {f: ProviderStub(ema_model()) for f in FAMILIES}
    try:
        with ThreadPoolExecutor(len(FAMILIES)) as pool:
            futures = {
                f: pool.submit(run_example, f, stubs[f], tmp_path_factory.mktemp(f"runs-{f}"))
                for f in FAMILIES
            }
            return {f: (f, *futures[f].result(), stubs[f]) for f in FAMILIES}
    finally:
        for stub in stubs.values():
            stub.close()


@pytest.fixture(params=FAMILIES)
def family_run(request, all_runs):
    return all_runs[request.param]


def test_the_run_passes(family_run) -> None:
    _, proc, run_dir, _ = family_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "passed" in proc.stdout
    repo = run_dir / "repo"
    assert repo_files(repo) == project_files()
    events = read_log(run_dir / "events.jsonl").events
    assert [(e.iteration, e.passed) for e in events if e.type == "iteration_finished"] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    assert {e.agent for e in events if e.type == "section_read"} >= {"concept", "algorithm"}


def test_every_call_streamed_in_the_family_s_format(family_run) -> None:
    family, _, _, stub = family_run
    assert stub.log and all(e.stream and e.status == 200 for e in stub.log)
    assert {e.family for e in stub.log} == {"anthropic" if family == "anthropic" else "openai"}
    agents = [e.request for e in stub.log if "tool" in json.dumps(e.request.messages[0])]
    native = [r for r in agents if "tools" in r.params]
    if family == "compatible":  # unknown to litellm: JSON action protocol, JSON in the prompt
        assert not native and not any("response_format" in e.request.params for e in stub.log)
    else:
        assert native  # native tool calls ...
        assert any(m.get("role") == "tool" for r in agents for m in r.messages)  # ... and their results
        shapes = [
            e.request.params.get("response_format") or e.request.params.get("output_format") for e in stub.log
        ]
        assert any(shapes)  # the planner's native structured output


def test_usage_and_cost_are_what_the_provider_reported_at_litellm_s_prices(family_run) -> None:
    import litellm

    family, _, run_dir, stub = family_run
    calls = [json.loads(line) for line in (run_dir / "llm" / "calls.jsonl").read_text().splitlines()]
    prompt, completion = stub.billed()
    assert (
        sum(c["prompt_tokens"] for c in calls) == prompt
        and sum(c["completion_tokens"] for c in calls) == completion
    )
    assert not any(c["usage_estimated"] or c["error"] for c in calls)
    cost = sum(c["cost_usd"] for c in calls)
    if family in PRICED:
        price = litellm.model_cost[PRICED[family]]
        expected = prompt * price["input_cost_per_token"] + completion * price["output_cost_per_token"]
        assert cost == pytest.approx(expected, rel=1e-9) and cost > 0
    else:
        assert cost == 0.0  # a local server's model has no price


def test_a_silent_provider_ends_the_run_resumable_with_one_line(tmp_path) -> None:
    with ProviderStub(ema_model(), stall_s=60) as stub:
        stub.inject(*[SILENT] * 8)  # the two agents' first calls, each asked twice
        proc, run_dir = run_example(
            "anthropic", stub, tmp_path / "runs",
            settings={"DEEPCODE_MODELS__FIRST_BYTE_TIMEOUT_S": "2"}, timeout=120,
        )  # fmt: skip
    assert proc.returncode == 5 and "Traceback" not in proc.stderr
    [line] = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert "anthropic sent nothing for 2s (models.first_byte_timeout_s)" in line and "resume" in line
    summary = summarize_run(run_dir)
    assert summary.resumable and summary.status == "failed"
