"""The rollup and Code-Dev pruning against PaperBench's rule, computed here independently
over the raw rubric JSON of all thirteen corpus rubrics."""

from __future__ import annotations

import json
import random

import pytest

from deepcode_tui.errors import InputError
from deepcode_tui.grade.rollup import LeafGrade, build_graded_tree
from deepcode_tui.grade.rubric import TaskNode, code_only, load_rubric, path_key, rubric_from_data


def corpus_rubrics(corpus_dir):
    paths = sorted(corpus_dir.glob("papers/*/rubric.json"))
    assert len(paths) == 13
    return paths


def reference_scores(node: dict, leaf_score, path=()) -> tuple[float, list]:
    """PaperBench: a leaf's own score; an internal node's is the weighted mean of its
    children (0 when their weights sum to 0). Returns (score, nested children scores)."""
    if not node["sub_tasks"]:
        return leaf_score[path], []
    kids = [reference_scores(c, leaf_score, (*path, i)) for i, c in enumerate(node["sub_tasks"])]
    total = sum(c["weight"] for c in node["sub_tasks"])
    score = 0.0 if total == 0 else sum(k[0] * c["weight"] for k, c in zip(kids, node["sub_tasks"])) / total
    return score, kids


def reference_code_only(node: dict) -> dict | None:
    if not node["sub_tasks"]:
        return node if node["task_category"] == "Code Development" else None
    kept = [k for k in (reference_code_only(c) for c in node["sub_tasks"]) if k is not None]
    return {**node, "sub_tasks": kept} if kept else None


def leaf_paths(node: dict, path=()):
    if not node["sub_tasks"]:
        yield path, node["id"]
    for i, c in enumerate(node["sub_tasks"]):
        yield from leaf_paths(c, (*path, i))


def compare(graded, ref) -> int:
    """Every node's score equals the reference; returns how many nodes were compared."""
    score, kids = ref
    assert graded.score == pytest.approx(score, abs=1e-12), graded.id
    assert len(graded.sub_tasks) == len(kids)
    return 1 + sum(compare(g, k) for g, k in zip(graded.sub_tasks, kids))


@pytest.mark.parametrize("mode", ["full", "code-only"])
def test_every_node_matches_paperbench_on_all_corpus_rubrics(corpus_dir, mode) -> None:
    rng = random.Random(16)
    for path in corpus_rubrics(corpus_dir):
        raw = json.loads(path.read_text())
        rubric = load_rubric(path)
        if mode == "code-only":
            raw = reference_code_only(raw)
            rubric = code_only(rubric)
            assert raw is not None
        scores = {}
        for lp, _ in leaf_paths(raw):
            scores[lp] = float(rng.random() < 0.5)
        grades = {
            path_key(p): LeafGrade(path=path_key(p), id=n.id, score=scores[p], valid_score=True, explanation="x")
            for p, n in rubric.leaves()
        }
        tree = build_graded_tree(rubric, grades)
        ref = reference_scores(raw, scores)
        compared = compare(tree, ref)
        assert compared == sum(1 for _ in rubric.walk())
        assert tree.to_dict()["score"] == pytest.approx(ref[0], abs=1e-12)


def test_code_only_keeps_exactly_paperbench_leaf_set(corpus_dir) -> None:
    for path in corpus_rubrics(corpus_dir):
        raw = json.loads(path.read_text())
        ours = [(p, n.id) for p, n in code_only(load_rubric(path)).leaves()]
        theirs = list(leaf_paths(reference_code_only(raw)))
        assert ours == theirs, path.parent.name
        assert all(n.task_category == "Code Development" for _, n in code_only(load_rubric(path)).leaves())
        # Weights are kept, not renormalised.
        kept = code_only(load_rubric(path))
        assert kept.weight == raw["weight"]


