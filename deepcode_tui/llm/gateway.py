"""The model gateway: every model call in the project goes through :class:`Gateway`.

It resolves a role to a model, applies the budget, serves the cache or a
cassette, retries transient failures, streams tokens as events, keeps the
books in ``<run>/llm/calls.jsonl`` and turns failures into clear errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

from pydantic import BaseModel

from deepcode_tui.config.settings import Settings
from deepcode_tui.errors import ConfigError, DeepcodeError, ProviderError
from deepcode_tui.events.models import (
    BudgetStop,
    CostUpdated,
    LLMCallFinished,
    LLMCallStarted,
    LogMessage,
    TokenStreamed,
)
from deepcode_tui.llm import structured as so
from deepcode_tui.llm.accounting import BudgetStatus, Ledger, budget_error, cost_usd
from deepcode_tui.llm.backend import is_warm as litellm_warm
from deepcode_tui.llm.cache import ResponseCache, StoredResponse, rejected_key, request_key
from deepcode_tui.llm.cassette import CassetteWriter, ModelProfile, cassette_reader, forget_cassette
from deepcode_tui.llm.compact import MAX_COMPACTIONS, refit
from deepcode_tui.llm.embedded import EMBEDDED_NOTICE, EmbeddedServer, crash_error
from deepcode_tui.llm.errors import (
    MAX_EMBEDDED_CRASHES,
    MAX_SILENT_ATTEMPTS,
    classify,
    partial_usage,
    scrub,
    silence_error,
    to_error,
    unusable_reply,
)
from deepcode_tui.llm.resolve import ResolvedModel, env_var_for
from deepcode_tui.llm.retry import RetryPolicy, Sleep
from deepcode_tui.llm.router import ModelRouter
from deepcode_tui.llm.tools import tool_loop
from deepcode_tui.llm.transport import litellm_kwargs
from deepcode_tui.llm.types import CallRecord, CheckResult, Completion, ToolRunResult, ToolSpec, Totals, Usage
from deepcode_tui.tokens import count_tokens

Emit = Callable[[Any], Awaitable[Any]]
Check = Callable[[Completion], str | None]  # a caller's test of a reply: None = usable, else why not
M = TypeVar("M", bound=BaseModel)


def _import_litellm() -> None:
    from deepcode_tui.llm.backend import warm_up

    warm_up()  # also what the first call imports lazily: none of it on the caller's loop


class Gateway:
    """One door to every language model. Use as ``async with Gateway(...) as gw``
    (or call :meth:`aclose`) so the embedded server, if started, stops with the app."""

    def __init__(
        self,
        settings: Settings,
        *,
        emit: Emit | None = None,
        run_dir: Path | None = None,
        cache_dir: Path | None = None,
        record_dir: Path | None = None,
        replay_dir: Path | None = None,
        provenance: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if record_dir is not None and replay_dir is not None:
            raise ConfigError("--record and --replay were both given", "use one of them per run")
        self.settings = settings
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self._emit_fn = emit
        self.ledger = Ledger(self.run_dir)
        self.cache = ResponseCache(cache_dir) if cache_dir is not None and replay_dir is None else None
        self.recorder = CassetteWriter(record_dir) if record_dir is not None else None
        self.replay = None
        if replay_dir is not None:
            forget_cassette(replay_dir)  # re-read: the cassette may have been re-recorded
            self.replay = cassette_reader(replay_dir)
        self.retry = RetryPolicy(max_retries=max(0, settings.models.max_retries), sleep=sleep)
        self.router = ModelRouter(
            settings, provenance=provenance, environ=environ, replay=self.replay, recorder=self.recorder
        )
        self._occurrences: Counter[str] = Counter()
        self._name_occurrences: Counter[str] = Counter()
        self._embedded: EmbeddedServer | None = None
        self._embedded_lock = asyncio.Lock()
        # The embedded server answers one request at a time and queues the rest, so a call
        # queued behind two long ones counted its first-byte wait from when it was sent and
        # timed out on a slow machine without the server failing. Calls take turns here
        # instead: each one's silence bounds start when the server starts on it.
        self._embedded_turn = asyncio.Lock()
        self.notices: list[str] = []

    # -- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the embedded server (if this gateway started it) and flush the ledger."""
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        self.ledger.close()

    async def _emit(self, event: Any) -> None:
        if self._emit_fn is not None:
            await self._emit_fn(event)

    async def log(self, message: str, *, level: str = "info") -> None:
        """Tell the user something about the model calls (a LogMessage event)."""
        await self._emit(LogMessage(level=level, message=message))  # type: ignore[arg-type]

    # -- models --------------------------------------------------------------------

    def resolve(self, role: str) -> ResolvedModel:
        """The model serving ``role`` (from the cassette when replaying)."""
        return self.router.resolve(role)

    def profile(self, resolved: ResolvedModel) -> ModelProfile:
        """How requests to ``resolved`` are shaped (structured output, tools, default params)."""
        return self.router.profile(resolved)

    @property
    def notice(self) -> str | None:
        """The embedded-model notice when any role resolves to it (without starting it)."""
        return EMBEDDED_NOTICE if self.router.uses_embedded() else None

    async def _ensure_embedded(self) -> EmbeddedServer:
        async with self._embedded_lock:
            if self._embedded is None or not self._embedded.running:
                log = self.run_dir / "llm" / "embedded-server.log" if self.run_dir else None
                server = EmbeddedServer(log_path=log)
                # Import litellm (~2 s) while the model loads: both stand before the first token.
                importing = asyncio.ensure_future(asyncio.to_thread(_import_litellm))
                try:
                    await server.astart()
                finally:
                    await importing
                self._embedded = server
                if EMBEDDED_NOTICE not in self.notices:
                    self.notices.append(EMBEDDED_NOTICE)
                    await self._emit(LogMessage(level="warning", message=EMBEDDED_NOTICE))
            return self._embedded

    async def warm_up(self) -> None:
        """Do the slow first-call work now (import litellm, start the embedded model if a
        role uses it), e.g. while the app shows its first screen. Safe to skip."""
        if self.router.uses_embedded():
            await self._ensure_embedded()
        else:
            await asyncio.to_thread(_import_litellm)

    # -- budget --------------------------------------------------------------------

    def budget_status(self) -> BudgetStatus | None:
        """The budget already reached, if any (for checkpoints that want to stop early)."""
        b = self.settings.budget
        return self.ledger.exceeded(b.max_cost_usd, b.max_tokens)

    async def ensure_budget(self) -> None:
        """Raise BudgetExceeded (after emitting BudgetStop) when a budget is already reached."""
        status = self.budget_status()
        if status is None:
            return
        await self._emit(BudgetStop(kind=status.kind, limit=status.limit, used=status.used))  # type: ignore[arg-type]
        raise budget_error(status, self.run_dir.name if self.run_dir else None)

    def totals(self) -> Totals:
        """Running totals of this run, per role (including earlier sessions of it)."""
        return self.ledger.totals()

    # -- calls ---------------------------------------------------------------------

    def _transport(
        self, resolved: ResolvedModel, messages: list[dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        embedded_base = self._embedded.api_base if resolved.embedded and self._embedded else None
        return litellm_kwargs(
            resolved, self.settings.models, messages, params, embedded_api_base=embedded_base
        )

    async def complete(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        name: str = "",
        stream: bool = True,
        check: Check | None = None,
        **params: Any,
    ) -> Completion:
        """One model call for ``role``. ``params`` go to litellm (max_tokens, temperature,
        response_format, tools ...). Raises BudgetExceeded, ProviderError or ConfigError.

        ``check(completion)`` is the caller's test of a reply (None when usable, else why
        not): a reply it rejects is never stored as an answer and a stored one it rejects
        is not served (the provider is asked), so the cache only ever answers with a reply
        its caller accepted. The rejection comes back as ``Completion.rejected``; asking
        again is the caller's (with a different request: :mod:`deepcode_tui.llm.correction`).
        A rejected reply is kept apart (``rejected_key``): the next run asking the same
        request gets it back, rejected again, once, so it follows this run's correction from
        the cache instead of paying for the same refused reply (a second run of the README's
        command spent 3 minutes regenerating them on the embedded model)."""
        if not litellm_warm():
            # litellm's import and its first call's lazy imports take seconds: in a thread, not
            # on this loop (the app shares it; it froze for as long on its first model call).
            await asyncio.to_thread(_import_litellm)
        resolved = self.resolve(role)
        await self.ensure_budget()
        profile = self.profile(resolved)
        params = {**profile.default_params, **params}
        msgs = [dict(m) for m in messages]
        name = name or role
        key = request_key(resolved.model, msgs, params)
        call_id = self.ledger.next_call_id()
        await self._emit(LLMCallStarted(call_id=call_id, role=role, model=resolved.model, name=name))
        started = time.perf_counter()

        stored = self.cache.get(key) if self.cache is not None else None
        if stored is not None and check is not None and check(self._completion(stored, resolved, call_id)):
            # Stored before its caller checked replies (or under an older check): not an answer.
            self.cache.drop(key)
            stored = None
        cached = stored is not None
        rejected: str | None = None
        attempts = 0
        wasted = Usage()
        reduced = ""
        if stored is None and check is not None and self.cache is not None and self._occurrences[key] == 0:
            # The reply this request got last time and its caller refused: the same again,
            # without paying for it (the caller's correction, a different request, is cached).
            # Once per run: asking the same request again in this run goes to the provider.
            earlier = self.cache.get(rejected_key(key))
            if earlier is not None:
                rejected = check(self._completion(earlier, resolved, call_id))
                self._occurrences[key] += 1
                if rejected is None:  # today's check accepts it
                    self.cache.put(key, earlier)
                stored, cached = earlier, True
        if stored is not None:
            if stream and stored.text:
                await self._emit(TokenStreamed(call_id=call_id, role=role, text=stored.text))
        else:
            occurrence = self._occurrences[key]
            self._occurrences[key] += 1
            nth_named = self._name_occurrences[name]
            self._name_occurrences[name] += 1
            if self.replay is not None and self.replay.lookup(key, occurrence) is None:
                # The prompt drifted from the recording (a sandbox timing in a trace, a
                # resumed run): replay the reply recorded for the same call at the same
                # position, and say so.
                by_name = self.replay.key_for_name(name, nth_named) if name else None
                if by_name is not None:
                    key, occurrence = by_name
                    await self._emit(
                        LogMessage(
                            level="debug",
                            message=f"replay: call {name!r} differs from the recording; using the reply recorded for it",
                        )
                    )
            if self.replay is not None and self.replay.lookup(key, occurrence) is None:
                error = ProviderError(
                    f"the cassette {self.replay.root} has no recorded reply for call {name!r} ({role}, "
                    f"{resolved.model}, request {key[:12]})",
                    "the prompts or settings differ from the recorded run; record the cassette again",
                )
                await self._finish(call_id, role, resolved, name, key, started, None, attempts=0, error=error)
                raise error
            if resolved.embedded:
                await self._ensure_embedded()
            kwargs = self._transport(resolved, msgs, params)
            if self.replay is not None:
                kwargs["metadata"] = {
                    "deepcode_cassette": str(self.replay.root),
                    "deepcode_request_key": key,
                    "deepcode_occurrence": occurrence,
                }
            stored, attempts, wasted, reduced = await self._with_retries(
                call_id, role, resolved, name, key, started, kwargs, stream
            )
            rejected = check(self._completion(stored, resolved, call_id)) if check is not None else None
            if self.cache is not None and self.replay is None:
                self.cache.put(key if rejected is None else rejected_key(key), stored)
        if self.recorder is not None:
            self.recorder.add(
                key, name=name, role=role, model=resolved.model, messages=msgs, params=params, response=stored
            )
        usage = stored.usage
        if usage.total_tokens == 0:
            # Some servers send no usage when streaming: estimate rather than count the call as free.
            prompt = sum(count_tokens(str(m.get("content") or "")) for m in msgs)
            usage = Usage(prompt_tokens=prompt, completion_tokens=count_tokens(stored.text), estimated=True)
        await self._finish(
            call_id, role, resolved, name, key, started, usage + wasted, attempts=attempts, cached=cached,
            retry_tokens=wasted.total_tokens,
        )  # fmt: skip
        out = self._completion(stored, resolved, call_id, usage=usage, cached=cached)
        out.rejected = rejected or ""
        out.context_reduced = reduced
        return out

    @staticmethod
    def _completion(
        stored: StoredResponse, resolved: ResolvedModel, call_id: str, *, usage: Usage | None = None,
        cached: bool = False,
    ) -> Completion:
        return Completion(
            text=stored.text, usage=usage or stored.usage, model=resolved.model, cached=cached, call_id=call_id,
            finish_reason=stored.finish_reason, tool_calls=stored.tool_calls,
        )  # fmt: skip

    async def _with_retries(
        self,
        call_id: str,
        role: str,
        resolved: ResolvedModel,
        name: str,
        key: str,
        started: float,
        kwargs: dict[str, Any],
        stream: bool,
    ) -> tuple[StoredResponse, int, Usage, str]:
        """The reply, the attempts it took, the tokens the failed ones were billed, and what
        was cut from the request to fit the model's context window ("" when nothing)."""
        from deepcode_tui.llm.transport import Bounds, Silence, attempt

        async def on_token(text: str) -> None:
            await self._emit(TokenStreamed(call_id=call_id, role=role, text=text))

        models = self.settings.models
        loop = asyncio.get_running_loop()
        deadline = loop.time() + models.call_deadline_s
        bounds = Bounds.of(models, deadline)
        # litellm's own HTTP timeout sits just behind ours, so ours fires first and names its setting.
        kwargs["timeout"] = (
            max(models.first_byte_timeout_s, models.idle_timeout_s) if stream else models.timeout_s
        ) + 5
        tries = 0
        silent = 0
        wasted = Usage()
        reduced: list[str] = []
        crashes: list[str] = []  # how the embedded server died during this call's attempts
        while True:
            tries += 1
            try:
                async with self._embedded_turn if resolved.embedded else contextlib.nullcontext():
                    stored = await attempt(
                        kwargs, stream=stream, on_token=on_token if stream else None, bounds=bounds
                    )
                # A cassette answers the same again: only a live model may do better when asked twice.
                unusable = None if resolved.replay else unusable_reply(stored)
                if unusable is None:
                    return stored, tries, wasted, "; ".join(reduced)
                failure = unusable
                wasted = wasted + stored.usage  # an unusable reply is billed all the same
                exc: BaseException | None = None
            except DeepcodeError:
                raise
            except Exception as caught:  # noqa: BLE001 - every provider failure is classified below
                exc = caught
                failure = classify(caught)
                wasted = wasted + partial_usage(caught, kwargs)
                if isinstance(caught, Silence) and caught.setting != "models.call_deadline_s":
                    silent += 1
                fitted = refit(kwargs, failure.detail) if failure.kind == "context" else None
                if fitted is not None and len(reduced) < MAX_COMPACTIONS and loop.time() < deadline:
                    # The one failure a smaller request fixes, for every call (agents, repair,
                    # codegen alike): send it again at once, cut to what the window allows.
                    kwargs.update(fitted[0])
                    reduced.append(fitted[1])
                    await self._emit(
                        LogMessage(
                            level="warning",
                            message=f"call {name!r} ({call_id}, {resolved.model}): longer than the model's "
                            f"context window; asking again with the {fitted[1]}",
                        )
                    )
                    continue
            if resolved.embedded and self._embedded is not None and (how := self._embedded.died()):
                crashes.append(how)
            # Silence twice in a row means the provider is down, not slow: stop early
            # (resumable) instead of spending every retry on the same wait.
            retry = failure.retryable and tries <= self.retry.max_retries and silent < MAX_SILENT_ATTEMPTS
            delay = self.retry.delay(tries - 1, failure.retry_after) if retry else 0.0
            past_deadline = loop.time() + delay >= deadline
            if crashes and (len(crashes) >= MAX_EMBEDDED_CRASHES or not retry or past_deadline):
                # The embedded server died under this call, every time or on its last try: a
                # native crash, named as one (not the network the transport error suggests).
                log_path = self._embedded.log_path if self._embedded is not None else None
                error = crash_error(name, crashes[-1], len(crashes), log_path)
                await self._finish(call_id, role, resolved, name, key, started, wasted, attempts=tries, error=error)
                raise error from None
            if retry and not past_deadline:
                # Tells a view to drop what this call streamed so far: the retry starts over.
                await self._emit(
                    LogMessage(
                        level="warning",
                        message=f"call {name!r} ({call_id}, {resolved.model}): {failure.kind.replace('_', ' ')}"
                        f" (status {failure.status or '-'}); retry {tries}/{self.retry.max_retries} in {delay:.1f}s",
                    )
                )
                await self.retry.sleep(delay)
                if resolved.embedded:
                    # The local server may have died (it is restarted here, on a new port).
                    kwargs["api_base"] = (await self._ensure_embedded()).api_base
                continue
            if failure.kind == "empty" and exc is None:
                # Retries did not help: hand the empty reply to the caller, which knows
                # what an empty answer means for it (codegen retries, structured repairs).
                return stored, tries, wasted, "; ".join(reduced)
            if isinstance(exc, Silence) or (retry and past_deadline):
                error = silence_error(
                    exc if isinstance(exc, Silence) else None, failure, provider=resolved.provider,
                    model=resolved.model, role=role, call_name=name, attempts=tries,
                    deadline_s=models.call_deadline_s, run_id=self.run_dir.name if self.run_dir else None,
                )  # fmt: skip
            else:
                error = to_error(
                    failure,
                    provider=resolved.provider,
                    model=resolved.model,
                    role=role,
                    call_name=name,
                    attempts=tries,
                    env_var=env_var_for(resolved.model),
                    api_base=resolved.api_base,
                    timeout_s=models.timeout_s,
                )
            await self._finish(
                call_id, role, resolved, name, key, started, wasted, attempts=tries, error=error
            )
            raise error from None

    async def _finish(
        self,
        call_id: str,
        role: str,
        resolved: ResolvedModel,
        name: str,
        key: str,
        started: float,
        usage: Usage | None,
        *,
        attempts: int,
        cached: bool = False,
        error: DeepcodeError | None = None,
        retry_tokens: int = 0,
    ) -> None:
        usage = usage or Usage()
        billed = not (cached or resolved.replay)
        # A failed call costs what its attempts were billed (a reply cut by a reset, say).
        cost = cost_usd(resolved.model, usage.prompt_tokens, usage.completion_tokens) if billed else 0.0
        latency = time.perf_counter() - started
        record = CallRecord(
            call_id=call_id,
            ts=datetime.now(UTC).isoformat(timespec="milliseconds"),
            role=role,
            model=resolved.model,
            name=name,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=cost,
            latency_s=round(latency, 4),
            cached=cached,
            replayed=resolved.replay,
            attempts=attempts,
            usage_estimated=usage.estimated,
            retry_tokens=retry_tokens if not error else usage.total_tokens,
            error=scrub(error.message) if error else "",
            request_key=key,
        )
        self.ledger.record(record)
        if self._emit_fn is None:
            return
        await self._emit(
            LLMCallFinished(
                call_id=call_id, role=role, model=resolved.model, name=name,
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                cost_usd=cost, latency_s=latency, cached=cached or resolved.replay, error=record.error,
            )
        )  # fmt: skip
        totals = self.ledger.totals()
        await self._emit(
            CostUpdated(
                total_cost_usd=totals.total_cost_usd,
                total_tokens=totals.total_tokens,
                by_role=self.ledger.by_role_floats(),
            )
        )

    # -- structured output ---------------------------------------------------------

    async def structured(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any]],
        schema: type[M],
        *,
        name: str,
        max_repairs: int = 2,
        stream: bool = True,
        rejected: tuple[str, str] | None = None,
        **params: Any,
    ) -> M:
        """A reply validated as ``schema``. Uses the model's native structured output,
        schema-constrained decoding (embedded model) or JSON in the prompt; on a
        validation error the model sees its error and tries again (``max_repairs``
        times). Then raises StructuredOutputError naming the call and where the
        raw replies were saved (``<run>/llm/failed/``). ``rejected`` = (reply, why) is a
        first answer already refused (a tool loop's): the call starts at its repair round."""
        return await so.structured_call(
            self, role, messages, schema, name=name, max_repairs=max_repairs, stream=stream, rejected=rejected,
            **params,
        )  # fmt: skip

    # -- tools ---------------------------------------------------------------------

    async def with_tools(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[ToolSpec],
        *,
        name: str,
        max_rounds: int = 8,
        final_check: Callable[[str], str | None] | None = None,
        **params: Any,
    ) -> ToolRunResult:
        """Let the model call ``tools`` (up to ``max_rounds`` rounds) before answering.
        Native tool calling where the model has it; otherwise a JSON action protocol.
        ``final_check(text)`` judges the answer (None = usable, else why not): a refused
        answer is never cached as an answer and comes back as ``ToolRunResult.rejected``."""
        return await tool_loop(
            self, role, messages, tools, name=name, max_rounds=max_rounds, final_check=final_check, **params
        )

    # -- ping ----------------------------------------------------------------------

    async def check(self, role: str) -> CheckResult:
        """Ping ``role``'s model with a tiny request; nothing is cached, recorded or billed to a run."""
        from deepcode_tui.llm.ping import ping

        return await ping(self, role)
