"""Lazy access to litellm.

Importing litellm takes about two seconds, so nothing in ``deepcode_tui.llm``
imports it at module level: callers use :func:`get_litellm`, which also
forces litellm's bundled cost map (no network fetch at import) and registers
the project's custom providers (``replay/``, ``scripted/``) once.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from typing import Any

_lock = threading.Lock()


@functools.cache
def _load() -> Any:
    # Must be set before the import: otherwise litellm fetches its cost map over the network.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # Likewise the Anthropic beta-header table, fetched on the first anthropic/ call otherwise.
    os.environ.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")
    import litellm

    # litellm's own typed dicts trip a pydantic warning on the first tool call; not ours to fix.
    warnings.filterwarnings("ignore", message=r".*is using the `ReadOnly` qualifier.*", category=UserWarning)
    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stdout
    litellm.telemetry = False
    return litellm


def get_litellm() -> Any:
    """The litellm module, imported on first use, with our providers registered."""
    with _lock:
        litellm = _load()
        _register_providers(litellm)
    return litellm


def _register_providers(litellm: Any) -> None:
    from deepcode_tui.llm.providers import ReplayProvider, ScriptedProvider

    have = {item["provider"] for item in litellm.custom_provider_map}
    # Rebuilt if someone replaced the list (a test, another library); cheap when present.
    if "replay" not in have:
        litellm.custom_provider_map.append({"provider": "replay", "custom_handler": ReplayProvider()})
    if "scripted" not in have:
        litellm.custom_provider_map.append({"provider": "scripted", "custom_handler": ScriptedProvider()})
