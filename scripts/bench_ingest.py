#!/usr/bin/env python
"""Benchmark the default PDF engine's section segmentation against gold heading lists.

For every paper directory (``<name>/paper.pdf`` + ``<name>/sections.txt``, one
numbered heading per line in reading order) under ../shared/corpus/papers and
any ``--extra DIR``, print heading precision / recall / F1, whether the headings
come in reading order, pages per second (wall clock and CPU time: the machine is
shared, so wall time swings with other load) and peak memory; next to it, the
same figures for a bare regex over pypdfium2's plain text as the baseline.

    .venv/bin/python scripts/bench_ingest.py [--texlive] [--extra DIR ...] [--repeat N]
    .venv/bin/python scripts/bench_ingest.py --text [--pdfs DIR ...]

``--text`` scores the text the agents read instead (see `text_bench` and
scripts/ingest_textscore.py): per paper, reading order of each numbered
section against reference text (the corpus's MinerU Markdown or GROBID/s2orc
JSON), captions found vs "Table N:" / "Figure N:" lines in the source, tables
without caption and tables whose rows are prose, front-matter lines inside
sections, recall of the rubric's named values in `hyperparameters`, and
pages/s of the whole index (extraction, layout, blocks, sections, chunks,
token counts) in one process after the first document. ``--pdfs DIR`` adds
more PDFs (no gold) for captions, tables and speed; TUNING_PDFS lists the
public test fixtures used while tuning.

``--texlive`` adds ten real LaTeX-class sample papers (ACM, AAS, APS/REVTeX,
ASME, Elsevier, LNCS, MNRAS, PMLR, Quantum) from Debian's
texlive-publishers-doc, with hand-checked gold headings below.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

F1_TARGET = 0.97
PPS_TARGET = 50.0
# Extra papers: sample articles shipped by Debian's texlive-publishers-doc (real LaTeX class output),
# with their numbered headings as printed, checked by hand against the PDFs.
TEXLIVE_DOC = Path("/usr/share/doc/texlive-doc/latex")
TEXLIVE_PAPERS = {
    "aastex631": (
        "aastex/sample631.pdf",
        "1 INTRODUCTION|2 MANUSCRIPT STYLES|3 FLOATS|3.1 Tables|3.1.1 Column math mode|3.1.2 Decimal "
        "alignment|3.1.3 Automatic column header numbering|3.1.4 Hiding columns|3.1.5 Splitting a table "
        "into multiple horizontal components|3.2 Figures|3.3 General figures|3.4 Grid figures|3.5 "
        "Enhanced graphics|3.5.1 Figure sets|3.5.2 Animations|3.5.3 Interactive figures|4 DISPLAYING "
        "MATHEMATICS|5 REVISION TRACKING AND COLOR HIGHLIGHTING|6 SOFTWARE AND THIRD PARTY DATA "
        "REPOSITORY CITATIONS|A APPENDIX INFORMATION|B AUTHOR PUBLICATION CHARGES|C ROTATING TABLES|D IAU"
        " RECOMMENDATIONS FOR NOMINAL UNITS|E USING CHINESE, JAPANESE, AND KOREAN CHARACTERS",
    ),
    "acm-sigconf": (
        "acmart/samples/sample-sigconf.pdf",
        "1 Introduction|2 Template Overview|2.1 Template Styles|2.2 Template Parameters|3 Modifications|4"
        " Typefaces|5 Title Information|6 Authors and Affiliations|7 Rights Information|8 CCS Concepts "
        "and User-Defined Keywords|9 Sectioning Commands|10 Tables|11 Math Equations|11.1 Inline "
        "(In-text) Equations|11.2 Display Equations|12 Figures|12.1 The “Teaser Figure”|13 Citations and "
        "Bibliographies|14 Acknowledgments|15 Appendices|16 Multi-language papers|17 SIGCHI Extended "
        "Abstracts|A Research Methods|A.1 Part One|A.2 Part Two|B Online Resources",
    ),
    "acm-small": (
        "acmart/samples/sample-acmsmall.pdf",
        "1 Introduction|2 Template Overview|2.1 Template Styles|2.2 Template Parameters|3 Modifications|4"
        " Typefaces|5 Title Information|6 Authors and Affiliations|7 Rights Information|8 CCS Concepts "
        "and User-Defined Keywords|9 Sectioning Commands|10 Tables|11 Math Equations|11.1 Inline "
        "(In-text) Equations|11.2 Display Equations|12 Figures|12.1 The “Teaser Figure”|13 Citations and "
        "Bibliographies|14 Acknowledgments|15 Appendices|16 Multi-language papers|17 SIGCHI Extended "
        "Abstracts|A Research Methods|A.1 Part One|A.2 Part Two|B Online Resources",
    ),
    "apssamp": (
        "revtex/sample/aps/apssamp.pdf",
        "I FIRST-LEVEL HEADING: THE LINE BREAK WAS FORCED via \\\\|A Second-level heading: Formatting|1 "
        "Wide text (A level-3 head)|B Citations and References|1 Citations|2 Example citations|3 "
        "References|4 Example references|C Footnotes|II MATH AND EQUATIONS|A Multiline equations|1 Wide "
        "equations|III CROSS-REFERENCING|IV FLOATS: FIGURES, TABLES, VIDEOS, ETC.|A Appendixes|B A little"
        " more on appendixes|1 A subsection in an appendix",
    ),
    "asmeconf": (
        "asmeconf/asmeconf-template.pdf",
        "1 INTRODUCTION|1.1 Essential Initial Commands|2 REFERRING TO CITATIONS, FIGURES, AND EQUATIONS|3"
        " SECTION HEADINGS AND CAPTIONS|3.1 Subsection and Sub-subsection Headings|4 TABLES AND FIGURES|5"
        " REFERENCE FORMATTING WITH asmeconf.bst|6 MORE ON MATH: u⃗ · ω⃗ = 0|6.1 The newtxmath and "
        "mathalpha Packages [12, 13]|7 ADDITIONAL OPTIONS FOR asmeconf.cls|7.1 Colored Hyperlinks|7.2 "
        "Final Column Balancing|7.3 Line Numbers|7.4 Grid-Style Author Block|7.5 Changing the Copyright "
        "Footer|7.6 Archivability: PDF/A|7.7 Superiors Font|7.8 Typewriter Font Options|7.9 Support for "
        "Other Languages|8 CONCLUSION|A THE VECTOR PRODUCT A × B|B MULTILINGUAL SUPPORT",
    ),
    "elsdoc": (
        "elsarticle/elsdoc.pdf",
        "1 Introduction|2 Major Differences|3 Installation|4 Usage|5 Frontmatter|5.1 New page|6 Floats|7 "
        "Theorem and theorem like environments|8 Enumerated and Itemized Lists|9 Cross-references|10 "
        "Mathematical symbols and formulae|11 Bibliography|12 Graphical abstract and highlights|13 Final "
        "print",
    ),
    "llncsdoc": (
        "llncs/llncsdoc.pdf",
        "1 Installation|2 Working with the llncs Document Class|2.1 General Information|2.2 How to Use "
        "the llncs Document Class|3 How to Code the Header of Your Paper|3.1 Title|3.2 Author(s)|3.3 "
        "Affiliations|3.4 Format the Header|3.5 Abstract and Keywords|4 How to Code the Body of Your "
        "Paper|4.1 General Rules|4.2 Special Math Characters|5 Theorems, Definitions, and Proofs|5.1 "
        "Predefined Theorem-Like Environments|5.2 User-Defined Theorem-Like Environments|6 References|7 "
        "Obsolete Class Options",
    ),
    "mnras-guide": (
        "mnras/mnras_guide.pdf",
        "1 Introduction|2 Obtaining and installing the MNRAS package|3 Preparing and submitting a paper|4"
        " Class options|5 Title page|5.1 Title|5.2 Authors and institutions|5.3 Abstract and keywords|6 "
        "Sections and lists|6.1 Sections|6.2 Lists|7 Mathematics and symbols|7.1 Equations|7.2 Special "
        "symbols|7.3 Ions|8 Figures and tables|8.1 Basic examples|8.2 Captions and placement|9 References"
        " and citations|9.1 Cross-referencing|9.2 Citations|9.3 The list of references|10 Appendices and "
        "online material|11 Packages and custom commands|11.1 Additional packages|11.2 Custom commands|A "
        "Journal abbreviations|B Advanced formatting examples|C Additional commands for editors only",
    ),
    "pmlr": (
        "jmlr/pmlr-sample.pdf",
        "1 Introduction|1.1 Sub-sections|1.1.1 Sub-sub-sections|2 Cross-Referencing|3 Equations|3.1 "
        "Operator Names|4 Vectors and Sets|5 Floats|5.1 Tables|5.2 Figures|5.3 Sub-Figures|5.4 "
        "Sub-Tables|5.5 Algorithms|6 Description Lists|7 Theorems, Lemmas etc|8 Citations and "
        "Bibliography|A First Appendix|B Second Appendix",
    ),
    "quantum": (
        "quantumarticle/quantum-template.pdf",
        "1 Figures|2 Sectioning and equations|2.1 References and footnotes|3 Plots|4 Summary section|5 "
        "Extra packages|6 Wide equations|7 Title information|8 LyX layout|9 Version|A First section of "
        "the appendix|A.1 Subsection|B Problems and Bugs",
    ),
}

_BASELINE_RE = re.compile(r"^((?:\d{1,2}(?:\.\d{1,2}){0,3})|[A-Z])\.?\s+([A-Z][^\n]{2,90})$")


def norm(h: str) -> str:
    h = re.sub(r"\s+", " ", h.strip())
    m = re.match(r"^(\S+?)\.?\s+(.*)$", h)  # "3.1." and "3.1" are the same number
    if m:
        h = f"{m.group(1)} {m.group(2)}"
    return h.rstrip(".").lower()


def score(found: list[str], gold: list[str]) -> dict:
    f = [norm(x) for x in found]
    g = [norm(x) for x in gold]
    tp = len(set(f) & set(g))
    p = tp / len(f) if f else 0.0
    r = tp / len(g) if g else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    in_order = [x for x in f if x in g] == [x for x in g if x in f]
    return {
        "p": p,
        "r": r,
        "f1": f1,
        "order": in_order,
        "missing": [x for x in g if x not in f],
        "extra": [x for x in f if x not in g],
    }


def _rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 1e6
    except ImportError:  # psutil missing: report 0 rather than fail the benchmark
        return 0.0


def _engine_run(pdf: str, repeat: int, q) -> None:
    from deepcode_tui.ingest.builder import build_index
    from deepcode_tui.ingest.pdf.engine import ENGINE_NAME, parse_pdf
    from deepcode_tui.tokens import count_tokens

    count_tokens("warm up")  # load the tokenizer before timing
    rss0 = _rss_mb()
    walls, cpus = [], []
    parsed = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        parsed = parse_pdf(Path(pdf), isolate=False)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    w = time.perf_counter()
    index = build_index(
        parsed.elements,
        source_path=pdf,
        fmt="pdf",
        engine=ENGINE_NAME,
        title=parsed.title,
        page_count=parsed.page_count,
    )
    build_s = time.perf_counter() - w
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    q.put(
        {
            "headings": index.numbered_headings(),
            "pages": parsed.page_count,
            "wall": min(walls),
            "cpu": min(cpus),
            "build": build_s,
            "peak_mb": peak,
            "rss0_mb": rss0,
        }
    )


def _baseline_run(pdf: str, repeat: int, q) -> None:
    import pypdfium2 as pdfium

    walls, cpus, found, n = [], [], [], 0
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        doc = pdfium.PdfDocument(pdf)
        found = []
        n = len(doc)
        for i in range(n):
            page = doc[i]
            tp = page.get_textpage()
            for line in tp.get_text_range().splitlines():
                m = _BASELINE_RE.match(line.strip())
                if m:
                    found.append(f"{m.group(1)} {m.group(2)}")
            tp.close()
            page.close()
        doc.close()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    q.put(
        {
            "headings": found,
            "pages": n,
            "wall": min(walls),
            "cpu": min(cpus),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _in_child(fn, pdf: str, repeat: int) -> dict:
    """Run in a fresh forked process so peak memory is per paper, not cumulative."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=(pdf, repeat, q))
    p.start()
    out = q.get(timeout=600)
    p.join()
    return out