def test_zero_total_weight_scores_zero_and_validity_needs_every_child() -> None:
    rubric = rubric_from_data({
        "id": "r", "requirements": "root", "weight": 1, "sub_tasks": [
            {"id": "a", "requirements": "A", "weight": 0, "sub_tasks": [
                {"id": "a1", "requirements": "A1", "weight": 0, "sub_tasks": [], "task_category": "Code Development"}]},
            {"id": "b", "requirements": "B", "weight": 3, "sub_tasks": [], "task_category": "Code Development"},
            {"id": "c", "requirements": "C", "weight": 1, "sub_tasks": [], "task_category": "Code Execution"},
        ]})  # fmt: skip
    grades = {
        "0.0": LeafGrade(path="0.0", id="a1", score=1, valid_score=True, explanation=""),
        "1": LeafGrade(path="1", id="b", score=1, valid_score=True, explanation=""),
        "2": LeafGrade(path="2", id="c", score=0, valid_score=False, explanation="flagged"),
    }
    tree = build_graded_tree(rubric, grades)
    assert tree.sub_tasks[0].score == 0.0  # children's weights sum to zero
    assert tree.score == pytest.approx((0 * 0 + 1 * 3 + 0 * 1) / 4)
    assert tree.valid_score is False and tree.sub_tasks[1].valid_score is True
    assert tree.explanation == "Aggregated score from sub-tasks."
    # A leaf nobody graded scores 0 and is invalid.
    partial = build_graded_tree(rubric, {})
    assert partial.score == 0 and partial.sub_tasks[1].explanation == "not yet graded"


def test_a_rubric_without_code_leaves_becomes_one_code_leaf() -> None:
    rubric = rubric_from_data({"id": "r", "requirements": "root", "weight": 1, "sub_tasks": [
        {"id": "x", "requirements": "X", "weight": 1, "sub_tasks": [], "task_category": "Result Analysis"}]})
    pruned = code_only(rubric)
    assert pruned.is_leaf() and pruned.task_category == "Code Development" and pruned.id == "r"


def test_graded_tree_uses_paperbench_field_names() -> None:
    rubric = TaskNode(id="r", requirements="R", weight=1, sub_tasks=(
        TaskNode(id="l", requirements="L", weight=2, task_category="Code Development"),))
    tree = build_graded_tree(rubric, {"0": LeafGrade(path="0", id="l", score=1, valid_score=True, explanation="e")})
    d = tree.to_dict()
    assert list(d) == ["id", "requirements", "weight", "score", "valid_score", "task_category", "explanation",
                       "judge_metadata", "sub_tasks"]
    assert d["weight"] == 1 and isinstance(d["weight"], int) and d["sub_tasks"][0]["score"] == 1


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"id": "r", "requirements": "R", "weight": 1, "sub_tasks": []}, "task_category"),
        ({"id": "r", "requirements": "R", "weight": -1, "sub_tasks": [], "task_category": "Code Development"}, "weight"),
        ({"id": "r", "requirements": "R", "weight": "heavy", "sub_tasks": [], "task_category": "Code Development"}, "weight"),
        ({"id": "r", "weight": 1, "sub_tasks": [], "task_category": "Code Development"}, "requirements"),
        ({"id": "r", "requirements": "R", "weight": 1, "task_category": "Code Development", "sub_tasks": [
            {"id": "c", "requirements": "C", "weight": 1, "sub_tasks": [], "task_category": "Code Development"}]},
         "internal node"),
    ],
)
def test_bad_rubrics_are_one_clear_error(data, expected) -> None:
    with pytest.raises(InputError) as err:
        rubric_from_data(data)
    assert expected in err.value.message and err.value.fix


def test_unreadable_rubric_files(tmp_path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_rubric(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_rubric(tmp_path / "missing.json")
    with pytest.raises(InputError, match="does not exist or is not a file"):
        load_rubric(tmp_path)


def test_prior_nodes_follow_paperbench() -> None:
    # A -> (B -> D, E), (C -> F, G): the context of G is A, B, C, F.
    leaf = lambda i: {"id": i, "requirements": i, "weight": 1, "sub_tasks": [], "task_category": "Code Development"}
    tree = rubric_from_data({"id": "A", "requirements": "A", "weight": 1, "sub_tasks": [
        {"id": "B", "requirements": "B", "weight": 1, "sub_tasks": [leaf("D"), leaf("E")]},
        {"id": "C", "requirements": "C", "weight": 1, "sub_tasks": [leaf("F"), leaf("G")]}]})
    assert [n.id for n in tree.prior_nodes((1, 1))] == ["A", "B", "C", "F"]
    assert tree.prior_nodes(()) == []
