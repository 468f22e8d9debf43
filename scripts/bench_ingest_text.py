"""`bench_ingest.py --text`: is the text the agents read faithful to the paper?

Per paper of the corpus (PDF when there is one, else its MinerU Markdown) and
per extra PDF, it prints:

- order: share of numbered sections whose prose word order matches the
  reference at >= 0.9, paragraph-aligned (every paragraph of either side aligned
  to where it reads best in the other side's text, so the reference's misplaced
  paragraphs do not count against us; MinerU Markdown or GROBID/s2orc JSON as the
  reference, see ingest_textscore.py), and the mean; `strict` is the older
  per-section 2*LCS/(a+b), printed beside it;
- cap: captions found / "Table N:" and "Figure N:" captions in the source's text;
- tab: tables, of which without caption, of which with prose rows (two or more
  cells of four or more words: two text columns read as one table);
- front: front-matter lines (affiliations, e-mail, correspondence, venue,
  equal-contribution notes) inside the sections' paragraphs (the total line also counts those
  left in the text before the first heading: author lines, notices);
- values: rubric-named values stated in the paper found in `hyperparameters`
  with their name, and by value alone;
- eq: (totals line) equations that are fragments of a formula: four or fewer letters and
  digits ("1 n", "X") or a replacement character;
- figure text as headings (totals line): headings whose text is drawn inside one of the page's
  figure boxes (images, forms, clusters of paths), with the hits listed under -v;
- pps: pages per second of the whole index, one process, after the first document.

TUNING_PDFS names the real PDFs (test fixtures of public PDF tools) used while
tuning; they are not in the repository: extract them with `git show` from the
named repositories into a directory and pass it with --pdfs.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import ingest_textscore as ts

TUNING_PDFS = {
    "allenai/science-parse": "core/src/test/resources/{P07-1088,P14-1059,agarwal11,bagnell11,bohnet09,"
    "bunescu-acl07,dyer12,map-reduce,mooney05,roark13,smith07,a7c25298c607d5bf32e3301b6b209431e2a7f830,"
    "c921a74c209e720534939dfa191d639e647dd242}.pdf",
    "allenai/s2orc-doc2json": "tests/pdf/2020.acl-main.207.pdf",
    "kermitt2/grobid": "grobid-core/src/test/resources/test/{0807.3577,1001._0908.0054,submission_161,"
    "submission_355}.pdf, grobid-core/src/test/resources/footnotes/test.pdf (saved as footnotes-test.pdf), "
    "grobid-service/src/main/resources/web/resources/pdf.js/web/compressed.tracemonkey-pldi-09.pdf",
}
ORDER_OK = 0.9
MIN_WORDS = 30  # sections with less prose than this say little about order
_FRONT = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+|correspondence to|equal contribution|contributed equally|"
    r"proceedings of the|preprint\.? under review|copyright \d{4}|work done (?:while|during)|"
    r"^\s*\d?\s*(?:department|school|university|institute) of\b",
    re.IGNORECASE | re.MULTILINE,
)


def _index_pdf(pdf: Path):
    from deepcode_tui.ingest.builder import build_index
    from deepcode_tui.ingest.pdf.engine import ENGINE_NAME, parse_pdf

    parsed = parse_pdf(pdf, isolate=False)
    index = build_index(
        parsed.elements,
        source_path=str(pdf),
        fmt="pdf",
        engine=ENGINE_NAME,
        title=parsed.title,
        page_count=parsed.page_count,
    )
    return parsed.elements, index


def _pdf_text_lines(pdf: Path) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    out = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            tp = page.get_textpage()
            out.extend(tp.get_text_range().splitlines())
            tp.close()
            page.close()
    finally:
        doc.close()
    return out


def _table_stats(index) -> tuple[int, int, int]:
    no_cap = prose = 0
    for t in index.tables:
        if not t.caption.strip():
            no_cap += 1
        for row in t.text.splitlines():
            cells = [c for c in row.split(" | ") if len(ts.words(c)) >= 4]
            if len(cells) >= 2:
                prose += 1
                break
    return len(index.tables), no_cap, prose


def _figure_headings(pdf: Path, elements) -> list[str]:
    """Headings that are a line drawn inside a figure box of their page (a label set in bold)."""
    from deepcode_tui.ingest.pdf.extract import extract_pdf

    def norm(t: str) -> str:
        return re.sub(r"[^a-z0-9]+", "", t.lower())

    lines: dict[int, list[str]] = {}
    for page in extract_pdf(pdf).pages:
        rows: dict[tuple[int, int], list] = {}
        for sp in page.spans:
            cx, cy = (sp.x0 + sp.x1) / 2, (sp.top + sp.bottom) / 2
            for k, b in enumerate(page.figures):
                if b[0] <= cx <= b[2] and b[1] <= cy <= b[3]:
                    rows.setdefault((k, round(sp.base)), []).append(sp)
                    break
        lines[page.number] = [
            norm(" ".join(x.text for x in sorted(r, key=lambda x: x.x0))) for r in rows.values()
        ]
    out = []
    for e in elements:
        h, nh = norm(e.text), norm(f"{e.number} {e.text}")
        if e.kind == "heading" and len(h) >= 3 and any(ln in (h, nh) for ln in lines.get(e.page or 0, [])):
            out.append(e.text)
    return out


def _eq_fragments(elements) -> list[str]:
    return [
        e.text
        for e in elements
        if e.kind == "equation"
        and (sum(ch.isalnum() for ch in e.text) <= 4 or "\ufffd" in e.text or "\ufffe" in e.text)
    ]


def _front_hits(elements) -> list[str]:
    hits, in_body = [], False
    for e in elements:
        if e.kind == "heading":
            in_body = bool(e.number)
            continue
        if in_body and e.kind == "para" and (e.page or 1) <= 2:
            m = _FRONT.search(e.text)
            if m:
                hits.append(e.text[max(0, m.start() - 40) : m.end() + 40])
    return hits


def _title_block_hits(index) -> list[str]:
    """Front-matter lines (e-mail, correspondence, ...) left in the text before the first heading."""
    from deepcode_tui.ingest.builder import FRONT_TITLE

    return [
        p[:120]
        for sec in index.sections
        if sec.title == FRONT_TITLE
        for p in sec.text.split("\n\n")
        if _FRONT.search(p)
    ]


def _order(
    ours: dict[str, list[str]], ref: dict[str, list[str]], aligned: dict[str, float] | None = None
) -> tuple[int, int, float, list]:
    scores = []
    for num, ref_words in ref.items():
        if len(ref_words) < MIN_WORDS:
            continue
        score = aligned.get(num, 0.0) if aligned is not None else ts.order_score(ours.get(num, []), ref_words)
        scores.append((num, score))
    ok = sum(1 for _, s in scores if s >= ORDER_OK)
    mean = sum(s for _, s in scores) / len(scores) if scores else 0.0
    return ok, len(scores), mean, [(n, round(s, 2)) for n, s in scores if s < ORDER_OK]


def text_bench(corpus: Path, pdf_dirs: list[Path], *, verbose: bool = False) -> int:
    from deepcode_tui.ingest import load_document
    from deepcode_tui.ingest.markdown import parse_markdown
    from deepcode_tui.tokens import count_tokens

    t_load = time.perf_counter()
    count_tokens("warm up")
    tokenizer_s = time.perf_counter() - t_load
    items: list[tuple[str, Path]] = []
    papers = corpus / "papers"
    if papers.is_dir():
        items += [(d.name, d) for d in sorted(papers.iterdir()) if d.is_dir()]
    for d in pdf_dirs:
        items += [(p.stem, p) for p in sorted(Path(d).glob("*.pdf"))]
    if not items:
        print(f"no papers found in {papers} (set --corpus or DEEPCODE_CORPUS) nor in --pdfs {pdf_dirs}")
        return 1
    hdr = (
        f"{'paper':26} {'src':3} {'pages':>5} | {'order>=.9':>9} {'mean':>5} {'strict':>9} | {'cap':>7} | "
        f"{'tab':>3} {'nocap':>5} {'prose':>5} | {'front':>5} | {'values(name/value/all)':>22}"
    )
    print(hdr)
    print("-" * len(hdr))
    tot = {
        "ok": 0,
        "n": 0,
        "cap": 0,
        "capn": 0,
        "vn": 0,
        "vv": 0,
        "va": 0,
        "prose": 0,
        "front": 0,
        "tblock": 0,
        "sok": 0,
        "eq": 0,
        "eqfrag": 0,
        "fighead": 0,
    }
    pdf_pages = pdf_time = pdf_cpu = 0.0
    first_pdf = True
    misses: list[str] = []
    for name, path in items:
        pdf = path if path.suffix == ".pdf" else path / "paper.pdf"
        md = None if path.suffix == ".pdf" else path / "paper.mineru.md"
        if pdf.is_file():
            t0, c0 = time.perf_counter(), time.process_time()
            elements, index = _index_pdf(pdf)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if not first_pdf:
                pdf_pages += index.page_count or 0
                pdf_time += dt
                pdf_cpu += dc
            first_pdf = False
            src, source_lines = "pdf", _pdf_text_lines(pdf)
            ours = ts.section_prose(elements)
            ours_paras = ts.section_paras(elements)
            ref, ref_paras = {}, []
            if md is not None and md.is_file():
                ref_elements = parse_markdown(md.read_text(encoding="utf-8"))[0]
                ref, ref_paras = ts.section_prose(ref_elements), ts.section_paras(ref_elements)
            else:
                if path.is_dir():
                    gold = next(iter(sorted(path.glob("gold_sections.*.json"))), None)
                else:  # an extra PDF with its s2orc/GROBID JSON beside it
                    gold = path.with_suffix(".json") if path.with_suffix(".json").is_file() else None
                if gold is not None:
                    ref, ref_paras = ts.grobid_prose(gold), ts.grobid_paras(gold)
            pages = index.page_count or 0
        elif md is not None and md.is_file():
            index = load_document(md)
            src, source_lines = "md", md.read_text(encoding="utf-8").splitlines()
            elements, ours, ref, pages, ours_paras, ref_paras = [], {}, {}, 0, [], []
        else:
            continue
        if ref:
            ok, n, mean, bad = _order(ours, ref, ts.aligned_order(ours_paras, ref_paras))
            sok, _, _, sbad = _order(ours, ref)
            order = f"{ok:>4}/{n:<4} {mean:5.2f} {sok:>4}/{n:<4}"
            tot["ok"] += ok
            tot["sok"] += sok
            tot["n"] += n
        else:
            order, bad, sbad = f"{'-':>9} {'-':>5} {'-':>9}", [], []
        want = ts.captions_in_lines(source_lines)
        have = ts.captions_in_index(index)
        tot["cap"] += len(want & have)
        tot["capn"] += len(want)
        ntab, nocap, prose = _table_stats(index)
        tot["prose"] += prose if src == "pdf" else 0
        front = _front_hits(elements) if elements else []
        eqfrag = _eq_fragments(elements)
        fighead = _figure_headings(pdf, elements) if src == "pdf" else []
        tot["fighead"] += len(fighead)
        tot["eq"] += sum(1 for e in elements if e.kind == "equation")
        tot["eqfrag"] += len(eqfrag)
        tot["front"] += len(front)
        title_block = _title_block_hits(index)
        tot["tblock"] += len(title_block)
        vals = ""
        rubric = path / "rubric.json" if path.is_dir() else None
        if rubric is not None and rubric.is_file():
            numbers = ts.numbers_of("\n".join(source_lines))
            pairs = [
                p for p in ts.rubric_values(json.loads(rubric.read_text())) if ts.value_in_text(p[1], numbers)
            ]
            vn = vv = 0
            for nm, val, req in pairs:
                by_name, by_value = ts.value_found(index, nm, val)
                vn += by_name
                vv += by_value
                if not by_name:
                    misses.append(f"{name}: {nm} = {val}   <- {req[:110]}")
            tot["vn"] += vn
            tot["vv"] += vv
            tot["va"] += len(pairs)
            vals = f"{vn:>4}/{vv:>4}/{len(pairs):<4}"
        print(
            f"{name[:26]:26} {src:3} {pages:>5} | {order} | {len(want & have):>3}/{len(want):<3} | "
            f"{ntab:>3} {nocap:>5} {prose:>5} | {len(front):>5} | {vals:>22}"
        )
        if verbose:
            if bad:
                print(f"    order < {ORDER_OK}: {bad}")
            if sbad:
                print(f"    strict order < {ORDER_OK}: {sbad}")
            if want - have:
                print(f"    captions missing: {sorted(want - have)}")
            if fighead:
                print(f"    figure text as headings: {fighead[:8]}")
            if eqfrag:
                print(f"    equation fragments: {eqfrag[:8]}")
            for f in front[:5]:
                print(f"    front-matter in body: {f!r}")
            for f in title_block[:5]:
                print(f"    title-block line in text: {f!r}")
    print("-" * len(hdr))
    share = tot["ok"] / tot["n"] if tot["n"] else 0.0
    cap = tot["cap"] / tot["capn"] if tot["capn"] else 1.0
    vn = tot["vn"] / tot["va"] if tot["va"] else 0.0
    vv = tot["vv"] / tot["va"] if tot["va"] else 0.0
    pps = pdf_pages / pdf_time if pdf_time else 0.0
    cpps = pdf_pages / pdf_cpu if pdf_cpu else 0.0
    print(
        f"sections with order >= {ORDER_OK}: {tot['ok']}/{tot['n']} = {share:.0%} paragraph-aligned, "
        f"{tot['sok']}/{tot['n']} = {tot['sok'] / tot['n'] if tot['n'] else 0:.0%} strict; "
        f"captions {tot['cap']}/{tot['capn']} = {cap:.0%}; tables with prose rows: {tot['prose']}; "
        f"front-matter lines in sections: {tot['front']}, in the title block's text: {tot['tblock']}; "
        f"equation fragments: {tot['eqfrag']}/{tot['eq']} equations; figure text as headings: {tot['fighead']}"
    )
    print(
        f"rubric-named values in hyperparameters: with name {tot['vn']}/{tot['va']} = {vn:.0%}, "
        f"by value {tot['vv']}/{tot['va']} = {vv:.0%}"
    )
    print(
        f"whole index (extract+layout+blocks+sections+chunks+tokens), after the first PDF: "
        f"{pdf_pages:.0f} pages in {pdf_time:.2f} s = {pps:.0f} pages/s wall, {cpps:.0f} pages/s CPU "
        f"(the machine is shared: CPU time is the steadier figure); tokenizer load {tokenizer_s:.2f} s"
    )
    if verbose and misses:
        print("values missed (name):")
        for m in misses:
            print("   ", m)
    return 0
