"""The judge's replies, scripted: good, junk, truncated, wrong schema, refusal, empty."""

from __future__ import annotations

from deepcode_tui.grade.rubric import code_only
from deepcode_tui.llm.scripted import ScriptedReply
from tests.grade.helpers import judge_settings, leaf_of, run_grade, small_repo, small_rubric, verdict


def _by_leaf(behaviours: dict[str, list]):
    """A responder answering each leaf with its own queue of replies (the last one repeats)."""
    queues = {k: list(v) for k, v in behaviours.items()}
    calls: dict[str, int] = {}

    def respond(request):
        criterion = leaf_of(request)
        key = next(k for k in queues if k in criterion)
        calls[key] = calls.get(key, 0) + 1
        q = queues[key]
        return q.pop(0) if len(q) > 1 else q[0]

    respond.calls = calls  # type: ignore[attr-defined]
    return respond


def test_each_kind_of_reply_has_its_defined_outcome(tmp_path) -> None:
    truncated_ok = verdict(1)[:-1] + ', "extra": "the reply goes on and on'  # closable after "explanation"
    responder = _by_leaf({
        "exponential moving average": [verdict(1, "alpha update present")],  # good
        "z-score": ["Sure! Here is my verdict: it looks fine.", "still no json", "nope"],  # junk, stays junk
        "F1 is computed": [ScriptedReply(text=truncated_ok, finish_reason="length")],  # truncated but usable
        "matches the paper": [verdict(7), verdict(0, "no results table")],  # wrong schema, then repaired
    })
    settings = judge_settings(responder, tmp_path)
    repo = small_repo(tmp_path / "repo")
    (repo / "reproduce.sh").write_text("python -m emaz.evaluate\n")
    (repo / "reproduce.log").write_text("f1=0.8\n")
    (repo / "results.csv").write_text("f1\n0.8\n")
    result = run_grade(settings, repo, small_rubric(), tmp_path / "out")
    leaves = {n.id: n for n in result.tree.leaves()}
    assert leaves["ema"].score == 1 and leaves["ema"].valid_score
    assert "alpha update present" in leaves["ema"].explanation and "Expectations:" in leaves["ema"].explanation
    assert leaves["z"].score == 0 and not leaves["z"].valid_score
    assert "unusable after 3 attempts" in leaves["z"].explanation
    assert responder.calls["z-score"] == 3  # one call and two repair rounds, never more
    assert leaves["f1"].score == 1 and leaves["f1"].valid_score and responder.calls["F1 is computed"] == 1
    assert leaves["tab"].score == 0 and leaves["tab"].valid_score and responder.calls["matches the paper"] == 2
    out = result.output
    assert out["num_leaf_nodes"] == 4 and out["num_invalid_leaf_nodes"] == 1
    assert [f["id"] for f in out["deepcode"]["flagged"]] == ["z"]
    # root = (3 * mean(1, 0) + 1 * mean(1, 0)) / 4
    assert out["score"] == 0.5
    saved = (tmp_path / "out" / "grade.json").read_text()
    assert '"graded_task_tree"' in saved and '"valid_score"' in saved


def test_refusal_and_empty_replies_are_flagged_with_their_reason(tmp_path) -> None:
    responder = _by_leaf({
        "exponential moving average": ["I'm sorry, but I can't help with grading this."],
        "z-score": [""],
    })
    settings = judge_settings(responder, tmp_path)
    rubric = code_only(small_rubric())
    result = run_grade(settings, small_repo(tmp_path / "repo"), rubric, tmp_path / "out", code_only=True)
    leaves = {n.id: n for n in result.tree.leaves()}
    assert set(leaves) == {"ema", "z"}
    assert "refused" in leaves["ema"].explanation and "declined" in leaves["ema"].explanation
    assert "empty" in leaves["z"].explanation
    assert result.output["score"] == 0 and result.output["num_invalid_leaf_nodes"] == 2


def test_native_structured_output_is_used_when_the_model_has_it(tmp_path) -> None:
    seen = []

    def respond(request):
        seen.append(request.params.get("response_format"))
        return verdict(1)

    settings = judge_settings(respond, tmp_path, supports_response_schema=True)
    run_grade(settings, small_repo(tmp_path / "repo"), code_only(small_rubric()), tmp_path / "out", code_only=True)
    assert seen and all(rf and rf["json_schema"]["name"] == "JudgeVerdict" for rf in seen)


def test_code_dev_prompts_never_show_reproduce_files_and_results_leaves_need_touched_files(tmp_path) -> None:
    prompts = []

    def respond(request):
        prompts.append("\n".join(str(m.get("content")) for m in request.messages))
        return verdict(1)

    settings = judge_settings(respond, tmp_path)
    repo = small_repo(tmp_path / "repo")
    (repo / "reproduce.sh").write_text("echo hi\n")
    run_grade(settings, repo, code_only(small_rubric()), tmp_path / "cd", code_only=True)
    assert prompts and not any("<reproduce.sh>" in p for p in prompts)
    assert all("Code-Dev grading" in p for p in prompts)
    prompts.clear()
    # Full mode without reproduce.log: the results leaf scores 0 without a judge call.
    result = run_grade(settings, repo, small_rubric(), tmp_path / "full")
    tab = next(n for n in result.tree.leaves() if n.id == "tab")
    assert tab.score == 0 and tab.valid_score and "did not create or modify" in tab.explanation
    assert len(prompts) == 3 and all("<reproduce.sh>\necho hi" in p for p in prompts)
    assert sum("<reproduce.log>" in p for p in prompts) == 1  # the execution leaf only
