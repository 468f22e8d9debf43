"""Relationship mapping between retrieved reference code and blueprint files."""

from __future__ import annotations

import json

from deepcode_tui.rag.decide import FileNeed, gather_hits
from deepcode_tui.rag.mapping import RELATIONS_FILE, load_relations, relate, save_relations

ATTN = FileNeed(
    path="src/attention.py",
    purpose="Multi-head attention layer.",
    spec="Implements multi-head attention; normalise scores with torch.nn.functional.softmax.",
    symbols=["MultiHeadAttention"],
)


def test_relation_types_and_actionable_context(ref_index):
    rels = relate(ATTN, gather_hits(ATTN, ref_index))
    assert rels and all(r.target_file == "src/attention.py" for r in rels)
    assert [r.confidence for r in rels] == sorted((r.confidence for r in rels), reverse=True)
    assert all(0.0 <= r.confidence <= 1.0 for r in rels)
    by_symbol = {r.source_symbol: r for r in rels}
    api = by_symbol["scaled_dot_product_attention"]
    assert api.relation == "uses-api"
    assert any("F.softmax(scores, dim=-1)" in n for n in api.context.usage_notes)
    assert "def scaled_dot_product_attention" in api.context.snippet
    similar = by_symbol["MultiHeadAttention"]
    assert similar.relation == "implements-similar"
    assert similar.target_symbol == "MultiHeadAttention"
    assert any("closest to this file's `MultiHeadAttention`" in n for n in similar.context.usage_notes)
    src, tgt, kind, conf, ctx = similar.as_tuple()
    assert src.endswith(":model/attention.py") and tgt == "src/attention.py" and kind == "implements-similar"
    assert conf == similar.confidence and ctx.snippet


def test_module_hits_are_patterns(ref_index):
    hits = [h for h in ref_index.search("learning rate schedules module imports", k=10) if h.chunk.kind == "module"]
    rels = relate(FileNeed(path="train/lr.py", purpose="schedules"), hits[:1])
    assert rels[0].relation == "pattern"
    assert rels[0].target_symbol is None


def test_relations_saved_per_file_in_the_run(tmp_path, ref_index):
    run = tmp_path / "run"
    rels = relate(ATTN, gather_hits(ATTN, ref_index))
    path = save_relations(run, ATTN.path, rels)
    assert path == run / RELATIONS_FILE
    other = FileNeed(path="train/lr.py", purpose="warmup learning rate", symbols=["warmup"])
    save_relations(run, other.path, relate(other, gather_hits(other, ref_index)))
    data = json.loads(path.read_text())
    assert set(data["files"]) == {"src/attention.py", "train/lr.py"}
    first = data["files"]["src/attention.py"][0]
    assert {"source_file", "target_file", "relation", "confidence", "context"} <= first.keys()
    assert load_relations(run).files["src/attention.py"] == rels
    # Replacing one file's relations keeps the others; no temp files are left behind.
    save_relations(run, ATTN.path, [])
    loaded = load_relations(run)
    assert loaded.files["src/attention.py"] == [] and loaded.files["train/lr.py"]
    assert [p.name for p in path.parent.iterdir()] == ["relations.json"]


def test_damaged_relations_file_reads_as_empty(tmp_path):
    p = tmp_path / RELATIONS_FILE
    p.parent.mkdir(parents=True)
    p.write_text("{not json")
    assert load_relations(tmp_path).files == {}
