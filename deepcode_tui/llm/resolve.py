"""Which model serves each role, and where that choice came from.

Order: the role's own setting, then ``models.default``; when neither is set,
a provider key found in the environment picks that provider's default model;
with no key either (and ``models.embedded`` on) the embedded tiny model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel

from deepcode_tui.config.settings import ALL_ROLES, ROLES, Settings
from deepcode_tui.errors import ConfigError

EMBEDDED_MODEL = "embedded/smollm2-135m-instruct"
EMBEDDED_SERVED_NAME = "smollm2"

# (environment variable, litellm provider, model picked when only this key is set).
# Kept in step with the keys litellm.validate_environment() asks for; a test checks it.
PROVIDER_KEYS: tuple[tuple[str, str, str | None], ...] = (
    ("ANTHROPIC_API_KEY", "anthropic", "anthropic/claude-sonnet-4-5"),
    ("OPENAI_API_KEY", "openai", "openai/gpt-4.1"),
    ("GEMINI_API_KEY", "gemini", "gemini/gemini-2.5-pro"),
    ("GOOGLE_API_KEY", "gemini", "gemini/gemini-2.5-pro"),
    ("DEEPSEEK_API_KEY", "deepseek", "deepseek/deepseek-chat"),
    ("MISTRAL_API_KEY", "mistral", "mistral/mistral-large-latest"),
    ("XAI_API_KEY", "xai", None),
    ("GROQ_API_KEY", "groq", None),
    ("OPENROUTER_API_KEY", "openrouter", None),
    ("TOGETHERAI_API_KEY", "together_ai", None),
    ("FIREWORKS_AI_API_KEY", "fireworks_ai", None),
    ("COHERE_API_KEY", "cohere", None),
    ("PERPLEXITYAI_API_KEY", "perplexity", None),
    ("CEREBRAS_API_KEY", "cerebras", None),
    ("HUGGINGFACE_API_KEY", "huggingface", None),
    ("REPLICATE_API_KEY", "replicate", None),
    ("NVIDIA_NIM_API_KEY", "nvidia_nim", None),
    ("AZURE_API_KEY", "azure", None),
    ("AZURE_OPENAI_API_KEY", "azure", None),
)

# Providers that speak the OpenAI protocol to a user-chosen server: the only
# ones ``models.api_base``/``models.api_key`` apply to, so a hybrid setup
# (cloud planner, local vLLM coder) needs no per-role endpoint settings.
OPENAI_COMPATIBLE = frozenset(
    {
        "openai",
        "hosted_vllm",
        "ollama",
        "ollama_chat",
        "lm_studio",
        "llamafile",
        "custom_openai",
        "openai_like",
        "litellm_proxy",
        "text-completion-openai",
        "xinference",
    }
)


class ResolvedModel(BaseModel):
    """A role's model. ``model`` is the logical name (recorded, hashed, shown);
    ``litellm_model`` and ``api_base`` are how it is reached."""

    role: str
    model: str
    source: str
    litellm_model: str
    api_base: str | None = None
    embedded: bool = False
    replay: bool = False

    @property
    def provider(self) -> str:
        return provider_of(self.model)


def provider_of(model: str) -> str:
    """The litellm provider prefix of ``model`` (``openai`` when there is none)."""
    return model.split("/", 1)[0] if "/" in model else "openai"


def env_var_for(model: str) -> str | None:
    """The environment variable holding the API key for ``model``'s provider, if known."""
    provider = provider_of(model)
    for var, prov, _ in PROVIDER_KEYS:
        if prov == provider:
            return var
    return None


def keys_in_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """Names of provider key variables that are set (non-empty) in ``environ``."""
    env = os.environ if environ is None else environ
    return [var for var, _, _ in PROVIDER_KEYS if env.get(var)]


def _source(provenance: Mapping[str, str] | None, key: str) -> str:
    src = (provenance or {}).get(key, "settings")
    return f"{src}: {key}"


def resolve_role(
    settings: Settings,
    role: str,
    *,
    provenance: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ResolvedModel:
    """Resolve ``role`` to a model; raises ConfigError when nothing usable is configured."""
    if role not in ALL_ROLES:
        raise ConfigError(f"unknown model role {role!r}", f"use one of: {', '.join(ALL_ROLES)}")
    models = settings.models
    own = getattr(models, role, None)
    configured = own or models.default
    if configured:
        key = f"models.{role}" if own else "models.default"
        api_base = models.api_base if provider_of(configured) in OPENAI_COMPATIBLE else None
        return ResolvedModel(
            role=role,
            model=configured,
            source=_source(provenance, key),
            litellm_model=configured,
            api_base=api_base,
        )
    if models.api_base:
        raise ConfigError(
            f"models.api_base is set ({models.api_base}) but no model is configured for role {role!r}",
            "set models.default to the served model, e.g. `openai/<model-name>` for an OpenAI-compatible server",
        )
    env = os.environ if environ is None else environ
    for var, provider, default in PROVIDER_KEYS:
        if not env.get(var):
            continue
        if default is None:
            raise ConfigError(
                f"{var} is set but no model is configured for role {role!r}",
                f"set models.default (deepcode.toml or DEEPCODE_MODELS__DEFAULT), e.g. `{provider}/<model>`",
            )
        return ResolvedModel(role=role, model=default, source=f"auto: {var} is set", litellm_model=default)
    if models.embedded:
        return ResolvedModel(
            role=role,
            model=EMBEDDED_MODEL,
            source="embedded: no model configured and no provider key in the environment",
            litellm_model=f"openai/{EMBEDDED_SERVED_NAME}",
            embedded=True,
        )
    raise ConfigError(
        f"no model is configured for role {role!r} and the embedded model is turned off",
        "set models.default (e.g. `anthropic/claude-sonnet-4-5`) and the provider's API key, "
        "or set models.embedded = true",
    )


def resolve_all(
    settings: Settings,
    *,
    provenance: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, ResolvedModel]:
    """Every role resolved (raises on the first role that cannot be)."""
    return {r: resolve_role(settings, r, provenance=provenance, environ=environ) for r in ROLES}
