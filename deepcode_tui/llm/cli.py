"""CLI pieces of the gateway: the ``models`` command and the run command's gateway flags.

The main CLI registers :data:`models_cmd` and decorates ``run``/``resume``
with :func:`gateway_options`, then builds the gateway with :func:`build_gateway`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import platformdirs

from deepcode_tui.config.settings import ALL_ROLES, APP_NAME, Settings
from deepcode_tui.errors import ConfigError, DeepcodeError
from deepcode_tui.llm.embedded import EMBEDDED_NOTICE, INSTALL_FIX, unavailable_reason
from deepcode_tui.llm.gateway import Emit, Gateway
from deepcode_tui.llm.resolve import ResolvedModel, resolve_role
from deepcode_tui.llm.types import CheckResult

F = TypeVar("F", bound=Callable[..., Any])


def default_cache_dir() -> Path:
    """Where replies are cached between runs (the user's cache directory)."""
    return platformdirs.user_cache_path(APP_NAME) / "llm"


def gateway_options(f: F) -> F:
    """Add ``--record DIR``, ``--replay DIR``, ``--max-cost USD``, ``--max-tokens N`` and ``--no-cache``."""
    options = [
        click.option("--record", "record", type=click.Path(file_okay=False, path_type=Path),
                     help="write every model call of this run to a cassette in DIR"),
        click.option("--replay", "replay", type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="serve every model call from the cassette in DIR, offline"),
        click.option("--max-cost", "max_cost", type=click.FloatRange(min=0, min_open=True), metavar="USD",
                     help="stop the run at the next checkpoint once this much was spent"),
        click.option("--max-tokens", "max_tokens", type=click.IntRange(min=1), metavar="N",
                     help="stop the run at the next checkpoint once this many tokens were used"),
        click.option("--no-cache", "no_cache", is_flag=True, help="do not reuse cached model replies"),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


def budget_overrides(max_cost: float | None, max_tokens: int | None) -> dict[str, Any]:
    """The flags as ``load_settings`` CLI overrides (so provenance shows "cli")."""
    return {"budget.max_cost_usd": max_cost, "budget.max_tokens": max_tokens}


def build_gateway(
    settings: Settings,
    *,
    emit: Emit | None = None,
    run_dir: Path | None = None,
    record: Path | None = None,
    replay: Path | None = None,
    max_cost: float | None = None,
    max_tokens: int | None = None,
    no_cache: bool = False,
    cache_dir: Path | None = None,
    provenance: Mapping[str, str] | None = None,
) -> Gateway:
    """The run's gateway from settings plus the flags of :func:`gateway_options`.
    Budget flags override ``settings.budget``; raises ConfigError for bad flag combinations."""
    if max_cost is not None or max_tokens is not None:
        budget = settings.budget.model_copy(
            update={
                k: v for k, v in {"max_cost_usd": max_cost, "max_tokens": max_tokens}.items() if v is not None
            }
        )
        settings = settings.model_copy(update={"budget": budget})
    return Gateway(
        settings,
        emit=emit,
        run_dir=run_dir,
        cache_dir=None if no_cache else (cache_dir or default_cache_dir()),
        record_dir=record,
        replay_dir=replay,
        provenance=provenance,
    )


def _rows(settings: Settings, provenance: Mapping[str, str]) -> list[tuple[str, ResolvedModel | None, str]]:
    rows: list[tuple[str, ResolvedModel | None, str]] = []
    for role in ALL_ROLES:
        try:
            rows.append((role, resolve_role(settings, role, provenance=provenance), ""))
        except ConfigError as exc:
            rows.append((role, None, exc.one_line()))
    return rows


async def _check_all(settings: Settings, provenance: Mapping[str, str]) -> dict[str, CheckResult]:
    results: dict[str, CheckResult] = {}
    async with Gateway(settings, provenance=provenance) as gateway:
        seen: dict[str, CheckResult] = {}
        for role in ALL_ROLES:
            try:
                model = gateway.resolve(role).model
            except DeepcodeError as exc:
                results[role] = CheckResult(role=role, model="?", ok=False, detail=exc.one_line())
                continue
            if model not in seen:  # one ping per distinct model
                seen[model] = await gateway.check(role)
            results[role] = seen[model].model_copy(update={"role": role})
    return results


def _loaded(ctx: click.Context) -> tuple[Settings, Mapping[str, str]]:
    from deepcode_tui.config.loader import LoadedSettings, load_settings

    found = ctx.find_object(LoadedSettings)
    if found is None and isinstance(ctx.obj, Mapping):
        found = next((v for v in ctx.obj.values() if isinstance(v, LoadedSettings)), None)
    loaded = found or load_settings({})
    return loaded.settings, loaded.provenance


@click.command("models")
@click.option("--check", is_flag=True, help="send each role's model a tiny request to see that it answers")
@click.pass_context
def models_cmd(ctx: click.Context, check: bool) -> None:
    """Show which model serves each role and where that was configured."""
    settings, provenance = _loaded(ctx)
    rows = _rows(settings, provenance)
    results = asyncio.run(_check_all(settings, provenance)) if check else {}
    width = max(len(r[1].model) if r[1] else 14 for r in rows)
    header = (
        f"{'role':<11} {'model':<{width}}  {'check':<14} configured by"
        if check
        else (f"{'role':<11} {'model':<{width}}  configured by")
    )
    click.echo(header)
    failed = False
    for role, resolved, error in rows:
        model = resolved.model if resolved else "(none)"
        source = resolved.source if resolved else error
        status = ""
        if check:
            result = results[role]
            failed |= not result.ok
            status = f"ok {result.latency_s:.2f}s" if result.ok else "FAILED"
            status = f"{status:<14} "
        click.echo(f"{role:<11} {model:<{width}}  {status}{source}")
    if check:
        for role in ALL_ROLES:
            result = results[role]
            if not result.ok:
                click.echo(f"{role}: {result.detail}", err=True)
    if any(r[1] is not None and r[1].embedded for r in rows):
        click.echo("")
        click.echo(EMBEDDED_NOTICE)
        reason = unavailable_reason()
        if reason:
            click.echo(f"The embedded model is not usable here: {reason} ({INSTALL_FIX}).", err=True)
    if failed or any(r[1] is None for r in rows):
        ctx.exit(1)
