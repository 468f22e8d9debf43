"""Adaptive retrieval: the per-file decision and the budget of the retrieved context."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepcode_tui.rag.decide import (
    FileNeed,
    apis_without_usage,
    context_budget,
    decide,
    format_context,
    gather_hits,
    retrieve_for,
)
from deepcode_tui.rag.index import CodeIndex
from deepcode_tui.tokens import count_tokens

THIN = FileNeed(
    path="model/attention.py",
    purpose="Multi-head attention layer.",
    spec="Implements multi-head attention as described in the paper.",
    symbols=["MultiHeadAttention"],
)

FULL = FileNeed(
    path="model/attention.py",
    purpose="Multi-head self-attention layer used by every encoder and decoder block.",
    symbols=["MultiHeadAttention", "MultiHeadAttention.forward"],
    dependencies=["model/config.py"],
    spec="""\
class MultiHeadAttention(d_model: int, num_heads: int)
    Raises ValueError when d_model is not divisible by num_heads. Creates
    self.qkv = torch.nn.Linear(d_model, 3 * d_model) and self.out = torch.nn.Linear(d_model, d_model).

forward(x: Tensor[batch, seq, d_model], mask: Tensor[batch, 1, seq, seq] | None = None) -> Tensor[batch, seq, d_model]
    1. q, k, v = self.qkv(x).chunk(3, dim=-1)
    2. reshape each to [batch, num_heads, seq, d_k] with d_k = d_model // num_heads
    3. scores = q @ k.transpose(-2, -1) / sqrt(d_k); where mask == 0 set scores to -1e9
    4. weights = softmax(scores, dim=-1); apply dropout(p=0.1) to weights during training
    5. heads = weights @ v; concatenate heads back to [batch, seq, d_model]
    6. return self.out(heads)
