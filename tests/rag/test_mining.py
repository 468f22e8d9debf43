"""Mining reference-source candidates from a paper."""

from __future__ import annotations

from deepcode_tui.errors import Cancelled
from deepcode_tui.rag.mining import mine_candidates, mine_candidates_with_model

TEXT = """\
We implement the model in PyTorch and release it. Code is available at https://github.com/
tensorflow/tensor2tensor. Our code, models, and data can be found at https://github.com/ ajyl/dpo_toxic.
See also https://github.com/allenai/ and gitlab.com/group/project.git for baselines.
Install the toolkit with `pip install sentencepiece` first. The Transformer uses attention.
We used numpy and the Hugging Face Transformers library.
"""


def specs(cands):
    return [c.spec for c in cands]


def test_deterministic_miner_finds_links_installs_and_libraries():
    got = specs(mine_candidates(TEXT))
    assert got[:3] == ["https://github.com/tensorflow/tensor2tensor", "https://github.com/ajyl/dpo_toxic",
                       "https://gitlab.com/group/project"]
    assert "pkg:sentencepiece" in got and "pkg:torch" in got and "pkg:numpy" in got
    assert "pkg:transformers" in got  # named as the Hugging Face library
    assert not any("allenai/and" in s or s.endswith("/allenai") for s in got)
    assert got.count("pkg:sentencepiece") == 1


def test_plain_word_transformer_is_not_the_library():
    got = specs(mine_candidates("The Transformer is a model built from transformers and attention."))
    assert "pkg:transformers" not in got


def test_real_papers(corpus_dir):
    import pypdfium2

    def text(name):
        pdf = pypdfium2.PdfDocument(corpus_dir / "papers" / name / "paper.pdf")
        try:
            return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        finally:
            pdf.close()

    assert "https://github.com/tensorflow/tensor2tensor" in specs(mine_candidates(text("transformer")))
    mech = specs(mine_candidates(text("mechanistic-understanding")))
    assert "https://github.com/conversationai/perspectiveapi" in mech
    assert "https://github.com/ajyl/dpo_toxic" in mech  # the URL PDF extraction broke across lines
    s2 = specs(mine_candidates(text("n18-3011")))
    assert {"https://github.com/allenai/citeomatic", "https://github.com/allenai/openie-standalone"} <= set(s2)


async def test_model_miner_adds_valid_suggestions_only():
    async def summarize(prompt: str) -> str:
        assert "References" in prompt or "github" in prompt
        return "- https://github.com/harvardnlp/annotated-transformer\n* pkg:einops\nsome chatter\npkg:bad name\n"

    got = specs(await mine_candidates_with_model(TEXT + "\nReferences\n[1] Vaswani et al.", summarize))
    assert "https://github.com/harvardnlp/annotated-transformer" in got and "pkg:einops" in got
    assert "https://github.com/tensorflow/tensor2tensor" in got  # deterministic ones kept
    assert not any("chatter" in s or "bad" in s for s in got)


async def test_model_miner_failure_keeps_deterministic_and_cancel_propagates():
    async def broken(prompt: str) -> str:
        raise RuntimeError("no provider")

    assert specs(await mine_candidates_with_model(TEXT, broken)) == specs(mine_candidates(TEXT))

    async def cancel(prompt: str) -> str:
        raise Cancelled("stop")

    try:
        await mine_candidates_with_model(TEXT, cancel)
    except Cancelled:
        pass
    else:
        raise AssertionError("Cancelled must propagate")
