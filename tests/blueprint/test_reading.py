"""Segmented reading: sections by name, search, items; budgets; SectionRead events."""

from __future__ import annotations

from deepcode_tui.blueprint.reading import IndexReader, ListItemsArgs, ReadSectionArgs, SearchArgs
from deepcode_tui.tokens import count_tokens
from tests.blueprint.helpers import make_index


def reader(budget: int = 5000, **kw):
    events = []

    async def emit(ev):
        events.append(ev)

    return IndexReader(make_index(), agent="concept", budget_tokens=budget, emit=emit, **kw), events


async def test_read_by_number_or_heading_emits_section_read() -> None:
    r, events = reader()
    text = await r.read_section(ReadSectionArgs(name="2.1"))
    assert text.startswith("2.1 Attention") and "d_model = 512" in text
    await r.read_section(ReadSectionArgs(name="Experiments"))
    assert [(e.agent, e.section_id, e.title) for e in events] == [
        ("concept", "s2-1", "2.1 Attention"),
        ("concept", "s3", "3 Experiments"),
    ]
    assert events[0].tokens == count_tokens(text)
    again = await r.read_section(ReadSectionArgs(name="Attention"))
    assert "already returned" in again and len(events) == 2


async def test_missing_section_is_an_answer_not_an_error() -> None:
    r, events = reader()
    text = await r.read_section(ReadSectionArgs(name="7 Ablations on Quantum Effects"))
    assert "No section matches '7 Ablations on Quantum Effects'" in text
    assert "2 Method" in text  # points the agent at real headings
    assert events == [] and r.missing == ["7 Ablations on Quantum Effects"]


async def test_budget_bounds_everything_served() -> None:
    r, _ = reader(budget=300, max_read_tokens=200)
    first = await r.read_section(ReadSectionArgs(name="2.1"))
    assert "[truncated at 200 tokens" in first
    await r.search(SearchArgs(query="attention layers feed-forward", budget_tokens=400))
    assert r.used <= 300 + 20  # the truncation note is the only overshoot
    assert "budget used up" in await r.read_section(ReadSectionArgs(name="Experiments"))
    assert "budget used up" in await r.outline()


async def test_search_and_items() -> None:
    r, events = reader()
    found = await r.search(SearchArgs(query="Adam learning rate batch size", budget_tokens=600))
    assert "[2.2 Training]" in found
    assert events and events[0].section_id == "s2-2"
    eqs = await r.list_items(ListItemsArgs(kind="equations"))
    assert "(1) [2.1 Attention]: Attention(Q, K, V)" in eqs
    hps = await r.list_items(ListItemsArgs(kind="hyperparameters"))
    assert "learning rate = 1e-4 [2.2 Training]" in hps
    assert "No tables were detected" in await r.list_items(ListItemsArgs(kind="tables"))
    assert [t.name for t in r.tools()] == ["outline", "read_section", "search", "list_items"]