Edge cases: seq may be 1; mask may be None (no masking); keep dtype of x.
Test: for x of shape [2, 5, 16] with num_heads=4 the output shape is [2, 5, 16], and a
mask of all zeros except the diagonal makes each position attend only to itself.
""",
)


@pytest.fixture
def index(ref_index) -> CodeIndex:
    return ref_index


def test_thin_spec_triggers_retrieval(index):
    d = decide(THIN, index)
    assert d.retrieve
    assert "spec is thin" in d.reason
    assert d.signals["signature_coverage"] == 0 and d.signals["pseudocode"] is False
    assert d.need > 0.5


def test_full_spec_does_not_trigger_retrieval(index):
    d = decide(FULL, index)
    assert not d.retrieve, d.reason
    assert "detailed enough" in d.reason
    assert d.signals["signature_coverage"] == 1 and d.signals["pseudocode"] is True
    assert d.signals["apis_without_usage"] == ""  # torch.nn.Linear is shown being called
    assert d.need < decide(THIN, index).need


def test_api_named_without_usage_triggers_retrieval(index):
    spec = FULL.spec + "\nUse torch.nn.functional.scaled_dot_product_attention when it is available.\n"
    f = FULL.model_copy(update={"spec": spec})
    assert apis_without_usage(f) == ["torch.nn.functional.scaled_dot_product_attention"]
    d = decide(f, index)
    assert d.retrieve and "without usage: torch.nn.functional.scaled_dot_product_attention" in d.reason


def test_coder_request_forces_retrieval_and_trivial_files_skip(index):
    d = decide(FULL.model_copy(update={"request": "show how masking is applied"}), index)
    assert d.retrieve and "coder asked" in d.reason
    init = FileNeed(path="model/__init__.py", purpose="Package marker.", spec="")
    d = decide(init, index)
    assert not d.retrieve and "trivial" in d.reason


def test_no_references_means_no_retrieval(tmp_path):
    empty = CodeIndex(tmp_path / "empty", embedder=None)
    for d in (decide(THIN, empty), decide(THIN, None, references=False)):
        assert not d.retrieve and "no reference code" in d.reason


def test_file_need_adapts_planned_file_like_objects():
    from types import SimpleNamespace

    planned = SimpleNamespace(  # the shape of codegen.plan.PlannedFile
        path="train/schedule.py", purpose="LR schedule", spec="warmup then decay",
        symbols=["warmup_inverse_sqrt"], dependencies=["model/config.py"], consumers=["train/loop.py"],
        stage=2, language="python",
    )
    need = FileNeed.of(planned, request="need an example")
    # PlannedFile.symbols are names used from other files, not names this file defines.
    assert need.path == "train/schedule.py" and need.uses == ["warmup_inverse_sqrt"] and need.symbols == []
    assert need.request == "need an example" and need.language == "python"
    assert FileNeed.of({"path": "a.py", "spec": "x"}).spec == "x"


def test_retrieved_context_contains_the_relevant_code(index):
    text = retrieve_for(THIN, index, budget_tokens=3000)
    assert text.startswith("### ")  # blocks only: codegen adds the section heading
    assert "MultiHeadAttention" in text and "```python" in text
    assert count_tokens(text) <= 3000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budget=st.integers(min_value=-5, max_value=1500))
def test_retrieved_context_respects_its_budget(index, budget):
    hits = gather_hits(THIN, index)
    text = format_context(hits, index, budget)
    assert count_tokens(text) <= max(budget, 0)
    if text:
        assert text.count("```") % 2 == 0  # a cut block still closes its fence


def test_budget_edges(index):
    assert retrieve_for(THIN, index, 0) == ""
    assert retrieve_for(THIN, index, 5) == ""  # not even a block's header fits
    small = retrieve_for(THIN, index, 120)
    assert small and count_tokens(small) <= 120
    assert context_budget(8000, 2000) == 1500
    assert context_budget(8000, 9000) == 0
    assert context_budget(100_000, 0) == 4000


def test_own_names_are_read_from_spec_signatures(index):
    undeclared = FULL.model_copy(update={"symbols": []})
    from deepcode_tui.rag.decide import defined_names

    assert defined_names(undeclared)[:2] == ["MultiHeadAttention", "forward"]
    assert not decide(undeclared, index).retrieve


def test_real_planned_file_is_adapted(index):
    plan = pytest.importorskip("deepcode_tui.codegen.plan")
    thin = plan.PlannedFile(path="model/attention.py", purpose="Multi-head attention layer.",
                            symbols=["ModelConfig"], dependencies=["model/config.py"])
    need = FileNeed.of(thin)
    assert need.uses == ["ModelConfig"] and need.dependencies == ["model/config.py"]
    assert decide(need, index).retrieve
    full = plan.PlannedFile(path="model/attention.py", purpose=FULL.purpose, spec=FULL.spec,
                            symbols=["ModelConfig"])
    assert not decide(FileNeed.of(full), index).retrieve


def test_prose_is_not_mistaken_for_signatures_or_pseudocode():
    prose = FileNeed(path="data/loader.py", purpose="Load the WMT data.",
                     spec="Read the corpus, normalise it (see Sec. 3): then return the batches until done.")
    s = decide(prose).signals
    assert s["signature_coverage"] == 0 and s["pseudocode"] is False
    assert decide(prose).retrieve


def test_complex_file_without_pseudocode_retrieves(index):
    sigs = "\n".join(f"def step_{i}(graph: Graph, beam: int) -> list[Path]: search the graph with a beam"
                     for i in range(6))
    f = FileNeed(path="search/beam.py", purpose="Beam search decoding over a lattice graph with caching.",
                 spec=sigs + "\nEach function is documented with its contract and its invariants in detail; "
                 * 3, dependencies=["a.py", "b.py", "c.py"])
    d = decide(f, index)
    assert d.signals["detail"] >= 0.5 and d.signals["pseudocode"] is False
    assert d.retrieve and "complex file" in d.reason
