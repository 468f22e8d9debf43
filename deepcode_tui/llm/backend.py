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


@functools.cache
def _warm() -> None:
    import asyncio

    litellm = get_litellm()
    messages = [{"role": "user", "content": "warm-up"}]

    async def calls() -> None:
        # mock_response: no network; the call still walks acompletion's path, whose modules
        # litellm imports lazily on the first real call (~3 s, 15+ s on a loaded machine).
        await litellm.acompletion(model="openai/deepcode-warm-up", messages=messages, mock_response="ok")
        stream = await litellm.acompletion(
            model="openai/deepcode-warm-up", messages=messages, mock_response="ok", stream=True
        )
        async for _chunk in stream:
            pass

    try:
        asyncio.run(calls())
    except Exception:  # noqa: BLE001, S110 - a failed warm-up leaves the rest to the first call (done once)
        pass


def warm_up() -> None:
    """Import litellm and everything its first call imports. Blocking: call it in a thread
    (``asyncio.to_thread(warm_up)``), never on an event loop a user is waiting on; once done,
    the first real call costs no import time on the caller's loop."""
    with _warm_lock:
        _warm()


_warm_lock = threading.Lock()


def is_warm() -> bool:
    """Whether :func:`warm_up` has run (then litellm calls import nothing more)."""
    return _warm.cache_info().currsize > 0


def _register_providers(litellm: Any) -> None:
    from deepcode_tui.llm.providers import ReplayProvider, ScriptedProvider

    have = {item["provider"] for item in litellm.custom_provider_map}
    # Rebuilt if someone replaced the list (a test, another library); cheap when present.
    if "replay" not in have:
        litellm.custom_provider_map.append({"provider": "replay", "custom_handler": ReplayProvider()})
    if "scripted" not in have:
        litellm.custom_provider_map.append({"provider": "scripted", "custom_handler": ScriptedProvider()})
