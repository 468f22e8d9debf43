"""Resuming a run with the model configuration it was started with.

A run records its models (in the redacted settings snapshot of ``run.json``)
and its model-call flags (replay / record cassette, no cache). Resuming it
from an app started with other settings must not silently continue on other
models (a replayed run would go on with the embedded model as coder): the app
compares the two with :func:`model_differences` and asks; :func:`recorded_setup`
builds the settings and flags to continue with the recorded ones. Headless
``resume`` continues with the recorded ones unless told otherwise and says so
in one line (:func:`describe`). Secrets are never in the snapshot, so the
current API key is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The settings that decide which model answers a call (models.api_key is redacted in the snapshot).
MODEL_KEYS = ("default", "planner", "analyst", "coder", "summarizer", "repairer", "api_base", "embedded")
FLAG_KEYS = ("replay", "record", "no_cache")


@dataclass(frozen=True)
class Difference:
    setting: str  # "models.coder", "--replay"
    recorded: str
    current: str


def _show(value: Any) -> str:
    if value in (None, "", False):
        return "(not set)"
    return "yes" if value is True else str(value)


def current_flags(services: dict[str, Any]) -> dict[str, Any]:
    flags = services.get("llm_flags") or {}
    return {k: str(v) if v is not None and not isinstance(v, bool) else v for k, v in flags.items() if v}


def model_differences(manifest: Any, settings: Any, services: dict[str, Any]) -> list[Difference]:
    """Where the run's recorded models and flags differ from what a resume would use now
    ([] for runs recorded before flags were, when nothing else differs)."""
    recorded = (manifest.config or {}).get("models") or {}
    now = settings.models.model_dump(mode="json")
    out: list[Difference] = []
    if recorded:
        for key in MODEL_KEYS:
            if key in recorded and recorded.get(key) != now.get(key):
                out.append(Difference(f"models.{key}", _show(recorded.get(key)), _show(now.get(key))))
    was, is_ = dict(getattr(manifest, "llm_flags", {}) or {}), current_flags(services)
    for key in FLAG_KEYS:
        if (was.get(key) or is_.get(key)) and _show(was.get(key)) != _show(is_.get(key)):
            out.append(Difference(f"--{key.replace('_', '-')}", _show(was.get(key)), _show(is_.get(key))))
    return out


def recorded_setup(manifest: Any, settings: Any, services: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``(settings, services)`` that continue the run with its recorded models and flags."""
    from deepcode_tui.config.settings import ModelsConfig

    recorded = (manifest.config or {}).get("models") or {}
    models = settings.models.model_dump()
    models.update({k: recorded[k] for k in MODEL_KEYS if k in recorded})
    new_settings = settings.model_copy(update={"models": ModelsConfig.model_validate(models)})
    flags = {k: (manifest.llm_flags or {}).get(k) for k in FLAG_KEYS}
    return new_settings, {**services, "llm_flags": flags}


def describe(differences: list[Difference]) -> str:
    """The differences on one line: ``models.coder run: A, now: B; --replay run: DIR, now: (not set)``."""
    return "; ".join(f"{d.setting} run: {d.recorded}, now: {d.current}" for d in differences)
