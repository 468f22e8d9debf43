"""LaTeX -> elements: \\input/\\include expansion, sectioning with LaTeX's numbering,
math/algorithm/table/figure environments, the bibliography (thebibliography or a sibling .bib)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from deepcode_tui.errors import InputError
from deepcode_tui.ingest.elements import Element
from deepcode_tui.safe_fs import UnsafePath, read_document

MAX_INPUT_DEPTH = 20
MAX_EXPANDED_CHARS = 20_000_000
MAX_SOURCE_BYTES = 50_000_000  # one .tex or .bib file
# Files every TeX distribution ships; templates \input them, they are not part of the paper.
_DISTRIBUTION_INPUTS = {"glyphtounicode", "epsf", "amssym.def", "amssym", "texinfo", "mathsymbols", "diagxy"}

_COMMENT = re.compile(r"(?<!\\)%.*")
_INPUT = re.compile(r"\\(?:input|include|subfile)\s*(?:\{([^}]*)\}|([^\s{}\\]+))")
_LEVELS = {"part": 0, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4}
_TOKEN = re.compile(
    r"\\(?P<sec>part|chapter|section|subsection|subsubsection|paragraph)(?P<star>\*?)\s*(?:\[[^\]]*\])?\s*\{"
    r"|\\begin\{(?P<env>[A-Za-z]+\*?)\}"
    r"|(?P<dispopen>\\\[|\$\$)"
    r"|\\(?P<appendix>appendix)\b"
    r"|\\(?P<bib>bibliography)\{(?P<bibfiles>[^}]*)\}"
)
_MATH_ENVS = {
    "equation",
    "align",
    "gather",
    "multline",
    "eqnarray",
    "displaymath",
    "flalign",
    "alignat",
    "math",
    "dmath",
}
_UNWRAP = (
    "textbf",
    "textit",
    "emph",
    "texttt",
    "textsc",
    "textrm",
    "textsf",
    "underline",
    "mbox",
    "text",
    "textnormal",
    "uppercase",
    "MakeUppercase",
    "mathrm",
    "hbox",
    "textup",
    "textmd",
    "bm",
    "boldsymbol",
)
_DROP_WITH_ARG = (
    "label",
    "index",
    "vspace",
    "hspace",
    "addtocounter",
    "setcounter",
    "setlength",
    "thanks",
    "includegraphics",
    "pagestyle",
    "thispagestyle",
    "bibliographystyle",
    "newcommand",
    "renewcommand",
    "usepackage",
    "documentclass",
    "linenumbers",
    "markboth",
)


def strip_comments(text: str) -> str:
    return "\n".join(_COMMENT.sub("", line) for line in text.splitlines())


def expand_inputs(
    path: Path, notes: list[str], *, _stack: tuple[Path, ...] = (), _root: Path | None = None
) -> str:
    """The file's text with every \\input/\\include replaced by the included file.

    Raises InputError naming the missing file (and who included it) or an include cycle.
    """
    root = _root or path.parent
    raw = read_input_file(path)
    text = strip_comments(_decode(raw))
    if len(_stack) >= MAX_INPUT_DEPTH:
        raise InputError(
            f"\\input nesting deeper than {MAX_INPUT_DEPTH} at {path.name}", "check for an \\input cycle"
        )

    def repl(m: re.Match) -> str:
        name = (m.group(1) or m.group(2) or "").strip()
        if not name:
            return ""
        if name in _DISTRIBUTION_INPUTS or Path(name).stem in _DISTRIBUTION_INPUTS:
            return ""
        line = text.count("\n", 0, m.start()) + 1
        command = m.group(0)[1:].split("{")[0].split()[0]
        outside = confinement_problem(root, name)
        if outside:
            raise InputError(
                f"{path.name}:{line}: \\{command}{{{name}}} {outside}",
                f"copy the file into {root} (or below) and refer to it by a relative path, or remove that line",
            )
        cands = []
        for base in (root, path.parent):
            for cand in (base / name, base / f"{name}.tex"):
                if cand not in cands:
                    cands.append(cand)
        found = next((c for c in cands if c.is_file() and inside(root, c)), None)
        if found is None:
            raise InputError(
                f"{path.name}:{line}: \\{command}{{{name}}} "
                f"refers to a missing file ({cands[1].name} not found in {root})",
                f"put {Path(name).name if name.endswith('.tex') else name + '.tex'} next to {path.name}, "
                "or remove that line",
            )
        if found.resolve() in _stack:
            raise InputError(
                f"{path.name} includes {found.name}, which includes it again (an \\input cycle)",
                "remove one of the \\input lines",
            )
        return expand_inputs(found, notes, _stack=_stack + (found.resolve(),), _root=root)

    out = _INPUT.sub(repl, text)
    if len(out) > MAX_EXPANDED_CHARS:
        raise InputError(
            f"{path.name} expands to over {MAX_EXPANDED_CHARS:,} characters", "index the main paper file only"
        )
    return out


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (symlinks resolved) is ``root`` or below it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip("/") + "/")


def confinement_problem(root: Path, name: str) -> str | None:
    """Why an \\input name may not be followed ("is outside ..."), or None.
    Includes are confined to the main document's folder and below: a paper's
    sources never need /etc/passwd or ../../.bashrc, and what is inlined here
    reaches the agents' prompts."""
    if name.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", name):
        return f"names an absolute path, outside the document's folder {root}"
    if ".." in Path(name.replace("\\", "/")).parts:
        candidate = Path(root) / name
        if not inside(root, candidate):
            return f"climbs out of the document's folder {root}"
    for cand in (Path(root) / name, Path(root) / f"{name}.tex"):
        if cand.exists() and not inside(root, cand):
            return f"resolves (through a symlink) outside the document's folder {root}"
    return None


