"""The generation loop end to end with scripted replies."""

from __future__ import annotations

import asyncio
import json

import pytest
from codegen_scripted import ScriptedCoder, fenced

from deepcode_tui.codegen.loop import generate_repository
from deepcode_tui.codegen.memory import MemoryStore
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile
from deepcode_tui.errors import ConfigError, DeepcodeError, ProviderError

CONFIG = '''"""Model configuration."""
from dataclasses import dataclass

DEFAULT_DIM = 64


@dataclass
class Config:
    dim: int = DEFAULT_DIM
    layers: int = 2
'''

LAYERS = '''"""Attention layers."""


def scaled_dot_product(q: list[float], k: list[float], scale: float = 1.0) -> float:
    """The scaled dot product of two vectors."""
    return sum(a * b for a, b in zip(q, k)) * scale


class Attention:
    def __init__(self, dim: int, heads: int = 4) -> None:
        self.dim = dim
        self.heads = heads

    def forward(self, x: list[float]) -> list[float]:
        return [scaled_dot_product(x, x)]
'''

MODEL = '''"""The model: config + attention."""
from pkg.config import Config
from pkg.layers import Attention, scaled_dot_product


class Model:
    def __init__(self, cfg: Config) -> None:
        self.attn = Attention(cfg.dim, heads=2)

    def score(self, x: list[float]) -> float:
        return scaled_dot_product(x, x, 0.5)
'''

UNRELATED = '''"""Logging helpers nobody in the model needs."""


def setup_logging(level: str = "INFO") -> None:
    pass
'''


def three_file_plan(extra: bool = True) -> CodegenPlan:
    files = [
        PlannedFile(
            path="pkg/config.py", purpose="Hyper-parameters.", spec="dataclass Config(dim, layers)", stage=0
        ),
        PlannedFile(
            path="pkg/layers.py",
            purpose="Attention layer.",
            spec="class Attention; def scaled_dot_product",
            stage=0,
        ),
        PlannedFile(
            path="pkg/model.py",
            purpose="The full model.",
            dependencies=["pkg/config.py", "pkg/layers.py"],
            spec="class Model(cfg: Config) using Attention and scaled_dot_product",
            symbols=["Config", "Attention", "scaled_dot_product"],
            stage=1,
        ),
    ]
    if extra:
        files.insert(
            0, PlannedFile(path="pkg/log_utils.py", purpose="Logging.", spec="def setup_logging", stage=0)
        )
    return CodegenPlan(summary="A tiny attention model.", files=files)


def coder_for_three(**over) -> ScriptedCoder:
    replies = {
        "pkg/log_utils.py": [fenced("pkg/log_utils.py", UNRELATED)],
        "pkg/config.py": [fenced("pkg/config.py", CONFIG)],
        "pkg/layers.py": [fenced("pkg/layers.py", LAYERS)],
        "pkg/model.py": [fenced("pkg/model.py", MODEL)],
    }
    replies.update(over)
    return ScriptedCoder(replies)


async def test_third_file_sees_interfaces_of_its_dependencies_and_nothing_else(tmp_path, recorder):
    coder = coder_for_three()
    result = await generate_repository(
        three_file_plan(), tmp_path / "repo", tmp_path / "run", coder, emit=recorder, watch=False
    )
    assert result.ok and result.written == [
        "pkg/log_utils.py",
        "pkg/config.py",
        "pkg/layers.py",
        "pkg/model.py",
    ]
    ctx = coder.user_message("pkg/model.py")
    # interfaces of files 1 and 2 ...
    assert "## pkg/config.py" in ctx and "class Config" in ctx and "dim: int" in ctx
    assert "## pkg/layers.py" in ctx and "def __init__(self, dim: int, heads: int = 4) -> None" in ctx
    assert "def scaled_dot_product(q: list[float], k: list[float], scale: float = 1.0) -> float" in ctx
    # ... and nothing else: no code bodies, no unrelated file
    assert "return sum(a * b" not in ctx and "self.heads = heads" not in ctx
    assert "log_utils" not in ctx and "setup_logging" not in ctx
    meter = next(m for m in recorder.of("codegen_context_meter") if m.path == "pkg/model.py")
    assert meter.memory_files == ["pkg/config.py", "pkg/layers.py"]
    assert meter.memory > 0 and meter.total <= meter.budget
    # the first file saw no memory at all
    assert "# Files this file builds on" not in coder.user_message("pkg/log_utils.py")
    # memory persisted with interface and edges
    store = MemoryStore(tmp_path / "run")
    m = store.get("pkg/model.py")
    assert m.depends_on == ["pkg/config.py", "pkg/layers.py"] and m.origin == "generated"
    assert store.get("pkg/layers.py").consumers == ["pkg/model.py"]
    assert (tmp_path / "repo" / "pkg" / "model.py").read_text() == MODEL
    written = recorder.of("codegen_file_written")
    assert written[-1].path == "pkg/model.py" and written[-1].diff.startswith("--- /dev/null")
    assert "+class Model:" in written[-1].diff
    assert not [f for f in result.findings if f.severity == "error"]


