"""load_document: any supported input -> DocumentIndex, with clear errors and a hard timeout."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from deepcode_tui.errors import InputError
from deepcode_tui.ingest.builder import build_index
from deepcode_tui.ingest.isolate import IsolatedTimeout, run_isolated
from deepcode_tui.ingest.models import DocumentIndex
from deepcode_tui.ingest.sniff import sniff
from deepcode_tui.safe_fs import MAX_DOCUMENT_BYTES, UnsafePath, read_document

log = logging.getLogger(__name__)

PDF_ENGINES = ("default", "marker")
MAX_FILE_BYTES = MAX_DOCUMENT_BYTES


def _index_pdf(path: Path, deadline: float, notes: list[str], source: str, timeout_s: float) -> DocumentIndex:
    from deepcode_tui.ingest.pdf.engine import ENGINE_NAME, parse_pdf

    parsed = parse_pdf(path, timeout_s=deadline - time.monotonic(), isolate=False, reported_timeout=timeout_s)
    return build_index(
        parsed.elements,
        source_path=source,
        fmt="pdf",
        engine=ENGINE_NAME,
        title=parsed.title,
        page_count=parsed.page_count,
        notes=notes + parsed.notes,
    )


def _index_marker_markdown(markdown: str, path: Path, notes: list[str], source: str) -> DocumentIndex:
    from deepcode_tui.ingest.markdown import parse_markdown
    from deepcode_tui.ingest.pdf.extract import open_pdf

    pdf = open_pdf(path)
    try:
        pages = len(pdf)
    finally:
        pdf.close()
    elements, title = parse_markdown(markdown)
    return build_index(
        elements, source_path=source, fmt="pdf", engine="marker", title=title, page_count=pages, notes=notes
    )


def _index_text(path: Path, fmt: str, text: str, notes: list[str], source: str) -> DocumentIndex:
    title = ""
    if fmt == "latex":
        from deepcode_tui.ingest.latex import expand_inputs, parse_latex

        full = expand_inputs(path, notes) if path.is_file() else text
        elements, title = parse_latex(full, path.parent, notes)
        engine = "latex"
    elif fmt == "markdown":
        from deepcode_tui.ingest.markdown import parse_markdown

        elements, title = parse_markdown(text)
        engine = "markdown"
    elif fmt == "requirement":
        from deepcode_tui.ingest.plaintext import parse_requirement

        elements, title = parse_requirement(text)
        engine = "requirement"
    else:
        from deepcode_tui.ingest.plaintext import parse_text

        elements = parse_text(text)
        engine = "text"
    if not any(e.kind != "heading" and e.text.strip() for e in elements):
        raise InputError(f"{path.name} has no text content", "check that it is the right file")
    return build_index(elements, source_path=source, fmt=fmt, engine=engine, title=title, notes=notes)


def _load(
    path: Path,
    fmt: str,
    text: str,
    notes: list[str],
    deadline: float,
    source: str,
    marker_md: str | None,
    timeout_s: float,
) -> DocumentIndex:
    if fmt == "pdf":
        if marker_md is not None:
            return _index_marker_markdown(marker_md, path, notes, source)
        return _index_pdf(path, deadline, notes, source, timeout_s)
    return _index_text(path, fmt, text, notes, source)


def load_document(path: Path | str, *, pdf_engine: str = "default", timeout_s: float = 120) -> DocumentIndex:
    """Parse a PDF, Markdown, LaTeX, plain-text paper or short requirement into a DocumentIndex.

    The format is detected from the content. Raises InputError (cause + fix) for
    missing, empty, binary, encrypted, image-only or malformed input and when
    parsing exceeds `timeout_s`; nothing is written anywhere. When
    ``pdf_engine="marker"`` cannot be used, the default engine runs instead and
    the reason is logged and recorded in ``index.notes``.
    """
    path = Path(path).expanduser()
    if pdf_engine not in PDF_ENGINES:
        raise InputError(f"Unknown PDF engine {pdf_engine!r}", f"use one of: {', '.join(PDF_ENGINES)}")
    if not path.exists():
        raise InputError(f"{path} does not exist", "check the path")
    if path.is_dir():
        raise InputError(f"{path} is a directory", "pass the main document file (e.g. paper.pdf or main.tex)")
    try:
        # Regular files only, checked before the first byte is read (a device or a
        # FIFO would be read forever or block), and never more than the size limit.
        data = read_document(path, max_bytes=MAX_FILE_BYTES)
    except UnsafePath as e:
        raise InputError(f"{e}: not a document this tool reads",
                         f"pass a regular PDF, Markdown, LaTeX or text file of at most "
                         f"{MAX_FILE_BYTES // 1_000_000} MB (not a device, pipe or socket)") from None
    except PermissionError:
        raise InputError(f"Cannot read {path}: permission denied", "check the file's permissions") from None
    except OSError as e:
        raise InputError(f"Cannot read {path}: {e.strerror}", "check the path") from None
    sniffed = sniff(path, data)
    notes = list(sniffed.notes)
    source = str(path.resolve())
    start = time.monotonic()
    deadline = start + timeout_s
    marker_md = None
    if sniffed.format == "pdf" and pdf_engine == "marker":
        from deepcode_tui.ingest.marker_engine import MarkerFailed, marker_unavailable_reason, run_marker

        reason = marker_unavailable_reason()
        if reason is None:
            try:
                marker_md = run_marker(path, timeout_s=timeout_s)
            except MarkerFailed as e:
                reason = str(e)
        if reason is not None:
            msg = f"PDF engine 'marker' not used: {reason}; used the default engine instead"
            log.warning(msg)
            notes.append(msg)
            deadline = max(deadline, time.monotonic() + min(timeout_s, 60))
    try:
        return run_isolated(
            _load,
            path,
            sniffed.format,
            sniffed.text,
            notes,
            deadline,
            source,
            marker_md,
            timeout_s,
            timeout_s=max(0.0, deadline - time.monotonic()) + 1.0,
        )
    except IsolatedTimeout:
        raise InputError(
            f"Parsing {path.name} took longer than {timeout_s:g} s",
            "raise the timeout, or split the document and index the part you need",
        ) from None
