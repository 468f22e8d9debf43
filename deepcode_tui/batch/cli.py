"""``deepcode-tui batch``: many documents as one batch on Ray; ``batch approve``; ``batch status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from deepcode_tui.errors import ConfigError, DeepcodeError

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)
SUBCOMMANDS = ("start", "approve", "status", "watch")


class _BatchGroup(click.Group):
    """``batch DOC...`` means ``batch start DOC...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = next((a for a in args if not a.startswith("-")), None)
        if first not in self.commands:
            args = ["start", *args]
        return super().parse_args(ctx, args)


def _rates(rpm: tuple[str, ...], tpm: tuple[str, ...]):
    from deepcode_tui.batch.models import RateLimit

    rates: dict[str, RateLimit] = {}
    for values, field in ((rpm, "requests"), (tpm, "tokens")):
        for raw in values:
            provider, _, number = raw.rpartition("=")
            try:
                n = int(number)
                if n < 1:
                    raise ValueError
            except ValueError:
                raise ConfigError(f"--{'rpm' if field == 'requests' else 'tpm'} {raw!r} is not a positive number",
                                  "give N or PROVIDER=N, e.g. --rpm 60 --rpm openai=500") from None
            limit = rates.setdefault(provider or "*", RateLimit())
            setattr(limit, field, n)
    return rates


def _docs(docs: tuple[Path, ...], list_file: Path | None) -> list[Path]:
    found = list(docs)
    if list_file is not None:
        try:
            lines = list_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read --from {list_file}: {exc.strerror}", "give a text file, one document a line") from None
        base = list_file.resolve().parent
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                path = Path(line).expanduser()
                found.append(path if path.is_absolute() else base / path)
    return found


def _batches_dir(batch_dir: Path | None) -> Path:
    from deepcode_tui.batch.store import default_batches_dir

    return Path(batch_dir).expanduser() if batch_dir else default_batches_dir()


@click.group("batch", cls=_BatchGroup)
def batch_cmd() -> None:
    """Run many documents as one batch on Ray (`batch DOC...`), answer its gates (`batch approve`)."""


@batch_cmd.command("start")
@click.argument("docs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--from", "list_file", type=click.Path(path_type=Path, dir_okay=False), help="A file listing documents, one a line.")
@click.option("--workers", type=click.IntRange(min=1), help="At most N runs at once (default: what the cluster's CPUs allow).")
@click.option("--ray", "ray_address", metavar="auto|ADDRESS", help="Join a Ray cluster instead of starting a local one.")
@click.option("--batch-dir", type=click.Path(path_type=Path, file_okay=False), help="Where batches live; on a cluster a path every node mounts.")
@click.option("--yes", "-y", is_flag=True, help="Approve every gate automatically (else they wait for `batch approve`).")
@click.option("--grade", "rubric_dir", type=click.Path(path_type=Path, exists=True, file_okay=False), help="Grade each run with RUBRIC_DIR/<stem>.")
@click.option("--replay-root", type=click.Path(path_type=Path, exists=True, file_okay=False), help="Replay DIR/<document stem>/ for each document (offline).")
@click.option("--resume", "resume_id", metavar="BATCH_ID", help="Continue a stopped or unfinished batch.")
@click.option("--max-cost", type=float, help="Each run's cost budget (USD).")
@click.option("--max-tokens", type=int, help="Each run's token budget.")
@click.option("--batch-max-cost", type=click.FloatRange(min=0, min_open=True), help="The whole batch's cost budget (USD).")
@click.option("--batch-max-tokens", type=click.IntRange(min=1), help="The whole batch's token budget.")
@click.option("--rpm", multiple=True, metavar="[PROVIDER=]N", help="Requests per minute per provider, shared by all runs.")
@click.option("--tpm", multiple=True, metavar="[PROVIDER=]N", help="Tokens per minute per provider, shared by all runs.")
@click.option("--cpus-per-run", type=click.FloatRange(min=0.1), default=1.0, show_default=True, help="CPUs Ray reserves per run.")
@click.option("--memory-per-run", "memory_mb", type=click.IntRange(min=64), default=1024, show_default=True, help="Memory (MB) Ray reserves per run.")
@click.option("--max-retries", type=click.IntRange(min=0, max=20), default=3, show_default=True, help="Retries of a run whose worker died.")
@click.option("--local-cpus", type=click.IntRange(min=1), help="CPUs of the local Ray instance (default: all).")
@click.option("--model", help="litellm model string for every role without its own.")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached model replies.")
@click.option("--allow-weak-sandbox", "allow_weak", is_flag=True, help="Allow the plain-subprocess sandbox.")
def start_cmd(docs: tuple[Path, ...], **o: Any) -> int:
    """Run every DOC as its own run, in parallel on Ray. See also `batch approve` and `batch status`."""
    from deepcode_tui.batch.api import execute, new_batch
    from deepcode_tui.batch.models import BatchLimits
    from deepcode_tui.batch.store import find_batch, load_manifest, save_manifest
    from deepcode_tui.batch.summary import summary_lines, summary_table

    root = _batches_dir(o["batch_dir"])
    rates = _rates(o["rpm"], o["tpm"])
    if o["resume_id"]:
        if docs or o["list_file"]:
            raise ConfigError("--resume continues a batch with its own documents", "drop the documents, or start a new batch")
        batch_dir = find_batch(root, o["resume_id"])
        manifest = load_manifest(batch_dir)
        # Budgets and limits given again replace the old ones (a budget stop resumes with more).
        if o["batch_max_cost"] is not None:
            manifest.limits.max_cost_usd = o["batch_max_cost"]
        if o["batch_max_tokens"] is not None:
            manifest.limits.max_tokens = o["batch_max_tokens"]
        manifest.limits.rates.update(rates)
        if o["ray_address"]:
            manifest.ray_address = o["ray_address"]
        manifest.status = "running"
        save_manifest(batch_dir, manifest)
    else:
        documents = _docs(docs, o["list_file"])
        if not documents:
            raise ConfigError("no documents given", "name them (`batch a.pdf b.md`) or list them with --from LIST.txt")
        from deepcode_tui.cli import _overrides

        overrides = _overrides(max_cost=o["max_cost"], max_tokens=o["max_tokens"], model=o["model"],
                               allow_weak=o["allow_weak"])
        limits = BatchLimits(rates=rates, max_cost_usd=o["batch_max_cost"], max_tokens=o["batch_max_tokens"])
        batch_dir, manifest = new_batch(
            documents, batches_dir=root, overrides=overrides, auto_approve=o["yes"], replay_root=o["replay_root"],
            rubric_dir=o["rubric_dir"], ray_address=o["ray_address"], limits=limits, workers=o["workers"],
            cpus_per_run=o["cpus_per_run"], memory_mb_per_run=o["memory_mb"], max_retries=o["max_retries"],
            no_cache=o["no_cache"],
        )
    err.print(f"[bold]batch[/] {manifest.batch_id}  [dim]{batch_dir}[/]")
    try:
        final = execute(batch_dir, say=lambda line: err.print(line, soft_wrap=True), local_cpus=o["local_cpus"])
    except DeepcodeError:
        _print_summary(batch_dir)
        raise
    err.print(summary_table(final))
    for line in summary_lines(final):
        out.print(line, soft_wrap=True)
    from deepcode_tui.batch.runner import exit_code

    return exit_code(final)