def read_input_file(path: Path) -> bytes:
    """The bytes of one LaTeX source file: a regular file, bounded in size."""
    try:
        return read_document(path, max_bytes=MAX_SOURCE_BYTES)
    except UnsafePath as e:
        raise InputError(f"Cannot read {path}: {e}", "include only regular .tex files of reasonable size") from None
    except OSError as e:
        raise InputError(f"Cannot read {path}: {e.strerror}", "check the path and permissions") from None


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_group(s: str, i: int, open_ch: str = "{", close_ch: str = "}") -> tuple[str, int]:
    """Content of the balanced group starting at s[i] (== open_ch) and the index after it."""
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return s[i + 1 : j], j + 1
        j += 1
    return s[i + 1 :], len(s)


def _find_end(s: str, env: str, start: int) -> tuple[str, int]:
    """Body of \\begin{env}...\\end{env} (nesting-aware) and the index after \\end{env}."""
    b, e = f"\\begin{{{env}}}", f"\\end{{{env}}}"
    depth, j = 1, start
    while depth:
        nb, ne = s.find(b, j), s.find(e, j)
        if ne < 0:
            return s[start:], len(s)
        if 0 <= nb < ne:
            depth, j = depth + 1, nb + len(b)
        else:
            depth, j = depth - 1, ne + len(e)
    return s[start : j - len(e)], j


def latex_to_text(s: str) -> str:
    """Readable text from LaTeX source: formatting removed, citations kept as [keys], math kept."""
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z@]+)\*?", s[i:])
            if not m:  # control symbol: \% \& \_ \\ \, ...
                nxt = s[i + 1 : i + 2]
                out.append({"\\": "\n", ",": " ", ";": " ", "!": "", " ": " ", "-": ""}.get(nxt, nxt))
                i += 2
                continue
            name = m.group(1)
            j = i + m.end()
            while j < n and s[j] == " " and name not in ("item",):
                j += 1
            if j < n and s[j] == "[" and name not in _UNWRAP:
                _, j = read_group(s, j, "[", "]")
            if name in _UNWRAP and j < n and s[j] == "{":
                inner, j = read_group(s, j)
                out.append(latex_to_text(inner))
            elif (
                name
                in (
                    "cite",
                    "citep",
                    "citet",
                    "citealp",
                    "citeauthor",
                    "citeyear",
                    "autocite",
                    "parencite",
                    "textcite",
                )
                and j < n
                and s[j] == "{"
            ):
                inner, j = read_group(s, j)
                out.append("[" + ", ".join(k.strip() for k in inner.split(",")) + "]")
            elif name in ("ref", "eqref", "autoref", "cref", "Cref", "pageref") and j < n and s[j] == "{":
                inner, j = read_group(s, j)
                out.append(f"[{inner.strip()}]")
            elif name in ("url", "nolinkurl") and j < n and s[j] == "{":
                inner, j = read_group(s, j)
                out.append(inner)
            elif name == "href" and j < n and s[j] == "{":
                url, j = read_group(s, j)
                label = ""
                if j < n and s[j] == "{":
                    label, j = read_group(s, j)
                out.append(f"{latex_to_text(label)} ({url})")
            elif name == "footnote" and j < n and s[j] == "{":
                inner, j = read_group(s, j)
                out.append(f" ({latex_to_text(inner)})")
            elif name in _DROP_WITH_ARG:
                while j < n and s[j] == "{":
                    _, j = read_group(s, j)
            elif name == "item":
                out.append("\n- ")
            elif name in ("begin", "end") and j < n and s[j] == "{":
                _, j = read_group(s, j)
                out.append("\n")
            elif name in ("ldots", "dots"):
                out.append("...")
            elif name == "LaTeX":
                out.append("LaTeX")
            elif name == "TeX":
                out.append("TeX")
            else:
                pass  # \centering, \small, \noindent, ...: layout only
            i = j
            continue
        if c == "$":
            m = re.match(r"\$\$(.+?)\$\$|\$(.+?)(?<!\\)\$", s[i:], re.DOTALL)
            if m:
                out.append(m.group(0))
                i += m.end()
                continue
        if c == "~":
            out.append(" ")
        elif c in "{}":
            pass
        else:
            out.append(c)
        i += 1
    text = "".join(out)
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return text.strip()


