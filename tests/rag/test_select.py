"""The model's choice among CodeRAG's candidates: prompt, tolerant parsing, order, failure, wiring."""

from __future__ import annotations

import pytest

from deepcode_tui.errors import BudgetExceeded
from deepcode_tui.rag.chunker import Chunk
from deepcode_tui.rag.coderag import prepare_coderag
from deepcode_tui.rag.decide import FileNeed, gather_hits
from deepcode_tui.rag.events import RetrievalDone
from deepcode_tui.rag.select import (
    MAX_CANDIDATES,
    Selection,
    parse_selection,
    reorder,
    select,
    selection_prompt,
)


def _chunk(symbol: str, doc: str = "", kind: str = "function") -> Chunk:
    return Chunk(id=f"ref:m.py::{symbol}#1", source="ref", path="m.py", language="python", kind=kind,
                 symbol=symbol, signature=f"def {symbol}(x)", docstring=doc, start_line=1, end_line=3,
                 text=f"def {symbol}(x):\n    SECRET_BODY_{symbol} = x\n")


CHUNKS = [_chunk("alpha", "Add one.\nMore."), _chunk("beta", "Subtract one."), _chunk("gamma")]


def test_the_prompt_lists_each_candidate_by_location_signature_and_first_doc_line_never_its_code():
    prompt = selection_prompt("Decrement a counter", CHUNKS)
    assert prompt.startswith("What is needed:\nDecrement a counter")
    assert "[1] ref:m.py::alpha (function) def alpha(x) -- Add one." in prompt
    assert "[2] ref:m.py::beta (function) def beta(x) -- Subtract one." in prompt
    assert "[3] ref:m.py::gamma (function) def gamma(x)" in prompt
    assert "More." not in prompt and "SECRET_BODY" not in prompt
    leaky = selection_prompt("x", [_chunk("auth", "Use the key sk-abcdefghijklmnop1234 for tests.")])
    assert "sk-abcdefghijklmnop1234" not in leaky and "[redacted]" in leaky
    many = selection_prompt("x", [_chunk(f"f{n}") for n in range(MAX_CANDIDATES + 5)])
    assert f"[{MAX_CANDIDATES}]" in many and f"[{MAX_CANDIDATES + 1}]" not in many


@pytest.mark.parametrize(("reply", "order"), [
    ('{"order": [2, 1]}', [1, 0]),
    ('Sure! ```json\n{"order": [3]}\n```', [2]),
    ('{"order": ["2", 2, 9, 0, true, null, 1]}', [1, 0]),  # strings read, repeats/out of range/bools dropped
    ("2, 3", [1, 2]),
    (" [3 1]\n", [2, 0]),
])
def test_replies_are_read_tolerantly_and_only_listed_candidates_count(reply, order):
    sel = parse_selection(reply, 3)
    assert sel.usable and sel.order == order


@pytest.mark.parametrize("reply", [
    "", "none of these help", '{"order": []}', '{"order": [7, 8]}', "{not json", "I think 3 then 1",
    # what the embedded tiny model answered once: list literals in code are not a choice
    "You need to remove one.\n```python\ncandidates = [1, 2] + [3, 4] * 2\n```",
])
def test_a_reply_that_names_no_candidate_keeps_the_rankers_order(reply):
    sel = parse_selection(reply, 3)
    assert not sel.usable and sel.order == [] and "ranker's order is kept" in sel.reason
    assert reorder(CHUNKS, sel) == CHUNKS


def test_chosen_candidates_go_first_in_the_models_order_and_nothing_is_dropped():
    out = reorder(CHUNKS, Selection(order=[2, 0], usable=True))
    assert [c.symbol for c in out] == ["gamma", "alpha", "beta"]


async def test_a_failed_call_keeps_the_order_but_the_runs_budget_still_stops_it():
    async def down(prompt: str) -> str:
        raise ConnectionError("provider is down")

    sel = await select("x", CHUNKS, down)
    assert not sel.usable and "failed (ConnectionError)" in sel.reason

    async def broke(prompt: str) -> str:
        raise BudgetExceeded("budget spent")

    with pytest.raises(BudgetExceeded):
        await select("x", CHUNKS, broke)

    asked: list[str] = []

    async def never(prompt: str) -> str:
        asked.append(prompt)
        return "1"

    one = await select("x", CHUNKS[:1], never)
    assert not one.usable and asked == []  # a single candidate needs no choice