def _print_summary(batch_dir: Path) -> None:
    from deepcode_tui.batch.store import load_manifest
    from deepcode_tui.batch.summary import summary_table

    try:
        err.print(summary_table(load_manifest(batch_dir)))
    except DeepcodeError:
        pass


@batch_cmd.command("approve")
@click.argument("batch_id")
@click.argument("run_id", required=False)
@click.option("--reject", "feedback", metavar="FEEDBACK", help="Reject with this feedback for the planner.")
@click.option("--edited", is_flag=True, help="Approve the artifact as you edited it in place.")
@click.option("--all", "all_", is_flag=True, help="Approve every waiting run.")
@click.option("--batch-dir", type=click.Path(path_type=Path, file_okay=False), help="Where batches live.")
def approve_cmd(batch_id: str, run_id: str | None, feedback: str | None, edited: bool, all_: bool,
                batch_dir: Path | None) -> int:
    """List the runs of BATCH_ID waiting at a gate, or answer RUN_ID's (approve by default)."""
    from deepcode_tui.batch.approvals import answer, pending_gates
    from deepcode_tui.batch.store import find_batch
    from deepcode_tui.pipeline.gate import GateDecision

    folder = find_batch(_batches_dir(batch_dir), batch_id)
    waiting = pending_gates(folder)
    if run_id is None and not all_:
        if not waiting:
            out.print(f"no run of {folder.name} is waiting for approval")
        for gate in waiting:
            out.print(f"{gate.run_id}  {gate.gate}  {gate.artifact or gate.prompt}")
        return 0
    if feedback is not None:
        decision = GateDecision(decision="reject", feedback=feedback)
    else:
        decision = GateDecision(decision="edit" if edited else "approve")
    targets = [g.run_id for g in waiting] if all_ else [run_id]
    for target in targets:
        gate = answer(folder, target, decision)
        out.print(f"{gate.run_id}: {gate.gate} {decision.decision}")
    return 0


@batch_cmd.command("status")
@click.argument("batch_id")
@click.option("--batch-dir", type=click.Path(path_type=Path, file_okay=False), help="Where batches live.")
def status_cmd(batch_id: str, batch_dir: Path | None) -> int:
    """The summary of BATCH_ID as batch.json has it now."""
    from deepcode_tui.batch.store import find_batch, load_manifest
    from deepcode_tui.batch.summary import summary_lines, summary_table

    manifest = load_manifest(find_batch(_batches_dir(batch_dir), batch_id))
    out.print(summary_table(manifest))
    for line in summary_lines(manifest):
        out.print(line, soft_wrap=True)
    return 0


@batch_cmd.command("watch")
@click.argument("batch_id")
@click.option("--batch-dir", type=click.Path(path_type=Path, file_okay=False), help="Where batches live.")
def watch_cmd(batch_id: str, batch_dir: Path | None) -> int:
    """The batch screen: BATCH_ID's runs, live; runs waiting at a gate stand out (a approves)."""
    from deepcode_tui.batch.store import find_batch
    from deepcode_tui.config.loader import load_settings
    from deepcode_tui.tui.app import DeepcodeApp

    # The app with the batch screen first: Enter on a run opens its four panes.
    DeepcodeApp(load_settings(), batch_dir=find_batch(_batches_dir(batch_dir), batch_id)).run()
    return 0
