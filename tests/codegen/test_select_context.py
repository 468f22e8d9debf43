"""Memory selection and context assembly under a token budget."""

from __future__ import annotations

from deepcode_tui.codegen.context import assemble_context
from deepcode_tui.codegen.memory import MemoryStore, extract_entry
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile
from deepcode_tui.codegen.select import select_relevant_memory, select_with_reasons, spec_symbols


def _plan(n_unrelated: int = 20) -> CodegenPlan:
    files = [PlannedFile(path=f"pkg/noise{i}.py", purpose=f"Noise {i}.") for i in range(n_unrelated)]
    files += [
        PlannedFile(path="pkg/config.py", purpose="Config."),
        PlannedFile(path="pkg/tokenizer.py", purpose="Tokenizer."),
        PlannedFile(path="pkg/metrics.py", purpose="Metrics."),
        PlannedFile(
            path="pkg/model.py",
            purpose="Model.",
            dependencies=["pkg/config.py"],
            spec="Use BleuScorer from metrics and `load_vocab` to build the embedding.",
            symbols=["Tokenizer"],
            consumers=["pkg/train.py"],
        ),
        PlannedFile(path="pkg/train.py", purpose="Training.", dependencies=["pkg/model.py"]),
        PlannedFile(path="pkg/eval.py", purpose="Evaluation.", dependencies=["pkg/model.py"]),
    ]
    return CodegenPlan(summary="S " * 50, files=files)


def _store(tmp_path, plan: CodegenPlan, *, train: bool = False) -> MemoryStore:
    store = MemoryStore(tmp_path, durable=False)
    files = plan.paths()
    for i in range(sum(p.startswith("pkg/noise") for p in files)):
        store.append(
            extract_entry(f"pkg/noise{i}.py", f"def noise_{i}(a, b):\n    return a\n", project_files=files)
        )
    store.append(
        extract_entry(
            "pkg/config.py",
            "import yaml\n\n\nclass Config:\n    def __init__(self, dim: int) -> None: ...\n",
            project_files=files,
            purpose="Configuration of the model dimensions.",
        )
    )
    store.append(
        extract_entry(
            "pkg/tokenizer.py",
            "class Tokenizer:\n    def encode(self, s: str) -> list[int]: ...\n"
            "\n\ndef load_vocab(path: str) -> dict: ...\n",
            project_files=files,
        )
    )
    store.append(
        extract_entry(
            "pkg/metrics.py",
            "class BleuScorer:\n    def score(self, a, b) -> float: ...\n",
            project_files=files,
        )
    )
    if train:
        store.append(
            extract_entry(
                "pkg/train.py",
                "from pkg.model import Model\n\nm = Model(1, 2)\nm.fit([1])\n",
                project_files=files,
            )
        )
    return store


def test_spec_symbols():
    pf = _plan().get("pkg/model.py")
    assert spec_symbols(pf) == ["Tokenizer", "BleuScorer", "load_vocab"]


def test_selection_tiers_and_never_the_whole_memory(tmp_path):
    plan = _plan()
    store = _store(tmp_path, plan, train=True)
    target = plan.get("pkg/model.py")
    sel = select_with_reasons(target, plan, store, budget_tokens=None)
    assert [(s.entry.path, s.reason) for s in sel] == [
        ("pkg/config.py", "dependency"),
        ("pkg/tokenizer.py", "symbol"),
        ("pkg/metrics.py", "symbol"),
        ("pkg/train.py", "consumer"),
    ]
    assert len(sel) < len(store) and not any("noise" in s.entry.path for s in sel)
    consumer = sel[-1].text
    assert "uses from this file: Model; Model(2 positional); Model.fit(1 positional)" in consumer


def test_budget_keeps_priority_order(tmp_path):
    plan = _plan()
    store = _store(tmp_path, plan, train=True)
    target = plan.get("pkg/model.py")
    full = select_with_reasons(target, plan, store, budget_tokens=None)
    first = full[0].tokens
    tight = select_relevant_memory(target, plan, store, budget_tokens=first + 5)
    assert [e.path for e in tight] == ["pkg/config.py"]
    assert select_relevant_memory(target, plan, store, budget_tokens=0) == []


def test_context_meter_and_priority_when_it_does_not_fit(tmp_path):
    plan = _plan()
    store = _store(tmp_path, plan, train=True)
    target = plan.get("pkg/model.py")
    roomy = assemble_context(
        target, plan, store, budget_tokens=20_000, retrieval="def ref():\n    pass\n" * 20
    )
    m = roomy.meter
    assert m.memory_files == ["pkg/config.py", "pkg/tokenizer.py", "pkg/metrics.py", "pkg/train.py"]
    assert m.spec > 0 and m.summary > 0 and m.retrieval > 0 and not m.dropped and not m.truncated
    assert m.total <= m.budget and m.blueprint == m.summary + m.spec
    user = roomy.messages[-1]["content"]
    assert (
        user.index("# Project blueprint")
        < user.index("# Files this file builds on")
        < user.index("# Other related files")
        < user.index("# Reference code")
        < user.index("# Your task")
    )
    assert "Files planned to use this one:\n- pkg/eval.py: Evaluation." in user
    assert "```python path=pkg/model.py" in user

    # tight: retrieval goes first, then other memory, then the summary is cut; deps and spec stay
    base = assemble_context(target, plan, store, budget_tokens=20_000).meter
    need = base.instructions + base.spec + 80 + store.rendered(store.get("pkg/config.py"))[1] + 10
    tight = assemble_context(target, plan, store, budget_tokens=need, retrieval="def ref():\n    pass\n" * 50)
    t = tight.meter
    assert t.memory_files == ["pkg/config.py"]
    assert {"pkg/tokenizer.py", "pkg/metrics.py", "pkg/train.py"} <= set(t.dropped)
    assert "summary" in t.truncated and t.retrieval == 0
    assert t.total <= t.budget
    assert "# Your task" in tight.messages[-1]["content"]


def test_dependency_falls_back_to_compact_rendering(tmp_path):
    plan = _plan(0)
    store = _store(tmp_path, plan)
    target = plan.get("pkg/model.py")
    base = assemble_context(target, plan, store, budget_tokens=20_000).meter
    full = store.rendered(store.get("pkg/config.py"))[1]
    compact = store.rendered(store.get("pkg/config.py"), compact=True)[1]
    assert compact < full
    ctx = assemble_context(
        target, plan, store, budget_tokens=base.instructions + base.spec + 80 + compact + 1
    )
    assert ctx.meter.memory_files == ["pkg/config.py"] and "pkg/config.py" in ctx.meter.truncated
    assert "## pkg/config.py\n" in ctx.messages[-1]["content"]  # compact: no purpose line


def test_oversized_spec_is_cut_not_crashed(tmp_path):
    plan = CodegenPlan(files=[PlannedFile(path="a.py", spec="word " * 5000)])
    ctx = assemble_context(plan.files[0], plan, MemoryStore(tmp_path), budget_tokens=1000)
    assert "spec" in ctx.meter.truncated and ctx.meter.total <= 1000 + 20
