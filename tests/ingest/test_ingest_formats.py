"""Markdown, LaTeX, plain-text papers and short requirements."""

from __future__ import annotations

import textwrap

from deepcode_tui.ingest import load_document

MD = textwrap.dedent("""\
    # Sparse Widgets: A Study

    Authors here.

    # Abstract

    We study widgets.

    # 1. Introduction

    Widgets matter.

    # 2 Method

    ## 2.1 Model

    The model uses a learning rate of 1e-4 and batch size 32.

    $$
    y = Wx + b \\tag{3}
    $$

    ```python
    def train():
        pass
    ```

    Table 1: Results.

    | Model | Acc |
    |---|---|
    | A | 0.9 |

    ![Figure 2: The architecture](fig.png)

    # 3 Related Work

    # 2.2 Training

    Trained for 100K steps.

    # References

    - [1] A. Author. Widgets. arXiv:2101.00001, 2021.
    - [2] B. Author. Gadgets. https://github.com/b/gadgets, 2020.

    # A. Extra Details

    More.
""")


def test_markdown_structure(tmp_path):
    p = tmp_path / "paper.md"
    p.write_text(MD)
    idx = load_document(p)
    assert idx.format == "markdown" and idx.title == "Sparse Widgets: A Study"
    # "2.2" came after "3" (a converter's reading-order slip): it still sits under "2".
    assert idx.numbered_headings() == [
        "1 Introduction",
        "2 Method",
        "2.1 Model",
        "2.2 Training",
        "3 Related Work",
        "A Extra Details",
    ]
    assert [c.number for c in idx.section("2").children] == ["2.1", "2.2"]
    assert idx.equations[0].label == "(3)" and "y = Wx + b" in idx.equations[0].text
    assert idx.tables[0].caption == "Table 1: Results." and "A | 0.9" in idx.tables[0].text
    assert idx.figures[0].label == "Figure 2"
    assert any(c.kind == "code" and "def train" in c.text for c in idx.chunks)
    assert len(idx.references) == 2
    assert idx.references[0].arxiv_id == "2101.00001"
    assert idx.references[1].urls == ["https://github.com/b/gadgets"]
    hp = {(h.name.lower(), h.value) for h in idx.hyperparameters}
    assert ("learning rate", "1e-4") in hp and ("batch size", "32") in hp and ("steps", "100K") in hp


def test_mineru_style_markdown_levels_from_numbers(tmp_path):
    p = tmp_path / "m.md"
    p.write_text("# Title Of It\n\n# 1. Intro\n\ntext\n\n# 1.1. Sub\n\ntext\n\n# 2. Next\n\ntext\n")
    idx = load_document(p)
    assert [(s.number, s.level) for s in idx.all_sections()] == [("1", 1), ("1.1", 2), ("2", 1)]


LATEX_MAIN = r"""
\documentclass{article}
\title{Gadget Networks}
\begin{document}
\maketitle
\begin{abstract}
We propose gadget networks.
\end{abstract}
\section{Introduction}\label{sec:intro}
Gadgets are \emph{useful} \cite{smith2020,doe2021}. % a comment with \section{Fake}
\input{method}
\section*{Acknowledgements}
Thanks.
\begin{thebibliography}{9}
\bibitem{smith2020} J. Smith. Gadgets. 2020. \url{https://github.com/smith/gadgets}
\bibitem{doe2021} J. Doe. More gadgets. arXiv:2102.12345, 2021.
\end{thebibliography}
\appendix
\section{Proofs}
\subsection{Lemma One}
Proof text.
\end{document}
"""

LATEX_METHOD = r"""
\section{Method}
\subsection{Model}
We set the learning rate to $10^{-3}$ and use dropout 0.1.
\begin{equation}
  y = \sigma(Wx + b) \label{eq:y}
\end{equation}
\begin{align*}
  a &= b
\end{align*}
\begin{algorithm}
\caption{Gadget training}
\begin{algorithmic}
\State initialise $\theta$
\For{each batch}
\State update
\EndFor
\end{algorithmic}
\end{algorithm}
\begin{table}
\caption{Results on the benchmark.}
\begin{tabular}{lc}
\toprule
Model & Acc \\
\midrule
Gadget & 91.2 \\
\bottomrule
\end{tabular}
\end{table}
\subsubsection{Details}
More.
"""


