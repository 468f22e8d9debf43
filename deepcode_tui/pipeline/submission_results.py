"""The generated README's "Verification results" section, written after verification.

PaperBench asks a submission's README to say what was verified; the README is
written through CodeMem before verification runs, so the facts are added here,
after it: the verdict, each command of the last iteration with its exit status,
and the test counts. The section is delimited by markers and replaced on each
run (a resumed run never adds a second copy); the rest of the README is left
as the coder and the human wrote it. The path goes through the repo confinement
rule, and the write replaces whatever the sandbox left there (a link included)
with a regular file.
"""

from __future__ import annotations

from pathlib import Path

from deepcode_tui import safe_fs
from deepcode_tui.repo_paths import PathRefused, confine
from deepcode_tui.store.atomic import write_text_atomic

BEGIN = "<!-- deepcode-tui: verification results (written after verification; replaced on each run) -->"
END = "<!-- /deepcode-tui: verification results -->"


def results_section(report) -> str:
    """Markdown for ``report`` (a pipeline.report.RunReport)."""
    lines = [BEGIN, "## Verification results", "",
             f"Status: **{report.status}**" + (f" ({report.message})" if report.message else "")]
    if report.tests_passed is not None or report.tests_failed is not None:
        lines.append(f"Tests: {report.tests_passed or 0} passed, {report.tests_failed or 0} failed.")
    last = max((r.get("iteration", 0) for r in report.sandbox_runs), default=None)
    runs = [r for r in report.sandbox_runs if r.get("iteration", 0) == last]
    if runs:
        lines += ["", "| command | exit | seconds |", "|---|---|---|"]
        for r in runs:
            lines.append(f"| `{r.get('command', '')}` | {r.get('exit_code')} | {float(r.get('seconds') or 0):.1f} |")
    if report.findings_left:
        lines += ["", f"{len(report.findings_left)} finding(s) were left unresolved."]
    lines += ["", "Commands ran in a sandbox without network access, as `reproduce.sh` does with "
              "`REPRODUCE_QUICK=1`.", END]
    return "\n".join(lines) + "\n"


def update_readme(repo: Path, report) -> bool:
    """Replace (or append) the section in ``repo``'s README.md; False when there is none."""
    try:
        rel = confine(repo, "README.md")
    except PathRefused:
        return False
    try:
        text = safe_fs.read_text(repo, rel, max_bytes=2_000_000)
    except OSError:
        return False
    section = results_section(report)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        new = head + section + (("\n" + tail) if tail else "")
    else:
        new = text.rstrip("\n") + "\n\n" + section
    write_text_atomic(repo / rel, new)
    return True
