"""Running the example as a user would (the CLI in a child process) against a stub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.stubs.server import ProviderStub

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ema-anomaly.md"

# Each family as a user configures it: a model string, its key, the endpoint at the stub.
FAMILIES = {
    "openai": lambda stub: {
        "DEEPCODE_MODELS__DEFAULT": "openai/gpt-4.1",
        "OPENAI_API_KEY": "sk-stub-openai",
        "DEEPCODE_MODELS__API_BASE": stub.openai_base,
    },
    "anthropic": lambda stub: {
        "DEEPCODE_MODELS__DEFAULT": "anthropic/claude-sonnet-4-5",
        "ANTHROPIC_API_KEY": "sk-ant-stub",
        "ANTHROPIC_API_BASE": stub.base,
    },
    # A local OpenAI-compatible server (vLLM here; Ollama and LM Studio speak the same):
    # unknown to litellm's model map, so JSON-in-prompt output and the JSON action protocol.
    "compatible": lambda stub: {
        "DEEPCODE_MODELS__DEFAULT": "hosted_vllm/Qwen2.5-Coder-32B-Instruct",
        "DEEPCODE_MODELS__API_BASE": stub.openai_base,
        "DEEPCODE_MODELS__API_KEY": "sk-stub-openai",
    },
}


def child_env(runs: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPCODE_", "ANTHROPIC_", "OPENAI_"))}
    env = {k: v for k, v in env.items() if not k.endswith("_API_KEY")}
    env.update({"DEEPCODE_RUNS_DIR": str(runs), "COLUMNS": "160", "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    env.update(extra)
    return env


def run_example(
    family: str,
    stub: ProviderStub,
    runs: Path,
    *,
    settings: dict[str, str] | None = None,
    timeout: float = 600,
) -> tuple[subprocess.CompletedProcess, Path | None]:
    """``deepcode-tui run examples/ema-anomaly.md --yes --no-cache`` with ``family``'s models at ``stub``."""
    env = child_env(runs, {**FAMILIES[family](stub), **(settings or {})})
    proc = subprocess.run(
        [sys.executable, "-m", "deepcode_tui", "run", str(EXAMPLE), "--yes", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, check=False,
    )  # fmt: skip
    dirs = [p for p in runs.iterdir() if (p / "run.json").exists()] if runs.exists() else []
    return proc, (max(dirs, key=lambda p: p.stat().st_mtime) if dirs else None)