async def test_reply_with_path_escape_is_rejected_with_a_finding(tmp_path, recorder):
    evil = "```python path=../../outside.py\nimport os\nos.system('rm -rf ~')\n```\n"
    coder = coder_for_three(**{"pkg/config.py": [evil, fenced("pkg/config.py", CONFIG)]})
    result = await generate_repository(
        three_file_plan(extra=False), tmp_path / "repo", tmp_path / "run", coder, emit=recorder, watch=False
    )
    escapes = [f for f in result.findings if f.kind == "path_escape"]
    assert escapes and "leaves the repository" in escapes[0].message and escapes[0].file == "pkg/config.py"
    assert not (tmp_path / "outside.py").exists() and not (tmp_path.parent / "outside.py").exists()
    assert coder.count("pkg/config.py") == 2  # rejected, then retried
    assert (tmp_path / "repo" / "pkg" / "config.py").read_text() == CONFIG
    assert recorder.of("codegen_reply_rejected")[0].reason == "its only code block was rejected"


async def test_planned_path_outside_repo_is_rejected_before_any_model_call(tmp_path):
    plan = CodegenPlan(
        files=[
            PlannedFile(path="/etc/cron.d/x.py", purpose="nope"),
            PlannedFile(path="../up.py", purpose="nope"),
        ]
    )
    coder = ScriptedCoder({})
    result = await generate_repository(plan, tmp_path / "repo", tmp_path / "run", coder, watch=False)
    assert set(result.failed) == {"/etc/cron.d/x.py", "../up.py"}
    assert {f.kind for f in result.findings} == {"path_escape"}
    assert coder.calls == []


