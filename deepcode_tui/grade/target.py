"""What ``grade TARGET`` points at: a run (id or directory) or any submission directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel

from deepcode_tui.errors import InputError

_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


class Target(BaseModel):
    submission: Path
    run_dir: Path | None = None
    paper: Path | None = None  # the run's input document


def resolve_target(target: str, runs_dir: Path) -> Target:
    path = Path(target).expanduser()
    if path.is_dir():
        if (path / "run.json").is_file():
            return _from_run(path)
        return Target(submission=path.resolve())
    if path.exists():
        raise InputError(f"{target} is not a directory", "give a run id or the directory of a repository")
    from deepcode_tui.store.run import find_run

    return _from_run(find_run(runs_dir, target))


def _from_run(run_dir: Path) -> Target:
    from deepcode_tui.store.run import load_manifest

    manifest = load_manifest(run_dir)
    repo = Path(manifest.repo_dir)
    if not repo.is_dir():
        raise InputError(f"run {manifest.run_id} has no repository at {repo}", "resume the run to generate it")
    paper = Path(manifest.input_path)
    return Target(submission=repo, run_dir=run_dir, paper=paper if paper.exists() else None)


def default_out(target: Target, rubric: Path, *, code_only: bool) -> Path:
    name = _SLUG.sub("-", rubric.stem.removesuffix(".rubric")).strip("-") or "rubric"
    name += "-code-dev" if code_only else ""
    if target.run_dir is not None:
        return target.run_dir / "grade" / name
    return target.submission.parent / f"{target.submission.name}.grade" / name


def paper_text(paper: Path | None, run_dir: Path | None) -> str:
    """The paper as text: a text document as it is; a PDF from the run's document index
    when there is one (it is what the run read), else through the ingest parser."""
    text_like = paper is not None and paper.suffix.lower() in (".md", ".markdown", ".txt", ".tex", ".rst")
    index = run_dir / "document" / "index.json" if run_dir is not None else None
    if not text_like and index is not None and index.is_file():
        try:
            from deepcode_tui.ingest.models import DocumentIndex

            doc = DocumentIndex.load(index)
            return _index_text(doc)
        except (OSError, ValueError):
            pass
    if paper is None:
        raise InputError("no paper to grade against", "give the paper with --paper DOC")
    if not paper.is_file():
        raise InputError(f"paper {paper} does not exist or is not a file", "give the paper with --paper DOC")
    if paper.suffix.lower() in (".md", ".markdown", ".txt", ".tex", ".rst"):
        try:
            return paper.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"paper {paper} cannot be read ({exc.strerror})", "give a readable document") from None
    from deepcode_tui.ingest import load_document

    return _index_text(load_document(paper))


def _index_text(doc) -> str:
    parts = [doc.title] if doc.title else []
    parts += [s.full_text() for s in doc.sections]
    return "\n\n".join(parts)


def cassette_graded_at(replay: Path | None) -> str | None:
    """A replay's grade.json carries the time its cassette was recorded."""
    if replay is None:
        return None
    try:
        return json.loads((Path(replay) / "grade-meta.json").read_text())["graded_at"]
    except (OSError, ValueError, KeyError, TypeError):
        return "1970-01-01T00:00:00+00:00"