def _paragraphs(text: str) -> list[str]:
    cleaned = latex_to_text(text)
    return [
        " ".join(p.split()) if not p.lstrip().startswith("- ") else p.strip()
        for p in re.split(r"\n\s*\n", cleaned)
        if p.strip()
    ]


def _caption(body: str) -> str:
    m = re.search(r"\\caption\*?\s*(?:\[[^\]]*\])?\s*\{", body)
    if not m:
        return ""
    inner, _ = read_group(body, m.end() - 1)
    return " ".join(latex_to_text(inner).split())


def _tabular(body: str) -> str:
    m = re.search(r"\\begin\{(tabular\*?|tabularx|longtable|array)\}", body)
    if not m:
        return ""
    inner, _ = _find_end(body, m.group(1), m.end())
    inner = re.sub(r"^\s*\{[^}]*\}", "", inner)  # column spec
    inner = re.sub(r"^\s*\{[^}]*\}", "", inner)  # tabular* width + spec
    rows = []
    for row in re.split(r"\\\\", inner):
        row = re.sub(
            r"\\(?:hline|toprule|midrule|bottomrule|cline\{[^}]*\}|cmidrule(?:\([^)]*\))?\{[^}]*\})", "", row
        )
        cells = [" ".join(latex_to_text(c).split()) for c in row.split("&")]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _bib_entries(text: str) -> list[str]:
    """Readable entries from a BibTeX file: "Authors. Title. Venue, Year. URL"."""
    entries = []
    for m in re.finditer(r"@(\w+)\s*\{", text):
        if m.group(1).lower() in ("string", "comment", "preamble"):
            continue
        body, _ = read_group(text, m.end() - 1)
        fields: dict[str, str] = {}
        for fm in re.finditer(r"(\w+)\s*=\s*", body):
            k = fm.group(1).lower()
            j = fm.end()
            if j < len(body) and body[j] == "{":
                v, _ = read_group(body, j)
            elif j < len(body) and body[j] == '"':
                end = body.find('"', j + 1)
                v = body[j + 1 : end if end > 0 else len(body)]
            else:
                v = re.match(r"[^,]*", body[j:]).group(0)
            fields.setdefault(k, " ".join(latex_to_text(v).split()))
        parts = [
            fields.get("author", ""),
            fields.get("title", ""),
            fields.get("journal") or fields.get("booktitle") or fields.get("publisher", ""),
            fields.get("year", ""),
        ]
        entry = ". ".join(p for p in parts if p)
        for k in ("url", "doi", "eprint"):
            if fields.get(k):
                entry += f". {'arXiv:' if k == 'eprint' else ''}{fields[k]}"
        if entry:
            entries.append(entry)
    return entries


class _Numbering:
    def __init__(self, top: int) -> None:
        self.top = top  # 1 when \chapter is used, else 2 (\section)
        self.counts = {lvl: 0 for lvl in range(6)}
        self.appendix = False

    def bump(self, lvl: int) -> str:
        self.counts[lvl] += 1
        for deeper in range(lvl + 1, 6):
            self.counts[deeper] = 0
        parts = []
        for k in range(self.top, lvl + 1):
            v = self.counts[k]
            parts.append(chr(64 + v) if (k == self.top and self.appendix and 0 < v <= 26) else str(v))
        return ".".join(parts)