async def test_coderag_puts_the_models_pick_first_in_the_context_and_says_so(tmp_path, ref_repo):
    need = FileNeed(path="src/attn.py", purpose="Multi-head attention with a learning-rate warmup schedule.",
                    symbols=["MultiHeadAttention"])
    plain = await prepare_coderag([str(ref_repo)], cache_dir=tmp_path / "c", embedder=None)
    before = gather_hits(need, plain.index)
    assert len(before) >= 3
    last = before[-1].chunk
    prompts: list[str] = []
    events = []

    async def ask(prompt: str) -> str:
        prompts.append(prompt)
        n = len(before)  # the candidates are listed in the ranker's order: the last one
        assert any(line.startswith(f"[{n}] {last.source}:{last.path}") for line in prompt.splitlines())
        return f'{{"order": [{n}]}}'

    async def emit(e):
        events.append(e)

    rag = await prepare_coderag([str(ref_repo)], cache_dir=tmp_path / "c", embedder=None, ask=ask, emit=emit)
    got = await rag.context_for(need)
    assert len(prompts) == 1 and "Multi-head attention" in prompts[0]
    first = got.context.split("### ", 2)[1]
    assert first.startswith(last.location)
    plain_ctx = await plain.context_for(need)
    assert not plain_ctx.context.split("### ", 2)[1].startswith(last.location)
    done = [e for e in events if isinstance(e, RetrievalDone)]
    assert done and done[-1].selection == f"the model put 1 of {len(before)} candidates first"

    async def junk(prompt: str) -> str:
        return "As an AI model I cannot choose."

    rag2 = await prepare_coderag([str(ref_repo)], cache_dir=tmp_path / "c", embedder=None, ask=junk, emit=emit)
    kept = await rag2.context_for(need)
    assert kept.context == plain_ctx.context
    assert "ranker's order is kept" in [e for e in events if isinstance(e, RetrievalDone)][-1].selection


async def test_the_selector_role_goes_through_the_gateway_as_the_summarizer_and_is_off_by_default(tmp_path):
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.llm import Gateway
    from deepcode_tui.llm.scripted import register_script, unregister_script
    from deepcode_tui.pipeline.roles import selector

    seen = []

    def reply(request) -> str:
        seen.append(request.messages)
        return '{"order": [2]}'

    model = register_script("rag-select", reply)
    try:
        assert Settings().rag.select_with_model is False  # one more call per file: the user opts in
        async with Gateway(Settings(models={"summarizer": model, "default": "scripted/none"}), environ={},
                           run_dir=tmp_path) as gw:
            sel = await select("Subtract one from a counter", CHUNKS, selector(gw))
    finally:
        unregister_script("rag-select")
    assert sel.usable and reorder(CHUNKS, sel)[0].symbol == "beta"
    (system, user), = seen
    assert system["role"] == "system" and "JSON only" in system["content"]
    assert user["content"].startswith("What is needed:\nSubtract one") and "[3] ref:m.py::gamma" in user["content"]


async def test_a_model_that_never_answers_in_shape_costs_two_calls_and_keeps_the_order(tmp_path):
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.llm import Gateway
    from deepcode_tui.llm.scripted import register_script, unregister_script
    from deepcode_tui.pipeline.roles import selector

    calls = []

    def junk(request) -> str:
        calls.append(1)
        return "The second one, probably."

    model = register_script("rag-select-junk", junk)
    try:
        async with Gateway(Settings(models={"summarizer": model, "default": "scripted/none"}), environ={},
                           run_dir=tmp_path) as gw:
            sel = await select("Subtract one from a counter", CHUNKS, selector(gw))
    finally:
        unregister_script("rag-select-junk")
    assert len(calls) == 2  # the reply, then one repair round
    assert not sel.usable and "StructuredOutputError" in sel.reason and reorder(CHUNKS, sel) == CHUNKS


async def test_the_codegen_phase_asks_the_summarizer_only_when_select_with_model_is_on(tmp_path, ref_repo):
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.events.bus import EventBus
    from deepcode_tui.events.models import RetrievalDecision
    from deepcode_tui.llm import Gateway
    from deepcode_tui.llm.scripted import register_script, unregister_script
    from deepcode_tui.pipeline.context import RunContext
    from deepcode_tui.pipeline.gate import AutoApproveGate
    from deepcode_tui.pipeline.phase_codegen import _retrieval
    from deepcode_tui.store import RunStore

    doc = tmp_path / "paper.md"
    doc.write_text("# Paper\n")
    asked = []

    def reply(request) -> str:
        asked.append(request)
        return '{"order": [2]}'

    model = register_script("rag-select-phase", reply)
    need = {"path": "src/attn.py", "purpose": "Multi-head attention with a learning-rate warmup schedule.",
            "symbols": ["MultiHeadAttention"]}
    try:
        for on in (False, True):
            store = RunStore.create(tmp_path / f"runs{on}", doc)
            bus = EventBus()
            seen = []
            bus.subscribe(seen.append)
            settings = Settings(runs_dir=tmp_path / f"runs{on}", models={"summarizer": model, "default": model},
                                rag={"sources": [str(ref_repo)], "embeddings": False, "select_with_model": on})
            ctx = RunContext(store=store, bus=bus, settings=settings, gate=AutoApproveGate())
            async with Gateway(settings, environ={}, run_dir=store.root) as gw:
                hook = await _retrieval(ctx, gw)
                text = await hook(need)
            assert text
            decided = [e for e in seen if isinstance(e, RetrievalDecision) and e.retrieve]
            assert decided and (("the model put 1 of" in decided[-1].reason) is on)
            assert len(asked) == (1 if on else 0)
    finally:
        unregister_script("rag-select-phase")
