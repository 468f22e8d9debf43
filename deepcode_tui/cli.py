"""The ``deepcode-tui`` command line.

``deepcode-tui [DOC]`` opens the app; the subcommands serve scripts and
batches. Errors a user can cause end in one line naming the cause and the
fix, and a non-zero exit; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from deepcode_tui import __version__
from deepcode_tui.errors import DeepcodeError

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)

INTERNAL_ERROR = 70


class _DocOrCommand(click.Group):
    """``deepcode-tui paper.pdf`` means ``deepcode-tui open paper.pdf``.

    Commands owned by phase packages are imported when used (``lazy``), so ``deepcode-tui index``
    does not pay for importing the model gateway."""

    lazy: dict[str, tuple[str, str]]  # name -> (module, attribute); set by _register_optional_commands

    def _lazy(self) -> dict[str, tuple[str, str]]:
        return getattr(self, "lazy", {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._lazy()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self._lazy():
            module, attr = self._lazy()[cmd_name]
            try:
                mod = __import__(module, fromlist=[attr])
            except ImportError:  # an absent optional package simply adds no command
                return None
            self.add_command(getattr(mod, attr), cmd_name)
        return self.commands.get(cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # The first word that is neither an option nor an option's value (``--replay DIR``).
        takes_value = {name for p in self.params if isinstance(p, click.Option) and not p.is_flag for name in p.opts}
        args, position, skip = list(args), None, False
        for i, arg in enumerate(args):
            if skip:
                skip = False
            elif arg in takes_value:
                skip = True
            elif not arg.startswith("-"):
                position = i
                break
        if position is not None and args[position] not in self.commands and args[position] not in self._lazy():
            args.insert(position, "open")
        return super().parse_args(ctx, args)


def _app_flag(name: str, given: Any) -> Any:
    """An ``open`` option, or the same option given before the command (``deepcode-tui --replay DIR``)."""
    if given not in (None, False):
        return given
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return ((root.obj or {}).get("app_flags") or {}).get(name) if root is not None else given


def _settings(**cli: Any):
    from deepcode_tui.config import load_settings

    return load_settings(cli)


def _overrides(
    *, runs_dir=None, max_cost=None, max_tokens=None, pdf_engine=None, model=None, step=None, allow_weak=None,
    refs=None, addendum=None,
) -> dict[str, Any]:
    o: dict[str, Any] = {}
    if addendum:
        from deepcode_tui.ingest.addendum import read_addendum

        read_addendum(addendum)  # refused up front, before a run directory exists
        o["ingest"] = {"addendum": str(Path(addendum).expanduser().resolve())}
    if refs:
        o["rag"] = {"sources": list(refs)}
    if runs_dir:
        o["runs_dir"] = str(runs_dir)
    if max_cost is not None or max_tokens is not None:
        o["budget"] = {k: v for k, v in (("max_cost_usd", max_cost), ("max_tokens", max_tokens)) if v is not None}
    if pdf_engine:
        o.setdefault("ingest", {})["pdf_engine"] = pdf_engine
    if model:
        o["models"] = {"default": model}
    if step:
        o["verify"] = {"step": True}
    if allow_weak:
        o["sandbox"] = {"allow_weak": True}
    return o


@click.group(cls=_DocOrCommand, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="deepcode-tui")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("--record", type=click.Path(path_type=Path), help="App: record every model call to a cassette here.")
@click.option("--replay", type=click.Path(path_type=Path), help="App: replay model calls from this cassette (offline).")
@click.option("--no-cache", is_flag=True, help="App: do not reuse cached model replies.")
@click.option("--model", help="App: litellm model string for every role without its own.")
@click.option("--runs-dir", type=click.Path(path_type=Path), help="App: where run directories live.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, **app_flags: Any) -> Any:
    """Turn a paper or a software requirement into a working repository.

    Run without a command to open the app; `deepcode-tui DOC` opens the app on DOC.
    The app's options (--replay, --record, --model ...) may come before DOC or alone.
    """
    ctx.obj = {"debug": debug, "app_flags": app_flags}
    if ctx.invoked_subcommand is None:
        return ctx.invoke(open_cmd, doc=None, **app_flags)


@cli.command("open")
@click.argument("doc", type=click.Path(path_type=Path), required=False)
@click.option("--record", type=click.Path(path_type=Path), help="Record every model call to a cassette here.")
@click.option("--replay", type=click.Path(path_type=Path), help="Replay model calls from this cassette (offline).")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached model replies.")
@click.option("--model", help="litellm model string for every role without its own.")
@click.option("--runs-dir", type=click.Path(path_type=Path), help="Where run directories live.")
def open_cmd(
    doc: Path | None,
    record: Path | None = None,
    replay: Path | None = None,
    no_cache: bool = False,
    model: str | None = None,
    runs_dir: Path | None = None,
) -> int:
    """Open the app (optionally on DOC)."""
    from deepcode_tui.tui.app import run_app

    record, replay, no_cache = _app_flag("record", record), _app_flag("replay", replay), _app_flag("no_cache", no_cache)
    model, runs_dir = _app_flag("model", model), _app_flag("runs_dir", runs_dir)
    flags = {"record": record, "replay": replay, "no_cache": no_cache}
    loaded = _settings(**_overrides(model=model, runs_dir=runs_dir))
    return run_app(doc=doc, loaded=loaded, services={"llm_flags": flags, "provenance": loaded.provenance})


def _run_options(f):
    for opt in reversed(
        [
            click.option("--out", "out", type=click.Path(path_type=Path), help="Write the repository here (new or empty)."),
            click.option("--yes", "-y", is_flag=True, help="Approve the blueprint (and every gate) automatically."),
            click.option("--max-cost", type=float, help="Stop at the next checkpoint once this many USD are spent."),
            click.option("--max-tokens", type=int, help="Stop at the next checkpoint after this many tokens."),
            click.option("--record", type=click.Path(path_type=Path), help="Record every model call to a cassette here."),
            click.option("--replay", type=click.Path(path_type=Path), help="Replay model calls from this cassette (offline)."),
            click.option("--no-cache", is_flag=True, help="Do not reuse cached model replies."),
            click.option("--pdf-engine", type=click.Choice(["default", "marker"]), help="PDF engine."),
            click.option("--model", help="litellm model string for every role without its own."),
            click.option("--step", is_flag=True, help="Pause before applying each repair patch."),
            click.option("--allow-weak-sandbox", "allow_weak", is_flag=True, help="Allow the plain-subprocess sandbox."),
            click.option("--runs-dir", type=click.Path(path_type=Path), help="Where run directories live."),
            click.option("--ref", "refs", multiple=True, help="A reference source for CodeRAG (dir, git URL, pkg:NAME)."),
            click.option("--addendum", type=click.Path(path_type=Path),
                         help="Clarifications of the document (e.g. PaperBench's addendum.md): answers open questions."),
            click.option("--verbose", "-v", is_flag=True, help="Print every file and finding."),
        ]
    ):
        f = opt(f)
    return f


def _start(doc: Path, opts: dict[str, Any], *, command: str, stop_after: str | None) -> int:
    from deepcode_tui.pipeline.inputs import check_input, check_out_dir
    from deepcode_tui.store.run import RunStore

    doc = check_input(doc)
    out = check_out_dir(opts.get("out"))
    loaded = _settings(**_overrides(**_pick(opts)))
    store = RunStore.create(
        loaded.settings.runs_dir, doc, repo_dir=out, command=command, config=loaded.snapshot(),
        llm_flags=_llm_flags(opts),
    )
    return _drive(store, loaded, opts, stop_after=stop_after, new_run=True)


def _llm_flags(opts: dict[str, Any]) -> dict[str, Any]:
    return {k: _app_flag(k, opts.get(k)) for k in ("record", "replay", "no_cache")}


def _pick(opts: dict[str, Any]) -> dict[str, Any]:
    keys = ("runs_dir", "max_cost", "max_tokens", "pdf_engine", "model", "step", "allow_weak", "refs", "addendum")
    return {k: opts.get(k) for k in keys}


def _drive(
    store, loaded, opts: dict[str, Any], *, stop_after: str | None, new_run: bool, settings=None,
    llm_flags: dict[str, Any] | None = None,
) -> int:
    from deepcode_tui.headless import HeadlessDisplay
    from deepcode_tui.pipeline.driver import drive
    from deepcode_tui.pipeline.gate import AutoApproveGate, ConsoleGate

    gate = AutoApproveGate() if opts.get("yes") else ConsoleGate()
    display = HeadlessDisplay(err_console, verbose=bool(opts.get("verbose")))
    services = {"llm_flags": _llm_flags(opts) if llm_flags is None else llm_flags, "provenance": loaded.provenance}
    try:
        outcome = asyncio.run(
            drive(
                store,
                settings or loaded.settings,
                gate,
                observers=[display],
                stop_after=stop_after,
                services=services,
                new_run=new_run,
            )
        )
    finally:
        display.close()
        store.close()
    err_console.print(display.summary_table(store.run_id))
    # A run on the embedded model that did not pass ends by saying why (the model is tiny)
    # and how to configure a real one: those lines come last, after the error or status.
    ending = display.ending(outcome.status)
    if outcome.error is not None:
        if not ending:
            raise outcome.error
        _print_error(outcome.error)
    else:
        out_console.print(f"run {store.run_id}: {outcome.status}. Repository: {store.repo_dir}")
    for line in ending:
        err_console.print(line, soft_wrap=True)
    return outcome.exit_code


@cli.command("run")
@click.argument("doc", type=click.Path(path_type=Path))
@_run_options
def run_cmd(doc: Path, **opts: Any) -> int:
    """Headless: ingest DOC, plan, generate and verify a repository."""
    return _start(doc, opts, command="run", stop_after=None)


@cli.command("plan")
@click.argument("doc", type=click.Path(path_type=Path))
@_run_options
def plan_cmd(doc: Path, **opts: Any) -> int:
    """Headless: run up to the blueprint and stop (resume later to generate code)."""
    return _start(doc, opts, command="plan", stop_after="blueprint")


@cli.command("resume")
@click.argument("run_id")
@_run_options
@click.option(
    "--use-todays-models", "todays_models", is_flag=True,
    help="Continue with the models and model flags configured now, not the ones the run was started with.",
)  # fmt: skip
def resume_cmd(run_id: str, **opts: Any) -> int:
    """Continue RUN from its last completed step, on the models (and cassette) it was started with."""
    from deepcode_tui.store.catalog import summarize_run
    from deepcode_tui.store.run import RunStore, find_run, lock_holder

    loaded = _settings(**_overrides(**_pick(opts)))
    root = find_run(loaded.settings.runs_dir, run_id)
    summary = summarize_run(root)
    if summary.status == "damaged":
        raise DeepcodeError(
            f"run {summary.run_id} has a damaged event log and cannot be resumed safely",
            f"inspect {root / 'events.jsonl'}; nothing was changed",
        )
    if summary.status == "running":
        holder = lock_holder(root)
        raise DeepcodeError(
            f"run {summary.run_id} is being driven by another deepcode-tui process"
            f"{f' (pid {holder})' if holder else ''}",
            "wait for it to finish, or stop that process (Esc in the app, Ctrl-C headless), then resume",
        )
    if not summary.resumable:
        raise DeepcodeError(
            f"run {summary.run_id} already finished ({summary.status})",
            "start a new run with `deepcode-tui run DOC`",
        )
    store = RunStore.open(loaded.settings.runs_dir, summary.run_id)
    stop_after = "blueprint" if store.manifest.command == "plan" and not opts.get("yes") else None
    settings, flags = _resume_models(store, loaded, opts)
    return _drive(store, loaded, opts, stop_after=stop_after, new_run=False, settings=settings, llm_flags=flags)


_MODEL_OPTIONS = {"model": "--model", "record": "--record", "replay": "--replay", "no_cache": "--no-cache"}


def _resume_models(store, loaded, opts: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The settings and model flags a headless resume drives with, and one line saying which.

    As in the app (its "Use the run's" / "Use today's"), a run continues on the models and
    cassette it was started with unless told otherwise: a run started with ``--replay``
    must not go on with whatever is configured today. ``--use-todays-models``, or a model
    option given to ``resume`` itself, chooses today's."""
    from deepcode_tui.pipeline import resume_config

    flags = _llm_flags(opts)
    differences = resume_config.model_differences(store.manifest, loaded.settings, {"llm_flags": flags})
    if not differences:
        return None, flags
    given = [name for key, name in _MODEL_OPTIONS.items() if opts.get(key) not in (None, False)]
    what = resume_config.describe(differences)
    if opts.get("todays_models") or given:
        why = "--use-todays-models" if opts.get("todays_models") else ", ".join(given) + " given"
        err_console.print(
            f"run {store.run_id}: continuing with today's models ({why}): {what}", soft_wrap=True, markup=False
        )
        return None, flags
    settings, services = resume_config.recorded_setup(store.manifest, loaded.settings, {"llm_flags": flags})
    err_console.print(
        f"run {store.run_id}: continuing with the models it was started with ({what}); "
        "--use-todays-models uses today's",
        soft_wrap=True,
        markup=False,
    )
    return settings, services["llm_flags"]