def papers(dirs: list[Path]) -> list[tuple[str, Path, list[str]]]:
    out = []
    for d in dirs:
        if not d.is_dir():
            print(f"skip {d}: not a directory", file=sys.stderr)
            continue
        for sub in sorted(d.iterdir()):
            pdf, gold = sub / "paper.pdf", sub / "sections.txt"
            if pdf.is_file() and gold.is_file():
                out.append((sub.name, pdf, [x for x in gold.read_text().splitlines() if x.strip()]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--text", action="store_true", help="score reading order, captions, values, speed")
    ap.add_argument("--pdfs", type=Path, action="append", default=[], help="more PDFs for --text")
    ap.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("DEEPCODE_CORPUS", ROOT.parent / "shared" / "corpus")),
    )
    ap.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="another directory of <name>/{paper.pdf,sections.txt}",
    )
    ap.add_argument(
        "--texlive",
        action="store_true",
        help="also run the sample papers of Debian's texlive-publishers-doc (apt-get install it)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="timing runs per paper (best is reported)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list missing/extra headings")
    args = ap.parse_args()
    if args.text:
        from bench_ingest_text import text_bench

        return text_bench(args.corpus, args.pdfs, verbose=args.verbose)
    # Import once in the parent so the forked children time parsing, not interpreter start-up.
    import deepcode_tui.ingest.builder
    import deepcode_tui.ingest.pdf.engine  # noqa: F401

    dirs = [args.corpus / "papers", *args.extra]
    items = papers(dirs)
    if args.texlive:
        found = [
            (name, TEXLIVE_DOC / rel, gold.split("|"))
            for name, (rel, gold) in TEXLIVE_PAPERS.items()
            if (TEXLIVE_DOC / rel).is_file()
        ]
        if not found:
            print(
                "--texlive: no sample papers found; `apt-get install texlive-publishers-doc` first",
                file=sys.stderr,
            )
        items += found
    if not items:
        print("no papers found (looked in: " + ", ".join(map(str, dirs)) + ")")
        return 1
    hdr = (
        f"{'paper':28} {'pages':>5} | {'P':>5} {'R':>5} {'F1':>5} {'order':>5} {'pps':>6} {'cpu-pps':>7} "
        f"{'peakMB':>6} | {'base F1':>7} {'base pps':>8}"
    )
    print(hdr)
    print("-" * len(hdr))
    ok = True
    for name, pdf, gold in items:
        e = _in_child(_engine_run, str(pdf), args.repeat)
        b = _in_child(_baseline_run, str(pdf), args.repeat)
        se, sb = score(e["headings"], gold), score(b["headings"], gold)
        pps, cpps = e["pages"] / e["wall"], e["pages"] / e["cpu"]
        bpps = b["pages"] / b["wall"]
        print(
            f"{name[:28]:28} {e['pages']:>5} | {se['p']:5.3f} {se['r']:5.3f} {se['f1']:5.3f} "
            f"{'yes' if se['order'] else 'NO':>5} {pps:6.0f} {cpps:7.0f} {e['peak_mb']:6.0f} | "
            f"{sb['f1']:7.3f} {bpps:8.0f}"
        )
        if args.verbose and (se["missing"] or se["extra"]):
            print(f"    missing: {se['missing']}\n    extra:   {se['extra']}")
        paper_ok = se["f1"] >= F1_TARGET and se["order"] and se["f1"] >= sb["f1"] and cpps >= PPS_TARGET
        ok &= paper_ok
    print("-" * len(hdr))
    print(
        f"targets: F1 >= {F1_TARGET} on every paper, headings in reading order, F1 >= baseline, "
        f">= {PPS_TARGET:g} pages/s (CPU time; wall time shown too): {'MET' if ok else 'NOT MET'}"
    )
    print(
        "pps = engine (extraction + layout + headings + blocks) pages per wall-clock second, best of "
        f"{args.repeat}; cpu-pps the same per CPU second; peakMB = peak RSS of a fresh process per paper; "
        "index building (chunks, token counts) is not included in pps."
    )
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
