"""The one configuration model.

Sources, nearest first: CLI flags (passed as init kwargs), ``DEEPCODE_*``
environment variables (``__`` separates nesting: ``DEEPCODE_MODELS__CODER``),
the project's ``deepcode.toml`` (found by walking up from the working
directory), then the user's ``config.toml`` under the XDG config dir.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "deepcode-tui"
PROJECT_FILE = "deepcode.toml"
ROLES = ("planner", "analyst", "coder", "summarizer", "repairer")  # the roles a run uses
# Roles outside a run: the judge grades a finished repository (`deepcode-tui grade`).
# Kept apart so a run never starts the embedded model only because the judge has no model.
ALL_ROLES = (*ROLES, "judge")


def user_config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_runs_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME) / "runs"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelsConfig(_Section):
    """Which model serves each role; any litellm model string works."""

    default: str | None = Field(None, description="model for roles without their own")
    planner: str | None = None
    analyst: str | None = None
    coder: str | None = None
    summarizer: str | None = None
    repairer: str | None = None
    judge: str | None = Field(None, description="model that grades a repository against a rubric")
    api_base: str | None = Field(None, description="OpenAI-compatible endpoint (vLLM, llama.cpp server)")
    api_key: SecretStr | None = None
    temperature: float = Field(0.2, ge=0, le=2)
    timeout_s: float = Field(180.0, gt=0, le=3600, description="longest wait for a reply that is not streamed")
    # A provider that accepts and never answers must end the run in bounded time
    # (two silent attempts of first_byte_timeout_s: about 2 minutes by default).
    first_byte_timeout_s: float = Field(60.0, gt=0, le=3600,
                                        description="streamed reply: longest wait for its first chunk")
    idle_timeout_s: float = Field(60.0, gt=0, le=3600, description="streamed reply: longest silence between two chunks")
    call_deadline_s: float = Field(600.0, gt=0, le=86_400, description="one call in all: every attempt and retry wait")
    max_retries: int = Field(4, ge=0, le=20)
    embedded: bool = Field(True, description="fall back to the embedded tiny model when nothing is configured")


class BudgetConfig(_Section):
    max_cost_usd: float | None = Field(None, gt=0, le=1_000_000)
    max_tokens: int | None = Field(None, ge=1, le=10_000_000_000)


class IngestConfig(_Section):
    pdf_engine: Literal["default", "marker"] = "default"
    timeout_s: float = Field(120.0, gt=0, le=3600)
    marker_timeout_s: float = Field(600.0, gt=0, le=7200)
    addendum: Path | None = Field(None, description="clarifications of the document; answer open questions")


class CodegenConfig(_Section):
    context_budget_tokens: int = Field(12000, ge=1000, le=2_000_000)
    max_file_attempts: int = Field(3, ge=1, le=10)
    summarize_with_model: bool = Field(
        False, description="memory-entry purposes from the summarizer role (else from the blueprint)"
    )


class SandboxConfig(_Section):
    backend: Literal["auto", "podman", "bwrap", "subprocess"] = "auto"
    allow_weak: bool = Field(False, description="allow the plain-subprocess backend (weak isolation)")
    network: bool = False
    memory_mb: int = Field(2048, ge=64, le=1_048_576)
    cpus: float = Field(1.0, gt=0, le=256)
    pids: int = Field(256, ge=16, le=1_000_000)
    timeout_s: float = Field(300.0, ge=1, le=86_400)
    disk_mb: int = Field(1024, ge=16, le=1_048_576, description="what a command may write into the repository")
    image: str | None = None
    rootfs: Path | None = None


class VerifyConfig(_Section):
    max_iterations: int = Field(5, ge=1, le=100)
    step: bool = Field(False, description="pause before applying each patch")
    mutation_budget_s: float = Field(
        90,
        ge=0,
        le=3600,
        description="seconds to spend confirming a suspect line with boundary mutants; 0 turns it off",
    )


class RagConfig(_Section):
    sources: list[str] = Field(default_factory=list, description="local dirs, git URLs, pkg:NAME")
    use_mined: bool = Field(False, description="also use the repositories and libraries the paper names")
    embeddings: bool = Field(True, description="fuse BM25 with local embeddings (no download, no torch)")
    embedding_model: Literal["auto", "static", "minilm"] = Field(
        "auto", description="static: packaged wordllama table (default); minilm: the [embeddings] extra")
    budget_tokens: int = Field(1500, ge=0, le=200_000)
    select_with_model: bool = Field(
        False, description="the summarizer role picks among each file's candidates (one short call per retrieval)")


class UIConfig(_Section):
    theme: str = "deepcode-dark"
    keys: dict[str, str] = Field(default_factory=dict, description="binding id -> key")
    log_lines: int = Field(5000, ge=100, le=1_000_000)


_paths: ContextVar[tuple[Path | None, Path | None]] = ContextVar("deepcode_config_paths", default=(None, None))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DEEPCODE_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    runs_dir: Path = Field(default_factory=default_runs_dir)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    codegen: CodegenConfig = Field(default_factory=CodegenConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    rag: RagConfig = Field(default_factory=RagConfig)
    ui: UIConfig = Field(default_factory=UIConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        project, user = _paths.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        for path in (project, user):
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def model_for(self, role: str) -> str | None:
        """The model string configured for ``role`` (or the default), if any."""
        return getattr(self.models, role, None) or self.models.default