@cli.command("runs")
@click.option("--runs-dir", type=click.Path(path_type=Path), help="Where run directories live.")
def runs_cmd(runs_dir: Path | None) -> int:
    """List runs: id, input, phase, status, cost so far, age."""
    from deepcode_tui.store.catalog import list_runs

    loaded = _settings(**_overrides(runs_dir=runs_dir))
    summaries, problems = list_runs(loaded.settings.runs_dir)
    if not summaries and not problems:
        out_console.print(f"no runs yet in {loaded.settings.runs_dir}")
        return 0
    table = Table(show_header=True, header_style="bold")
    from deepcode_tui.grade.latest import latest_score

    for col in ("run", "input", "phase", "status", "cost", "age", "score"):
        table.add_column(col, overflow="fold")
    for s in summaries:
        score = latest_score(loaded.settings.runs_dir / s.run_id)  # the newest PaperBench grade, if any
        table.add_row(s.run_id, Path(s.input_path).name, s.phase, s.status, f"${s.cost_usd:.4f}", s.age(), score)
    out_console.print(table)
    for line in problems:
        err_console.print(f"[yellow]unreadable run: {line}[/]")
    return 0


@cli.group("config")
def config_group() -> None:
    """Show or change configuration."""


@config_group.command("show")
def config_show() -> int:
    """Print the effective configuration and where each value came from (secrets redacted)."""
    loaded = _settings()
    table = Table(show_header=True, header_style="bold")
    for col in ("setting", "value", "source"):
        table.add_column(col, overflow="fold")
    for key, value, source in loaded.rows():
        table.add_row(key, value, source)
    # Piped into grep or a file, a value folded at 80 columns would not be found
    # whole: off a terminal the table is as wide as its longest row.
    console = out_console if out_console.is_terminal else Console(highlight=False, width=10_000)
    console.print(table)
    for name, path in loaded.files.items():
        out_console.print(f"{name} config file: {path or '(none)'}")
    return 0