async def test_symlink_escape_is_rejected(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pkg").symlink_to(outside, target_is_directory=True)
    coder = coder_for_three()
    result = await generate_repository(
        three_file_plan(extra=False), repo, tmp_path / "run", coder, watch=False
    )
    assert "pkg/config.py" in result.failed and list(outside.iterdir()) == []
    assert any(f.kind == "path_escape" and "symlink" in f.message for f in result.findings)


async def test_empty_and_truncated_replies_are_retried_never_written_empty(tmp_path, recorder):
    truncated = "```python path=pkg/layers.py\nclass Attention:\n    def __init__(self, dim: int,\n"
    coder = coder_for_three(
        **{
            "pkg/config.py": ["", "   \n", fenced("pkg/config.py", CONFIG)],
            "pkg/layers.py": [truncated, fenced("pkg/layers.py", LAYERS)],
        }
    )
    result = await generate_repository(
        three_file_plan(extra=False), tmp_path / "repo", tmp_path / "run", coder, emit=recorder, watch=False
    )
    assert result.ok
    assert coder.count("pkg/config.py") == 3 and coder.count("pkg/layers.py") == 2
    rejected = recorder.of("codegen_reply_rejected")
    assert [r.reason.split(":")[0] for r in rejected] == ["empty", "empty", "truncated"]
    retry_prompt = coder.user_message("pkg/layers.py", 1)
    assert "could not be used (truncated" in retry_prompt
    assert (tmp_path / "repo" / "pkg" / "config.py").read_text() == CONFIG


async def test_file_fails_cleanly_after_bounded_retries(tmp_path, recorder):
    coder = coder_for_three(**{"pkg/config.py": [""]})
    result = await generate_repository(
        three_file_plan(extra=False),
        tmp_path / "repo",
        tmp_path / "run",
        coder,
        emit=recorder,
        watch=False,
        max_attempts=2,
    )
    assert coder.count("pkg/config.py") == 2
    assert "no usable reply after 2 attempt(s)" in result.failed["pkg/config.py"]
    assert not (tmp_path / "repo" / "pkg" / "config.py").exists()
    # the dependent file is still written; the missing dependency becomes a finding
    assert "pkg/model.py" in result.written
    assert any(f.kind == "missing_file" and f.file == "pkg/model.py" for f in result.findings)
    assert recorder.of("codegen_file_failed")[0].path == "pkg/config.py"


async def test_arity_mismatch_across_files_is_reported(tmp_path):
    bad_model = MODEL.replace("Attention(cfg.dim, heads=2)", "Attention(cfg.dim, 2, 3)").replace(
        "scaled_dot_product(x, x, 0.5)", "scaled_dot_product(x, scale=0.5)"
    )
    coder = coder_for_three(**{"pkg/model.py": [fenced("pkg/model.py", bad_model)]})
    result = await generate_repository(
        three_file_plan(extra=False), tmp_path / "repo", tmp_path / "run", coder, watch=False
    )
    arity = [f for f in result.findings if f.kind == "arity_mismatch"]
    assert {f.file for f in arity} == {"pkg/model.py"}
    msgs = " | ".join(f.message for f in arity)
    assert (
        "Attention() (defined in pkg/layers.py) takes at most 2 positional argument(s) but 3 were given"
        in msgs
    )
    assert "scaled_dot_product() (defined in pkg/layers.py) missing required argument(s): k" in msgs
    assert all(f.stage == "static" and f.line for f in arity)


async def test_human_edit_is_picked_up_and_never_overwritten(tmp_path, recorder):
    repo = tmp_path / "repo"
    edited = CONFIG.replace("layers: int = 2", "layers: int = 2\n    dropout: float = 0.1")

    def model_reply(messages):
        # a human edits config.py while the model is writing model.py
        (repo / "pkg" / "config.py").write_text(edited)
        return fenced("pkg/model.py", MODEL)

    coder = coder_for_three(**{"pkg/model.py": model_reply})
    result = await generate_repository(
        three_file_plan(extra=False), repo, tmp_path / "run", coder, emit=recorder, watch=False
    )
    assert result.human_edits == ["pkg/config.py"]
    ev = recorder.of("codegen_human_edit")[0]
    assert ev.path == "pkg/config.py" and ev.change == "modified" and "+    dropout: float = 0.1" in ev.diff
    entry = MemoryStore(tmp_path / "run").get("pkg/config.py")
    assert entry.origin == "human" and "dropout" in [f.name for f in entry.interface.classes[0].fields]
    assert (repo / "pkg" / "config.py").read_text() == edited

    # a second run (resume) must not overwrite the human's version, and says so
    coder2 = coder_for_three()
    again = await generate_repository(
        three_file_plan(extra=False), repo, tmp_path / "run", coder2, watch=False
    )
    assert (repo / "pkg" / "config.py").read_text() == edited
    assert coder2.calls == [] and "pkg/config.py" in again.skipped
    assert any(f.kind == "human_edit_kept" and f.file == "pkg/config.py" for f in again.findings)


async def test_confirm_overwrite_allows_replacing_a_human_file(tmp_path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "config.py").write_text("# my own notes\n")
    asked: list[str] = []

    async def yes(path: str) -> bool:
        asked.append(path)
        return True

    coder = coder_for_three()
    result = await generate_repository(
        three_file_plan(extra=False), repo, tmp_path / "run", coder, confirm_overwrite=yes, watch=False
    )
    assert asked == ["pkg/config.py"] and "pkg/config.py" in result.written
    assert (repo / "pkg" / "config.py").read_text() == CONFIG


async def test_existing_file_is_kept_without_confirmation(tmp_path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "config.py").write_text(CONFIG.replace("layers: int = 2", "layers: int = 6"))
    coder = coder_for_three()
    result = await generate_repository(
        three_file_plan(extra=False), repo, tmp_path / "run", coder, watch=False
    )
    assert coder.count("pkg/config.py") == 0 and "pkg/config.py" in result.skipped
    assert "layers: int = 6" in (repo / "pkg" / "config.py").read_text()
    assert MemoryStore(tmp_path / "run").get("pkg/config.py").origin == "existing"


async def test_resume_skips_files_with_matching_memory(tmp_path, recorder):
    class Stop(ProviderError):
        pass

    def boom(messages):
        raise Stop("provider down", "retry later")

    coder = coder_for_three(**{"pkg/model.py": boom})
    with pytest.raises(Stop):
        await generate_repository(
            three_file_plan(extra=False), tmp_path / "repo", tmp_path / "run", coder, watch=False
        )
    assert len(MemoryStore(tmp_path / "run")) == 2
    coder2 = coder_for_three()
    result = await generate_repository(
        three_file_plan(extra=False), tmp_path / "repo", tmp_path / "run", coder2, emit=recorder, watch=False
    )
    assert [c[0] for c in coder2.calls] == ["pkg/model.py"]
    assert result.skipped == ["pkg/config.py", "pkg/layers.py"] and result.written == ["pkg/model.py"]
    assert [e.reason for e in recorder.of("codegen_file_skipped")] == ["resumed", "resumed"]


async def test_should_pause_can_amend_the_plan(tmp_path):
    calls = 0
    amended = three_file_plan(extra=False)
    amended.files.append(
        PlannedFile(
            path="pkg/train.py",
            purpose="Training loop.",
            dependencies=["pkg/model.py"],
            spec="def train(model: Model)",
            symbols=["Model"],
            stage=2,
        )
    )

    async def should_pause():
        nonlocal calls
        calls += 1
        return amended if calls == 2 else None

    coder = coder_for_three(
        **{
            "pkg/train.py": [
                fenced(
                    "pkg/train.py",
                    "from pkg.model import Model\n\n\ndef train(model: Model) -> None:\n    pass\n",
                )
            ]
        }
    )
    result = await generate_repository(
        three_file_plan(extra=False),
        tmp_path / "repo",
        tmp_path / "run",
        coder,
        should_pause=should_pause,
        watch=False,
    )
    assert result.written == ["pkg/config.py", "pkg/layers.py", "pkg/model.py", "pkg/train.py"]
    assert result.plan is amended
    ctx = coder.user_message("pkg/train.py")
    assert "## pkg/model.py" in ctx and "class Model" in ctx and "## pkg/config.py" not in ctx


async def test_an_amendment_regenerates_the_written_files_it_names_but_keeps_human_edits(tmp_path):
    """should_pause may return an amendment (plan + regenerate): named written files are
    written again with the new spec; one a human edited since is kept."""
    from types import SimpleNamespace

    calls = 0
    amended = three_file_plan(extra=False)
    amended.files[0].spec = "dataclass Config(dim, layers, heads)"
    repo = tmp_path / "repo"

    async def should_pause():
        nonlocal calls
        calls += 1
        if calls == 3:  # config.py and layers.py are written; a human edits layers.py
            (repo / "pkg" / "layers.py").write_text("# mine\n")
            return SimpleNamespace(plan=amended, regenerate={"pkg/config.py": "spec changed",
                                                             "pkg/layers.py": "spec changed"})
        return None

    config_v2 = CONFIG.replace("layers: int", "layers: int\n    heads: int = 8")
    assert config_v2 != CONFIG
    coder = coder_for_three(**{"pkg/config.py": [fenced("pkg/config.py", CONFIG), fenced("pkg/config.py", config_v2)]})
    result = await generate_repository(
        three_file_plan(extra=False), repo, tmp_path / "run", coder, should_pause=should_pause, watch=False
    )
    assert coder.count("pkg/config.py") == 2 and "heads" in coder.user_message("pkg/config.py", 1)
    assert (repo / "pkg" / "config.py").read_text().rstrip() == config_v2.rstrip()
    assert (repo / "pkg" / "layers.py").read_text() == "# mine\n" and coder.count("pkg/layers.py") == 1
    assert result.written.count("pkg/config.py") == 2 and "pkg/layers.py" in result.skipped


async def test_summarize_and_retrieval_hooks(tmp_path, recorder):
    async def summarize(path: str, code: str) -> str:
        return f"Summary of {path}. Second sentence. Third sentence is dropped."

    async def retrieval_for(pf):
        return "def reference_attention(q, k):\n    ...\n" if pf.path == "pkg/layers.py" else None

    coder = coder_for_three()
    await generate_repository(
        three_file_plan(extra=False),
        tmp_path / "repo",
        tmp_path / "run",
        coder,
        summarize=summarize,
        retrieval_for=retrieval_for,
        emit=recorder,
        watch=False,
    )
    store = MemoryStore(tmp_path / "run")
    assert store.get("pkg/config.py").purpose == "Summary of pkg/config.py. Second sentence."
    assert "Reference code retrieved" in coder.user_message("pkg/layers.py")
    assert "reference_attention" not in coder.user_message("pkg/model.py")
    meters = {m.path: m for m in recorder.of("codegen_context_meter")}
    assert meters["pkg/layers.py"].retrieval > 0 and meters["pkg/model.py"].retrieval == 0


async def test_summarize_failure_falls_back_to_plan_purpose(tmp_path):
    async def summarize(path, code):
        raise ProviderError("summarizer unavailable")

    await generate_repository(
        three_file_plan(extra=False),
        tmp_path / "repo",
        tmp_path / "run",
        coder_for_three(),
        summarize=summarize,
        watch=False,
    )
    assert MemoryStore(tmp_path / "run").get("pkg/layers.py").purpose == "Attention layer."


async def test_step_timeout_counts_as_a_failed_attempt(tmp_path):
    async def slow(messages, *, file_path, check=None):
        await asyncio.sleep(5)
        return ""

    result = await generate_repository(
        CodegenPlan(files=[PlannedFile(path="a.py")]),
        tmp_path / "repo",
        tmp_path / "run",
        slow,
        step_timeout=0.05,
        max_attempts=2,
        watch=False,
    )
    assert "no reply within 0.05 s" in result.failed["a.py"]


async def test_tiny_budget_is_a_clear_config_error(tmp_path):
    with pytest.raises(ConfigError) as e:
        await generate_repository(
            three_file_plan(), tmp_path / "repo", tmp_path / "run", coder_for_three(), budget_tokens=10
        )
    assert "at least 500" in e.value.fix


async def test_events_are_json_serialisable(tmp_path, recorder):
    await generate_repository(
        three_file_plan(), tmp_path / "repo", tmp_path / "run", coder_for_three(), emit=recorder, watch=False
    )
    types = {e.type for e in recorder.events}
    assert {
        "codegen_file_started",
        "codegen_context_meter",
        "codegen_file_written",
        "codegen_memory_entry",
    } <= types
    for e in recorder.events:
        json.loads(e.model_dump_json())


async def test_javascript_project(tmp_path):
    plan = CodegenPlan(
        files=[
            PlannedFile(path="src/math.ts", purpose="Math helpers.", spec="export function add(a, b)"),
            PlannedFile(path="src/main.ts", purpose="Entry.", dependencies=["src/math.ts"], symbols=["add"]),
        ]
    )
    coder = ScriptedCoder(
        {
            "src/math.ts": [
                fenced(
                    "src/math.ts",
                    "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
                    "ts",
                )
            ],
            "src/main.ts": [
                fenced("src/main.ts", "import { add } from './math';\nconsole.log(add(1));\n", "ts")
            ],
        }
    )
    result = await generate_repository(plan, tmp_path / "repo", tmp_path / "run", coder, watch=False)
    assert "function add(a: number, b: number): number" in coder.user_message("src/main.ts")
    arity = [f for f in result.findings if f.kind == "arity_mismatch"]
    assert len(arity) == 1 and "expects at least 2 argument(s) but got 1" in arity[0].message


async def test_write_failure_is_a_clear_error_and_memory_stays_true(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pkg").write_text("a file where a directory should be\n")
    plan = CodegenPlan(files=[PlannedFile(path="pkg/config.py", purpose="Config.")])
    coder = ScriptedCoder({"pkg/config.py": [fenced("pkg/config.py", CONFIG)]})
    with pytest.raises(DeepcodeError) as e:
        await generate_repository(plan, repo, tmp_path / "run", coder, watch=False)
    assert "cannot write pkg/config.py" in e.value.message and "free space and permissions" in e.value.fix
    assert "pkg/config.py" not in MemoryStore(tmp_path / "run")
