"""The batch's parts that need no Ray: rate windows, budget, gate queue, scores, flags."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from deepcode_tui.batch.approvals import QueueGate, answer, pending_gates
from deepcode_tui.batch.grading import grade, mean_and_stderr
from deepcode_tui.batch.limits import SLOT_MARGIN_S, BatchBudget, RateBook
from deepcode_tui.batch.models import BatchLimits, RateLimit
from deepcode_tui.batch.task import needs_gpu
from deepcode_tui.errors import ConfigError, DeepcodeError
from deepcode_tui.pipeline.gate import GateDecision, GateRequest


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_requests_per_window_hold_for_callers_arriving_in_any_order() -> None:
    book = RateBook(BatchLimits(rates={"openai": RateLimit(requests=5)}, window_s=60))
    rng = random.Random(7)
    now, slots = 1000.0, []
    for _ in range(40):
        now += rng.uniform(0, 4)
        slots.append(book.reserve("openai", 100, now))
    assert _max_in_window(slots, 60) == 5
    assert slots == sorted(slots)  # served in the order they asked
    assert slots[-1] >= 1000 + 60 * (40 // 5 - 1)  # it really paced them


def test_tokens_per_window_and_settling_real_usage() -> None:
    book = RateBook(BatchLimits(rates={"*": RateLimit(tokens=1000)}, window_s=10))
    a = book.reserve("anthropic", 600, 0.0)
    b = book.reserve("anthropic", 600, 0.0)  # would make 1200: waits for a to leave the window
    assert a == 0.0 and b > 10.0
    book.settle("anthropic", b, 100)  # it used far less than estimated
    c = book.reserve("anthropic", 800, b)
    assert c == b  # 100 + 800 fits
    assert book.reserve("other", 5000, 3.0) == 3.0  # "*" applies per provider; one big call goes alone


def test_unlimited_provider_is_never_delayed() -> None:
    book = RateBook(BatchLimits(rates={"openai": RateLimit(requests=1)}))
    assert [book.reserve("scripted", 10, 5.0) for _ in range(50)] == [5.0] * 50


def test_batch_budget() -> None:
    budget = BatchBudget(BatchLimits(max_tokens=1000), spent_usd=0.0, spent_tokens=900)
    assert budget.exceeded() is None
    budget.add(0.0, 150)
    assert budget.exceeded() == ("tokens", 1000.0, 1050.0)


async def test_queue_gate_waits_for_an_answer_written_by_another_process(tmp_path: Path) -> None:
    (tmp_path / "approvals").mkdir()
    gate = QueueGate(tmp_path, "run-a", poll_s=0.02)
    req = GateRequest(gate="blueprint", prompt="approve?", artifact=str(tmp_path / "v1.yaml"))
    (tmp_path / "v1.yaml").write_text("files: []\n")
    waiting = asyncio.create_task(gate.request(req))
    for _ in range(100):
        if pending_gates(tmp_path):
            break
        await asyncio.sleep(0.02)
    (pending,) = pending_gates(tmp_path)
    assert pending.run_id == "run-a" and pending.gate == "blueprint" and not waiting.done()
    answer(tmp_path, "run", GateDecision(decision="edit"))  # a prefix names the run; edit reads the file
    decision = await asyncio.wait_for(waiting, 5)
    assert decision.decision == "edit" and decision.edited_text == "files: []\n"
    assert pending_gates(tmp_path) == [] and list((tmp_path / "approvals" / "done").iterdir())
    with pytest.raises(DeepcodeError, match="no run matching"):
        answer(tmp_path, "run-a", GateDecision(decision="approve"))


async def test_an_answer_to_an_earlier_version_is_not_taken_for_the_next(tmp_path: Path) -> None:
    (tmp_path / "approvals").mkdir()
    gate = QueueGate(tmp_path, "run-b", poll_s=0.02)
    first = GateRequest(gate="blueprint", prompt="?", artifact="v1.yaml")
    task = asyncio.create_task(gate.request(first))
    await asyncio.sleep(0.1)
    answer(tmp_path, "run-b", GateDecision(decision="reject", feedback="split the model"))
    assert (await asyncio.wait_for(task, 5)).feedback == "split the model"
    second = asyncio.create_task(gate.request(GateRequest(gate="blueprint", prompt="?", artifact="v2.yaml")))
    await asyncio.sleep(0.2)
    assert not second.done()
    answer(tmp_path, "run-b", GateDecision(decision="approve"))
    assert (await asyncio.wait_for(second, 5)).decision == "approve"


def test_mean_and_standard_error() -> None:
    assert mean_and_stderr([]) == (None, None)
    assert mean_and_stderr([0.5]) == (0.5, None)
    mean, se = mean_and_stderr([0.2, 0.4, 0.6])
    assert mean == pytest.approx(0.4) and se == pytest.approx(0.2 / 3**0.5)


def test_grading_says_why_when_there_is_no_grader_or_rubric(tmp_path: Path) -> None:
    score, note = grade(tmp_path, tmp_path, "ema-anomaly")
    assert score is None and note  # no grade module yet, or no rubric: a note, never an exception


@pytest.mark.parametrize(
    ("hardware", "gpu"),
    [("CPU is enough for the smoke test; paper used 8 P100 GPUs", False), ("needs one CUDA GPU", True),
     ("", False), ("a GPU with 16 GB", True), ("cpu-only", False)],
)
def test_needs_gpu(hardware: str, gpu: bool) -> None:
    assert needs_gpu(hardware) is gpu


def test_rate_flags() -> None:
    from deepcode_tui.batch.cli import _rates

    rates = _rates(("60", "openai=500"), ("anthropic=40000",))
    assert rates["*"].requests == 60 and rates["openai"].requests == 500 and rates["anthropic"].tokens == 40000
    with pytest.raises(ConfigError, match="--rpm"):
        _rates(("lots",), ())


def test_the_command_refuses_bad_input_in_one_line(tmp_path: Path, capsys) -> None:
    from deepcode_tui.cli import main

    for args, expected in (
        (["batch", "--batch-dir", str(tmp_path)], "no documents given"),
        (["batch", "--resume", "nope", "--batch-dir", str(tmp_path)], "no batch 'nope'"),
        (["batch", "approve", "nope", "--batch-dir", str(tmp_path)], "no batch 'nope'"),
        (["batch", "x.md", "--rpm", "0"], "--rpm '0' is not a positive number"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and expected in err and "Traceback" not in err, err


def test_a_list_file_names_documents_relative_to_itself(tmp_path: Path) -> None:
    from deepcode_tui.batch.cli import _docs

    (tmp_path / "list.txt").write_text("# papers\na.md\n\n/abs/b.pdf\n")
    assert _docs((Path("c.txt"),), tmp_path / "list.txt") == [Path("c.txt"), tmp_path / "a.md", Path("/abs/b.pdf")]


def test_the_grade_hook_calls_grade_run_with_the_documents_rubric(tmp_path: Path, monkeypatch) -> None:
    import sys
    import types

    seen: list[tuple[Path, Path]] = []
    fake = types.ModuleType("deepcode_tui.grade")

    def grade_run(run_dir: Path, rubric: Path):
        seen.append((run_dir, rubric))
        return {"score": 0.75}

    fake.grade_run = grade_run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "deepcode_tui.grade", fake)
    (tmp_path / "rubrics" / "ema-anomaly").mkdir(parents=True)
    assert grade(tmp_path / "run", tmp_path / "rubrics", "ema-anomaly") == (0.75, "")
    assert seen == [(tmp_path / "run", tmp_path / "rubrics" / "ema-anomaly")]
    score, note = grade(tmp_path / "run", tmp_path / "rubrics", "other")
    assert score is None and "no rubric" in note


def test_batch_approve_lists_and_answers_from_the_command_line(tmp_path: Path, capsys) -> None:
    from datetime import UTC, datetime

    from deepcode_tui.batch.approvals import PendingGate, QueuedDecision
    from deepcode_tui.batch.store import new_batch_dir
    from deepcode_tui.cli import main
    from deepcode_tui.store.atomic import write_json_atomic

    batch_dir = new_batch_dir(tmp_path)
    (batch_dir / "batch.json").write_text("{}")
    write_json_atomic(batch_dir / "approvals" / "run-x.json", PendingGate(
        run_id="run-x", gate="blueprint", prompt="approve?", artifact="/r/blueprint/v1.yaml", asked_at=datetime.now(UTC)))
    with pytest.raises(SystemExit) as listing:
        main(["batch", "approve", batch_dir.name, "--batch-dir", str(tmp_path)])
    assert listing.value.code == 0 and "run-x  blueprint  /r/blueprint/v1.yaml" in capsys.readouterr().out
    with pytest.raises(SystemExit) as answered:
        main(["batch", "approve", batch_dir.name, "run-x", "--reject", "use two files", "--batch-dir", str(tmp_path)])
    assert answered.value.code == 0
    queued = QueuedDecision.model_validate_json((batch_dir / "approvals" / "run-x.decision.json").read_text())
    assert queued.decision.decision == "reject" and queued.decision.feedback == "use two files"
    assert queued.artifact == "/r/blueprint/v1.yaml"


def test_the_reported_admission_times_keep_the_limit_at_their_precision() -> None:
    # limiter.json rounds each admission to the microsecond. A call arriving 0.4 µs after the
    # oldest of four left the window was admitted, and rounded the two read exactly one window
    # apart (1.050001 - 1.0 < 0.050001 in floating point): five calls "in" one second of four,
    # and a batch test failed on that now and then. A slot now leaves SLOT_MARGIN_S later.
    book = RateBook(BatchLimits(rates={"*": RateLimit(requests=4)}, window_s=1.0))
    for t in (0.0500008, 0.2, 0.3, 0.4):
        book.reserve("scripted", 10, t)
    fifth = book.reserve("scripted", 10, 1.0500012)
    assert fifth >= 0.0500008 + 1.0 + SLOT_MARGIN_S
    admitted = book.report(0.0)["scripted"]["admitted_s"]
    assert _max_in_window(admitted, 1.0) <= 4