@config_group.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--user", "scope", flag_value="user", help="Write the user config file.")
@click.option("--project", "scope", flag_value="project", default=True, help="Write ./deepcode.toml (default).")
def config_set(key: str, value: str, scope: str) -> int:
    """Set KEY (dotted, e.g. models.coder) to VALUE, keeping the file's comments."""
    import tomllib

    from deepcode_tui.config import set_config_value, user_config_path
    from deepcode_tui.config.loader import find_project_config

    try:  # accept TOML literals (numbers, booleans, lists); anything else is a string
        parsed: Any = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    path = user_config_path() if scope == "user" else (find_project_config() or Path("deepcode.toml"))
    set_config_value(path, key, parsed)
    out_console.print(f"set {key} in {path}")
    return 0


def _register_optional_commands() -> None:
    """Commands owned by phase packages, imported on first use; absent packages simply add nothing."""
    cli.lazy = {"index": ("deepcode_tui.ingest.cli", "index_cmd"), "models": ("deepcode_tui.llm.cli", "models_cmd"),
                "batch": ("deepcode_tui.batch.cli", "batch_cmd"), "grade": ("deepcode_tui.grade.cli", "grade_cmd")}


_register_optional_commands()


def _print_error(exc: DeepcodeError) -> None:
    err_console.print(f"[red]error:[/] {exc.message}" + (f" [bold]fix:[/] {exc.fix}" if exc.fix else ""), soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="deepcode-tui", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.Abort:
        err_console.print("aborted")
        code = 130
    except DeepcodeError as exc:
        if debug:
            traceback.print_exc()
        _print_error(exc)
        code = exc.exit_code
    except KeyboardInterrupt:
        err_console.print("interrupted")
        code = 130
    except Exception as exc:  # the last line of defence: one line unless --debug
        if debug:
            traceback.print_exc()
        err_console.print(f"[red]internal error:[/] {type(exc).__name__}: {exc} (rerun with --debug for details)")
        code = INTERNAL_ERROR
    sys.exit(code if isinstance(code, int) else 0)
