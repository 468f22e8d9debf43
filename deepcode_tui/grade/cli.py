"""``deepcode-tui grade TARGET --rubric RUBRIC.json``: score a repository the PaperBench way."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from deepcode_tui.errors import DeepcodeError, InputError


@click.command("grade")
@click.argument("target")
@click.option("--rubric", "rubric_path", type=click.Path(path_type=Path), required=True,
              help="A PaperBench rubric.json.")
@click.option("--judge", "judge", help="litellm model string for the judge role (else models.judge / models.default).")
@click.option("--code-only", is_flag=True, help="PaperBench Code-Dev: grade only Code Development leaves.")
@click.option("--paper", type=click.Path(path_type=Path), help="The paper (default: the run's input document).")
@click.option("--addendum", type=click.Path(path_type=Path), help="An addendum for the judge (PaperBench addendum.md).")
@click.option("--check", "check_only", is_flag=True, help="Only check the submission's format (README, reproduce.sh, size).")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Grading directory (default: <run>/grade/<rubric>).")
@click.option("--restart", is_flag=True, help="Forget leaves graded earlier in the grading directory.")
@click.option("--leaf-tokens", type=click.IntRange(min=2000), default=None, help="Token budget of one leaf's prompt.")
@click.option("--concurrency", type=click.IntRange(min=1), default=None, help="Leaves graded at once.")
@click.option("--record", type=click.Path(path_type=Path), help="Record every judge call to a cassette here.")
@click.option("--replay", type=click.Path(path_type=Path), help="Replay judge calls from this cassette (offline).")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached model replies.")
@click.option("--max-cost", type=float, help="Stop once this many USD are spent (resume later).")
@click.option("--max-tokens", type=int, help="Stop after this many tokens (resume later).")
@click.option("--runs-dir", type=click.Path(path_type=Path), help="Where run directories live.")
def grade_cmd(target: str, rubric_path: Path, check_only: bool, **opts: Any) -> int:
    """Grade TARGET (a run id or a directory) against a PaperBench rubric."""
    from rich.console import Console

    from deepcode_tui.grade.rubric import load_rubric
    from deepcode_tui.grade.submission import check_submission
    from deepcode_tui.grade.target import resolve_target

    out_console, err_console = Console(highlight=False), Console(stderr=True, highlight=False)
    loaded = _loaded(opts)
    tgt = resolve_target(target, loaded.settings.runs_dir)
    findings = check_submission(tgt.submission, code_only=bool(opts.get("code_only")))
    for f in findings:
        (out_console if check_only else err_console).print(f.line(), markup=False)
    if check_only:
        return 1 if any(f.level == "error" for f in findings) else 0
    rubric = load_rubric(rubric_path)
    summary = asyncio.run(_grade(tgt, rubric, rubric_path, loaded, opts, err_console))
    from deepcode_tui.grade.summary import summary_table

    out_console.print(summary_table(summary[0]))
    out_console.print(f"grade: {summary[1]}")
    return 0


def _loaded(opts: dict[str, Any]):
    from deepcode_tui.config import load_settings

    cli: dict[str, Any] = {}
    if opts.get("runs_dir"):
        cli["runs_dir"] = str(opts["runs_dir"])
    if opts.get("judge"):
        cli["models"] = {"judge": opts["judge"]}
    budget = {k: v for k, v in (("max_cost_usd", opts.get("max_cost")), ("max_tokens", opts.get("max_tokens"))) if v is not None}
    if budget:
        cli["budget"] = budget
    return load_settings(cli)


async def _grade(tgt, rubric, rubric_path: Path, loaded, opts: dict[str, Any], console):
    from deepcode_tui.grade.runner import GradeOptions, grade_submission
    from deepcode_tui.grade.summary import summarize
    from deepcode_tui.grade.target import cassette_graded_at, default_out, paper_text
    from deepcode_tui.llm.cli import build_gateway

    code_only = bool(opts.get("code_only"))
    paper = paper_text(opts.get("paper") or tgt.paper, None if opts.get("paper") else tgt.run_dir)
    addendum = ""
    if opts.get("addendum"):
        try:
            addendum = Path(opts["addendum"]).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"addendum {opts['addendum']} cannot be read ({exc.strerror})", "give a readable file") from None
    out = Path(opts["out"]) if opts.get("out") else default_out(tgt, rubric_path, code_only=code_only)
    options = GradeOptions(
        rubric_path=str(rubric_path), code_only=code_only, restart=bool(opts.get("restart")),
        graded_at=cassette_graded_at(opts.get("replay")),
        **{k: opts[k] for k in ("leaf_tokens", "concurrency") if opts.get(k) is not None},
    )  # fmt: skip
    gateway = build_gateway(
        loaded.settings, run_dir=out, record=opts.get("record"), replay=opts.get("replay"),
        no_cache=bool(opts.get("no_cache")), provenance=loaded.provenance,
    )  # fmt: skip

    async def progress(p) -> None:
        flag = "" if p.valid else " (flagged: no usable judge reply)"
        console.print(f"[{p.done}/{p.total}] {p.path} {p.id}: score {p.score:g}{flag}", markup=False)

    try:
        result = await grade_submission(
            gateway, tgt.submission, rubric, paper=paper, addendum=addendum, out_dir=out, options=options,
            on_leaf=progress,
        )  # fmt: skip
    except DeepcodeError as exc:
        exc.fix = f"{exc.fix}; graded leaves are kept: run the same command again to resume".lstrip("; ")
        raise
    finally:
        await gateway.aclose()
    if opts.get("record"):
        from deepcode_tui.store.atomic import write_json_atomic

        write_json_atomic(Path(opts["record"]) / "grade-meta.json", {"graded_at": result.output["graded_at"]})
    return summarize(result.output), result.path