def parse_latex(text: str, base_dir: Path, notes: list[str]) -> tuple[list[Element], str]:
    """Elements and title from expanded LaTeX source."""
    title = ""
    tm = re.search(r"\\title\s*(?:\[[^\]]*\])?\s*\{", text)
    if tm:
        inner, _ = read_group(text, tm.end() - 1)
        title = " ".join(latex_to_text(inner).split())
    body = text
    bm = re.search(r"\\begin\{document\}", text)
    if bm:
        end = text.find("\\end{document}", bm.end())
        body = text[bm.end() : end if end >= 0 else len(text)]
    top = 1 if re.search(r"\\chapter\*?\s*[\[{]", body) else 2
    num = _Numbering(top)
    out: list[Element] = []
    eq_counter = 0
    pos = 0

    def text_until(k: int) -> None:
        for p in _paragraphs(body[pos:k]):
            out.append(Element("para", p))

    while True:
        m = _TOKEN.search(body, pos)
        if not m:
            text_until(len(body))
            break
        text_until(m.start())
        if m.group("sec"):
            kind = m.group("sec")
            inner, j = read_group(body, m.end() - 1)
            heading = " ".join(latex_to_text(inner).split())
            if kind == "paragraph":
                out.append(Element("para", heading + "."))
                pos = j
                continue
            lvl = _LEVELS[kind]
            number = "" if m.group("star") or lvl < top else num.bump(lvl)
            out.append(Element("heading", heading, level=max(1, lvl - top + 1), number=number))
            pos = j
        elif m.group("appendix"):
            num.appendix = True
            num.counts = {lvl: 0 for lvl in range(6)}
            pos = m.end()
        elif m.group("bib"):
            entries = []
            for name in m.group("bibfiles").split(","):
                name = name.strip()
                bib = base_dir / (name if name.endswith(".bib") else f"{name}.bib")
                if confinement_problem(base_dir, name) or not inside(base_dir, bib):
                    notes.append(f"bibliography file {name} is outside the document's folder; not read")
                elif bib.is_file():
                    entries.extend(_bib_entries(_decode(read_input_file(bib))))
                else:
                    notes.append(
                        f"bibliography file {bib.name} not found; references come from the text only"
                    )
            if entries:
                out.append(Element("heading", "References", level=1))
                out.extend(Element("reference", e) for e in entries)
            pos = m.end()
        elif m.group("dispopen"):
            close = "\\]" if m.group("dispopen") == "\\[" else "$$"
            end = body.find(close, m.end())
            end = len(body) if end < 0 else end
            out.append(Element("equation", " ".join(body[m.end() : end].split())))
            pos = end + len(close)
        else:
            env = m.group("env")
            inner, j = _find_end(body, env, m.end())
            base = env.rstrip("*")
            if base in _MATH_ENVS:
                label = ""
                if not env.endswith("*") and base not in ("displaymath", "math"):
                    tag = re.search(r"\\tag\{([^}]*)\}", inner)
                    if tag:
                        label = f"({tag.group(1)})"
                    else:
                        eq_counter += 1
                        label = f"({eq_counter})"
                eq = re.sub(r"\\(?:label|tag)\{[^}]*\}|\\nonumber|\\notag", "", inner)
                out.append(Element("equation", " ".join(eq.split()), label=label))
            elif base in ("algorithm", "algorithmic", "algorithm2e", "procedure"):
                cap = _caption(inner)
                steps = latex_to_text(re.sub(r"\\caption\*?\s*\{", "{", inner, count=1) if cap else inner)
                steps = re.sub(
                    r"\\(State|Statex|Require|Ensure|Return|For|EndFor|While|EndWhile|If|Else|EndIf)",
                    lambda k: k.group(1),
                    steps,
                )
                out.append(Element("algorithm", (cap + "\n" if cap else "") + steps.strip(), label=cap[:80]))
            elif base in ("table",):
                cap = _caption(inner)
                out.append(Element("table", _tabular(inner), caption=cap))
            elif base in ("tabular", "tabularx"):
                out.append(Element("table", _tabular(body[m.start() : j])))
            elif base == "figure":
                cap = _caption(inner)
                if cap:
                    out.append(Element("caption", cap, label="Figure"))
            elif base == "abstract":
                out.append(Element("heading", "Abstract", level=1))
                for p in _paragraphs(inner):
                    out.append(Element("para", p))
            elif base == "thebibliography":
                out.append(Element("heading", "References", level=1))
                for item in re.split(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{[^}]*\}", inner)[1:]:
                    t = " ".join(latex_to_text(item).split())
                    if t:
                        out.append(Element("reference", t))
            elif base in ("lstlisting", "verbatim", "minted", "Verbatim", "code"):
                out.append(Element("code", inner.strip("\n")))
            elif base == "document":
                pos = m.end()
                continue
            else:
                for p in _paragraphs(inner):
                    out.append(Element("para", p))
            pos = j
    # Number figure captions in order so they read "Figure 1", "Figure 2", ...
    k = 0
    for e in out:
        if e.kind == "caption" and e.label == "Figure":
            k += 1
            e.label = f"Figure {k}"
    return out, title