def test_latex_with_input(tmp_path):
    (tmp_path / "method.tex").write_text(LATEX_METHOD)
    main = tmp_path / "main.tex"
    main.write_text(LATEX_MAIN)
    idx = load_document(main)
    assert idx.format == "latex" and idx.title == "Gadget Networks"
    assert idx.numbered_headings() == [
        "1 Introduction",
        "2 Method",
        "2.1 Model",
        "2.1.1 Details",
        "A Proofs",
        "A.1 Lemma One",
    ]
    titles = [s.title for s in idx.sections]
    assert "Abstract" in titles and "Acknowledgements" in titles and "References" in titles
    assert [e.label for e in idx.equations] == ["(1)", ""]
    assert "\\sigma(Wx + b)" in idx.equations[0].text
    assert idx.algorithms[0].title == "Gadget training" and "update" in idx.algorithms[0].text
    assert idx.tables[0].caption == "Results on the benchmark."
    assert "Gadget | 91.2" in idx.tables[0].text
    assert "[smith2020, doe2021]" in idx.section("1").text
    assert "Fake" not in " ".join(idx.numbered_headings())
    assert len(idx.references) == 2 and idx.references[1].arxiv_id == "2102.12345"
    assert idx.references[0].urls == ["https://github.com/smith/gadgets"]


def test_latex_detected_from_content_without_extension(tmp_path):
    p = tmp_path / "paper"
    p.write_text("\\section{Intro}\nHello.\n\\section{End}\nBye.\n")
    idx = load_document(p)
    assert idx.format == "latex" and idx.numbered_headings() == ["1 Intro", "2 End"]


def test_bib_file_sibling(tmp_path):
    (tmp_path / "refs.bib").write_text(
        "@article{a, title={Widget Nets}, author={Ann Lee}, year={2019}, url={https://github.com/a/w}}\n"
    )
    main = tmp_path / "main.tex"
    main.write_text(
        "\\documentclass{article}\\begin{document}\\section{Intro}Text.\\bibliography{refs}\\end{document}"
    )
    idx = load_document(main)
    assert len(idx.references) == 1
    assert idx.references[0].year == 2019 and idx.references[0].urls == ["https://github.com/a/w"]


REQ = """Todo list service

Build a small web service where users keep todo lists. It must run offline.

Features:
- Users can create, rename and delete lists.
- Items have a title, a due date and a done flag.
- Export: lists can be exported as JSON.

The service stores data in SQLite and exposes a REST API.
"""


def test_requirement_sections_from_paragraphs_and_bullets(tmp_path):
    p = tmp_path / "req.txt"
    p.write_text(REQ)
    idx = load_document(p)
    assert idx.format == "requirement" and idx.title == "Todo list service"
    heads = [(s.number, s.title) for s in idx.all_sections()]
    assert heads[0][0] == "1" and heads[0][1].startswith("Build a small web service")
    assert ("2", "Features") in heads
    assert [n for n, _ in heads if n.startswith("2.")] == ["2.1", "2.2", "2.3"]
    assert ("2.3", "Export") in heads
    assert heads[-1][0] == "3"
    assert idx.section("2.2").text == "Items have a title, a due date and a done flag."


def test_plain_text_paper(tmp_path):
    body = "lorem ipsum " * 700
    text = (
        f"A Paper Title\n\nAbstract\n\n{body}\n\n1 Introduction\n\n{body}\n\n1. not a heading item\n\n"
        f"2 Method\n\n{body}\n\n2.1 Details\n\n{body}\n\nReferences\n\n[1] A. B. Title. 2020.\n"
    )
    p = tmp_path / "paper.txt"
    p.write_text(text)
    idx = load_document(p)
    assert idx.format == "text"
    assert idx.numbered_headings() == ["1 Introduction", "2 Method", "2.1 Details"]
    assert len(idx.references) == 1


def test_markdown_untagged_fence_opening_with_algorithm_is_pseudocode(tmp_path):
    doc = tmp_path / "algo.md"
    doc.write_text(
        "# Paper\n\n## 1 Method\n\n```\nAlgorithm 1: Update\nInput: x\nfor t = 1..n:\n    y <- x\n```\n\n"
        "```\nprint('plain code')\n```\n"
    )
    index = load_document(doc)
    assert len(index.algorithms) == 1
    assert index.algorithms[0].text.startswith("Algorithm 1: Update")
    assert "plain code" not in index.algorithms[0].text


def test_title_block_author_lines_are_front_matter(tmp_path):
    # Author lines with e-mail addresses and permission notices before the first heading are
    # metadata: kept in front_matter, out of the text the agents read; the abstract stays.
    md = tmp_path / "p.md"
    md.write_text(
        "Provided proper attribution is provided, Acme hereby grants permission to reproduce the tables.\n\n"
        "Ada Lovelace  Acme Research  ada@acme.org\n\n"
        "In Proceedings of the 45th Annual Meeting of the Widget Society. pp. 576-583, Prague.\n\n"
        "We study widgets and find that they are useful.\n\n# 1 Introduction\n\nWidgets matter.\n"
    )
    index = load_document(md)
    assert any("ada@acme.org" in f for f in index.front_matter)
    assert any("45th Annual Meeting" in f for f in index.front_matter)  # the venue line
    assert any("hereby grants permission" in f for f in index.front_matter)
    text = " ".join(s.text for s in index.sections)
    assert "ada@acme.org" not in text and "hereby grants" not in text and "Annual Meeting" not in text
    assert "We study widgets" in text
