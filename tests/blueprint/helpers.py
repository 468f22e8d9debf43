"""Hand-built fixtures: a small paper index and a blueprint that implements it."""

from __future__ import annotations

from deepcode_tui.blueprint.models import Blueprint
from deepcode_tui.ingest.models import (
    Algorithm,
    Chunk,
    DocumentIndex,
    Equation,
    Hyperparameter,
    Section,
)
from deepcode_tui.tokens import count_tokens

FILLER = (
    "The model maps an input sequence to an output sequence using stacked attention layers. "
    "Each layer applies attention followed by a position-wise feed-forward network. "
)


def _sec(id_: str, number: str, title: str, text: str, level: int = 1, children=()) -> Section:
    return Section(
        id=id_,
        number=number,
        title=title,
        level=level,
        text=text,
        token_count=count_tokens(text),
        children=list(children),
    )


def make_index(filler_repeats: int = 12) -> DocumentIndex:
    """A paper of ~2-3k tokens: intro, method (attention, training), experiments, references."""
    body = FILLER * filler_repeats
    attention = (
        "Scaled dot-product attention computes Attention(Q, K, V) = softmax(QK^T / sqrt(d_k)) V (1). "
        "We use d_model = 512 and h = 8 heads. " + body
    )
    training = (
        "We train with Adam, learning rate of 1e-4, batch size of 32 and dropout 0.1. "
        "Algorithm 1 gives the training loop. The loss is L = -sum log p(y|x) (2). " + body
    )
    sections = [
        _sec("s1", "1", "Introduction", "We propose a small attention model. " + body),
        _sec(
            "s2",
            "2",
            "Method",
            "Our method has two parts. ",
            children=[
                _sec("s2-1", "2.1", "Attention", attention, level=2),
                _sec("s2-2", "2.2", "Training", training, level=2),
            ],
        ),
        _sec("s3", "3", "Experiments", "We reach 28.4 BLEU on the test set. " + body),
        _sec("s4", "", "References", "[1] A. Author. A paper. 2017."),
    ]
    idx = DocumentIndex(
        source_path="paper.md",
        format="markdown",
        engine="test",
        title="A Small Attention Model",
        sections=sections,
    )
    chunks = []
    for s in idx.all_sections():
        if s.text:
            chunks.append(
                Chunk(
                    id=f"c-{s.id}", section_id=s.id, heading=s.heading, text=s.text, token_count=s.token_count
                )
            )
    idx.chunks = chunks
    idx.equations = [
        Equation(
            id="eq-1", text="Attention(Q, K, V) = softmax(QK^T / sqrt(d_k)) V", label="(1)", section_id="s2-1"
        ),
        Equation(id="eq-2", text="L = -sum log p(y|x)", label="(2)", section_id="s2-2"),
    ]
    idx.algorithms = [
        Algorithm(
            id="alg-1",
            title="Algorithm 1: Training loop",
            section_id="s2-2",
            text="for each batch do\n  compute loss L\n  update parameters with Adam\nend for",
        ),
    ]
    idx.hyperparameters = [
        Hyperparameter(name="learning rate", value="1e-4", section_id="s2-2"),
        Hyperparameter(name="batch size", value="32", section_id="s2-2"),
        Hyperparameter(name="dropout", value="0.1", section_id="s2-2"),
        Hyperparameter(name="d_model", value="512", section_id="s2-1"),
    ]
    idx.total_tokens = sum(s.token_count for s in idx.all_sections())
    return idx


def blueprint_dict() -> dict:
    return {
        "title": "A Small Attention Model",
        "summary": "Reproduce the attention model and its training loop.",
        "file_hierarchy": [
            {
                "path": "src/config.py",
                "purpose": "hyperparameters",
                "paper_sections": ["2.2 Training"],
                "stage": 1,
                "kind": "source",
            },
            {
                "path": "src/model.py",
                "purpose": "the attention model",
                "dependencies": ["src/config.py"],
                "paper_sections": ["2.1 Attention"],
                "stage": 1,
            },
            {
                "path": "src/train.py",
                "purpose": "training loop",
                "dependencies": ["src/model.py", "src/config.py"],
                "paper_sections": ["2.2 Training"],
                "stage": 2,
            },
            {
                "path": "tests/test_model.py",
                "purpose": "shape tests",
                "dependencies": ["src/model.py"],
                "stage": 2,
                "kind": "test",
            },
            {"path": "requirements.txt", "purpose": "pinned packages", "stage": 1, "kind": "config"},
        ],
        "components": [
            {
                "file": "src/config.py",
                "classes": [{"name": "Config", "attributes": ["d_model: int = 512"]}],
                "hyperparameters": [
                    {"name": "learning rate", "value": "1e-4", "source": "2.2"},
                    {"name": "batch size", "value": "32", "source": "2.2"},
                    {"name": "dropout", "value": "0.1", "source": "2.2"},
                ],
            },
            {
                "file": "src/model.py",
                "classes": [
                    {
                        "name": "Attention",
                        "bases": ["nn.Module"],
                        "methods": [
                            {
                                "name": "forward",
                                "signature": "def forward(self, q, k, v) -> Tensor",
                                "implements": ["Eq. (1)"],
                            }
                        ],
                    }
                ],
                "equations": ["Eq. (1): Attention(Q,K,V) = softmax(QK^T/sqrt(d_k))V"],
            },
            {
                "file": "src/train.py",
                "functions": [
                    {
                        "name": "train",
                        "signature": "def train(cfg: Config) -> float",
                        "description": "runs Attention training",
                    }
                ],
                "equations": ["(2) L = -sum log p(y|x)"],
                "pseudocode": "Algorithm 1: for each batch: compute loss, Adam step",
            },
            {
                "file": "tests/test_model.py",
                "functions": [{"name": "test_shapes", "signature": "def test_shapes() -> None"}],
            },
        ],
        "verification": {
            "commands": ["python -m pytest -q"],
            "metrics": [{"name": "BLEU", "target": "28.4", "source": "3 Experiments"}],
            "success_criteria": ["tests pass"],
            "tests": [{"path": "tests/test_model.py", "name": "test_shapes", "checks": "output shape"}],
        },
        "environment": {
            "python": "3.11",
            "packages": [{"name": "torch", "version": ">=2.1"}],
            "hardware": "CPU",
        },
        "stages": [
            {
                "name": "model",
                "files": ["src/config.py", "src/model.py", "requirements.txt"],
                "checks": ["import works"],
            },
            {
                "name": "training",
                "files": ["src/train.py", "tests/test_model.py"],
                "checks": ["pytest passes"],
            },
        ],
    }


def make_blueprint() -> Blueprint:
    return Blueprint.model_validate(blueprint_dict())
