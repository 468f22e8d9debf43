"""``models --check``: one tiny request per role, outside any run's books."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.llm.errors import classify, to_error
from deepcode_tui.llm.resolve import env_var_for
from deepcode_tui.llm.types import CheckResult

if TYPE_CHECKING:
    from deepcode_tui.llm.gateway import Gateway

PING = [{"role": "user", "content": "Reply with the single word: pong"}]


async def ping(gateway: Gateway, role: str) -> CheckResult:
    """Whether ``role``'s model answers; failures are results (with the error's one line), not raises.
    Nothing is cached, recorded, retried or added to a run's calls.jsonl."""
    from deepcode_tui.llm.transport import attempt

    try:
        resolved = gateway.resolve(role)
    except DeepcodeError as exc:
        return CheckResult(role=role, model="?", ok=False, detail=exc.one_line())
    if resolved.replay:
        return CheckResult(
            role=role, model=resolved.model, ok=True, detail="served offline from the cassette"
        )
    timeout = min(60.0, gateway.settings.models.timeout_s)
    started = time.perf_counter()
    try:
        if resolved.embedded:
            await gateway._ensure_embedded()
        params = {**gateway.profile(resolved).default_params, "max_tokens": 8}
        kwargs = gateway._transport(resolved, [dict(m) for m in PING], params)
        reply = await attempt(kwargs, stream=False, timeout_s=timeout, on_token=None)
    except DeepcodeError as exc:
        return CheckResult(role=role, model=resolved.model, ok=False, detail=exc.one_line())
    except Exception as exc:  # noqa: BLE001 - a failed ping is a result, not a crash
        error = to_error(
            classify(exc), provider=resolved.provider, model=resolved.model, role=role, call_name="check",
            attempts=1, env_var=env_var_for(resolved.model), api_base=resolved.api_base, timeout_s=timeout,
        )  # fmt: skip
        return CheckResult(role=role, model=resolved.model, ok=False, detail=error.one_line())
    latency = time.perf_counter() - started
    return CheckResult(
        role=role, model=resolved.model, ok=True, latency_s=latency, detail=reply.text.strip()[:40]
    )
