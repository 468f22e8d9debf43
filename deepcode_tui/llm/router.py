"""Roles to models for one gateway, and how each model is spoken to (its profile).

Live runs resolve from settings; a replay takes roles and profiles from the
cassette, so replayed requests are built exactly as recorded ones were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deepcode_tui.config.settings import ALL_ROLES, ROLES, Settings
from deepcode_tui.errors import ConfigError
from deepcode_tui.llm.cassette import CassetteReader, CassetteWriter, ModelProfile
from deepcode_tui.llm.embedded import EMBEDDED_CONTEXT
from deepcode_tui.llm.resolve import ResolvedModel, resolve_role

EMBEDDED_MAX_TOKENS = 1024  # a 135M model can ramble forever; bound every reply


def capabilities(model: str) -> tuple[bool, bool]:
    """(native structured output, native tool calling) for ``model``, per litellm's model map."""
    if model.startswith("scripted/"):
        from deepcode_tui.llm.scripted import get_script

        script = get_script(model)
        return (script.supports_response_schema, script.supports_tools) if script else (False, False)
    from deepcode_tui.llm.backend import get_litellm

    litellm = get_litellm()
    try:
        schema_ok = bool(litellm.supports_response_schema(model=model))
    except Exception:  # noqa: BLE001 - unknown to litellm: assume the least
        schema_ok = False
    try:
        tools_ok = bool(litellm.supports_function_calling(model=model))
    except Exception:  # noqa: BLE001 - as above
        tools_ok = False
    return schema_ok, tools_ok


class ModelRouter:
    def __init__(
        self,
        settings: Settings,
        *,
        provenance: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        replay: CassetteReader | None = None,
        recorder: CassetteWriter | None = None,
    ) -> None:
        self.settings = settings
        self.provenance = provenance
        self.environ = environ
        self.replay = replay
        self.recorder = recorder
        self._resolved: dict[str, ResolvedModel] = {}
        self._profiles: dict[str, ModelProfile] = {}

    def resolve(self, role: str) -> ResolvedModel:
        found = self._resolved.get(role)
        if found is not None:
            return found
        if self.replay is not None:
            model = self.replay.index.roles.get(role)
            if role not in ALL_ROLES or model is None:
                raise ConfigError(
                    f"the cassette {self.replay.root} has no calls for role {role!r}",
                    "replay a cassette recorded from the same kind of run, or run without --replay",
                )
            found = ResolvedModel(
                role=role,
                model=model,
                source=f"replay: {self.replay.root}",
                litellm_model=f"replay/{model}",
                replay=True,
            )
        else:
            found = resolve_role(self.settings, role, provenance=self.provenance, environ=self.environ)
        self._resolved[role] = found
        if self.recorder is not None:
            self.recorder.set_role(role, found.model, self.profile(found))
        return found

    def uses_embedded(self) -> bool:
        """True when some role resolves to the embedded model (False if resolution fails)."""
        try:
            return any(self.resolve(r).embedded for r in ROLES)
        except ConfigError:
            return False  # reported when a call is made

    def profile(self, resolved: ResolvedModel) -> ModelProfile:
        cached = self._profiles.get(resolved.model)
        if cached is not None:
            return cached
        if self.replay is not None:
            profile = self.replay.index.profiles.get(resolved.model, ModelProfile())
        else:
            defaults: dict[str, Any] = {"temperature": self.settings.models.temperature}
            if resolved.embedded:
                defaults["max_tokens"] = EMBEDDED_MAX_TOKENS
                profile = ModelProfile(
                    structured="grammar",
                    tools="grammar",
                    default_params=defaults,
                    context_window=EMBEDDED_CONTEXT,
                    concurrent_calls=1,  # one llama.cpp slot: requests queue behind each other
                )
            else:
                schema_ok, tools_ok = capabilities(resolved.model)
                profile = ModelProfile(
                    structured="native" if schema_ok else "prompt",
                    tools="native" if tools_ok else "protocol",
                    default_params=defaults,
                )
        self._profiles[resolved.model] = profile
        return profile
