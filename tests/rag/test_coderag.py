"""CodeRAG end to end: sources (some unusable), index, per-file decisions, events, relations."""

from __future__ import annotations

from deepcode_tui.rag.coderag import index_dir_for, prepare_coderag
from deepcode_tui.rag.decide import FileNeed
from deepcode_tui.rag.events import IndexBuilt, RetrievalDecided, RetrievalDone, SourceSkipped
from deepcode_tui.rag.mapping import load_relations
from deepcode_tui.tokens import count_tokens

THIN = FileNeed(path="src/schedule.py", purpose="Learning-rate schedule with warmup.",
                spec="Warm up the learning rate, then decay it.", symbols=["warmup_schedule"])
FULL = FileNeed(
    path="src/io.py",
    purpose="Read and write run metadata as JSON.",
    symbols=["save_json", "load_json"],
    spec="""\
def save_json(path: Path, data: dict) -> None
    1. serialise data with json.dumps(data, indent=2, sort_keys=True)
    2. write it to a temp file in path's directory, then os.replace(temp, path)
def load_json(path: Path) -> dict
    1. return json.loads(path.read_text()) ; raise ValueError naming the path if it is not an object
Both functions take pathlib.Path arguments and never leave a half-written file behind. A missing
file is an error for load_json (FileNotFoundError propagates). Keys are sorted so diffs stay small
between runs, and the output ends with a newline so tools that expect POSIX text files are happy.
""",
)


async def test_bad_sources_are_skipped_and_the_run_continues(tmp_path, ref_repo):
    events = []

    async def emit(e):
        events.append(e)

    rag = await prepare_coderag(
        [str(tmp_path / "missing"), "https://git.nonexistent.invalid/a/b.git", str(ref_repo)],
        run_dir=tmp_path / "run", emit=emit, cache_dir=tmp_path / "cache", embedder=None, budget_tokens=600,
        clone_timeout=20,
    )
    skipped = [e for e in events if isinstance(e, SourceSkipped)]
    assert len(skipped) == 2 and len(rag.skipped) == 2
    assert {s.spec for s in skipped} == {str(tmp_path / "missing"), "https://git.nonexistent.invalid/a/b.git"}
    assert all(s.reason and s.fix for s in skipped)
    built = [e for e in events if isinstance(e, IndexBuilt)]
    assert len(built) == 1 and built[0].files == 4
    assert rag.index is not None and rag.index.directory == index_dir_for([str(ref_repo)], tmp_path / "cache")

    events.clear()
    ctx = await rag.context_for(THIN)
    assert ctx.decision.retrieve and "spec is thin" in ctx.decision.reason
    assert "warmup_inverse_sqrt" in ctx.context
    assert ctx.tokens == count_tokens(ctx.context) <= 600
    assert ctx.relations and ctx.relations[0].target_file == "src/schedule.py"
    decided, done = events
    assert isinstance(decided, RetrievalDecided) and decided.retrieve and decided.reason == ctx.decision.reason
    assert isinstance(done, RetrievalDone) and done.tokens == ctx.tokens and done.budget_tokens == 600
    stored = load_relations(tmp_path / "run").files["src/schedule.py"]
    assert stored == ctx.relations

    events.clear()
    full = await rag.context_for(FULL, budget_tokens=300)
    assert not full.decision.retrieve and full.context == "" and full.relations == []
    assert [type(e) for e in events] == [RetrievalDecided] and events[0].retrieve is False
    assert "src/io.py" not in load_relations(tmp_path / "run").files

    asked = await rag.context_for(FULL, budget_tokens=300, request="show how files are written atomically")
    assert asked.decision.retrieve and asked.tokens <= 300


async def test_no_usable_source_means_no_retrieval(tmp_path):
    events = []

    async def emit(e):
        events.append(e)

    rag = await prepare_coderag([str(tmp_path / "gone")], emit=emit, cache_dir=tmp_path, embedder=None)
    assert rag.index is None
    ctx = await rag.context_for(THIN)
    assert not ctx.decision.retrieve and "no reference code" in ctx.decision.reason
    assert [type(e) for e in events] == [SourceSkipped, RetrievalDecided]


async def test_planned_file_objects_are_accepted(tmp_path, ref_repo):
    rag = await prepare_coderag([str(ref_repo)], cache_dir=tmp_path, embedder=None)
    planned = {"path": "src/bpe.py", "purpose": "byte pair encoding merges", "spec": "",
               "symbols": ["merge_pairs"], "dependencies": []}
    ctx = await rag.context_for(planned, budget_tokens=400)
    assert ctx.decision.retrieve and "merge_most_frequent_pair" in ctx.context


async def test_source_without_code_is_reported(tmp_path):
    docs = tmp_path / "docs-only"
    docs.mkdir()
    (docs / "README.md").write_text("# nothing to index\n")
    events = []

    async def emit(e):
        events.append(e)

    rag = await prepare_coderag([str(docs)], emit=emit, cache_dir=tmp_path / "cache", embedder=None)
    assert rag.index is None
    (s,) = rag.skipped
    assert "no Python, JavaScript or TypeScript files" in s.reason
    assert [type(e) for e in events] == [IndexBuilt, SourceSkipped]
