"""Reference-source candidates mined from a paper: repository links and library names.

:func:`mine_candidates` is deterministic (github/gitlab/bitbucket URLs, even when PDF
extraction broke them across lines; ``pip install X``; well-known library names).
:func:`mine_candidates_with_model` adds what the summarizer model finds in the
references. Candidates are only suggestions: the user keeps or drops them.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from deepcode_tui.errors import BudgetExceeded, Cancelled, ConfigError
from deepcode_tui.rag.events import Summarize
from deepcode_tui.rag.sources import parse_source
from deepcode_tui.tokens import truncate_to_tokens


class ReferenceCandidate(BaseModel):
    """A suggested source spec, why it was suggested, and the text that suggested it."""

    spec: str
    reason: str
    evidence: str = ""
    mentions: int = 1


# PDF text breaks URLs after a slash ("https://github.com/\ntensorflow/tensor2tensor"),
# so up to two whitespace characters may follow each slash.
_REPO_URL_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org)/\s{0,2}"
    r"([A-Za-z0-9][A-Za-z0-9_.-]*)/\s{0,2}([A-Za-z0-9][A-Za-z0-9_.-]*)",
    re.IGNORECASE,
)
_PIP_RE = re.compile(r"\bpip3?\s+install\s+(?:-U\s+|--upgrade\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)")
_NOT_REPO = frozenset({"and", "the", "for", "with", "from", "this", "that", "in", "of", "to", "a", "an"})

# Library mentions that name one installable package; patterns avoid plain English
# (a "transformer" paper is not about the Hugging Face library).
KNOWN_LIBRARIES: dict[str, tuple[str, str]] = {
    "torch": (r"\bpy[- ]?torch\b|\btorch\.nn\b|\bimport torch\b", "PyTorch"),
    "tensorflow": (r"\btensor[- ]?flow\b", "TensorFlow"),
    "jax": (r"\bjax\b", "JAX"),
    "flax": (r"\bflax\b", "Flax"),
    "keras": (r"\bkeras\b", "Keras"),
    "numpy": (r"\bnumpy\b", "NumPy"),
    "scipy": (r"\bscipy\b", "SciPy"),
    "scikit-learn": (r"\bscikit[- ]learn\b|\bsklearn\b", "scikit-learn"),
    "pandas": (r"\bpandas\b", "pandas"),
    "transformers": (r"\bhugging\s?face(?:'s)?\s+transformers\b|\btransformers library\b", "Hugging Face Transformers"),
    "datasets": (r"\bhugging\s?face(?:'s)?\s+datasets\b", "Hugging Face Datasets"),
    "networkx": (r"\bnetworkx\b", "NetworkX"),
    "spacy": (r"\bspacy\b", "spaCy"),
    "nltk": (r"\bnltk\b", "NLTK"),
    "gensim": (r"\bgensim\b", "gensim"),
    "xgboost": (r"\bxgboost\b", "XGBoost"),
    "lightgbm": (r"\blightgbm\b", "LightGBM"),
    "lightning": (r"\bpytorch[- ]lightning\b", "PyTorch Lightning"),
    "torch-geometric": (r"\bpytorch[- ]geometric\b|\btorch_geometric\b", "PyTorch Geometric"),
    "dgl": (r"\bdeep graph library\b|\bdgl\b", "DGL"),
    "fairseq": (r"\bfairseq\b", "fairseq"),
    "allennlp": (r"\ballennlp\b", "AllenNLP"),
    "sentencepiece": (r"\bsentencepiece\b", "SentencePiece"),
    "einops": (r"\beinops\b", "einops"),
    "optax": (r"\boptax\b", "Optax"),
    "gymnasium": (r"\bgymnasium\b|\bopenai gym\b", "Gymnasium"),
    "transformer-lens": (r"\btransformer[_ -]?lens\b", "TransformerLens"),
    "opencv-python": (r"\bopencv\b", "OpenCV"),
    "matplotlib": (r"\bmatplotlib\b", "Matplotlib"),
}


def _context(text: str, start: int, end: int, width: int = 60) -> str:
    return " ".join(text[max(0, start - width) : end + width].split())


def _repo_url(host: str, owner: str, repo: str) -> str | None:
    repo = repo.rstrip(".,;:)").removesuffix(".git")
    owner = owner.rstrip(".,;:)")
    if not repo or repo.lower() in _NOT_REPO or owner.lower() in _NOT_REPO:
        return None
    return f"https://{host.lower()}/{owner}/{repo}"


def mine_candidates(text: str) -> list[ReferenceCandidate]:
    """Deterministic candidates from a paper's text: repo URLs, then pip installs, then libraries.

    Each spec appears once, with its mention count; the order within a kind is by
    first appearance.
    """
    found: dict[str, ReferenceCandidate] = {}

    def add(spec: str, reason: str, evidence: str) -> None:
        if spec in found:
            found[spec].mentions += 1
        else:
            found[spec] = ReferenceCandidate(spec=spec, reason=reason, evidence=evidence)

    for m in _REPO_URL_RE.finditer(text):
        url = _repo_url(*m.groups())
        if url:
            add(url, "repository linked in the paper", _context(text, m.start(), m.end()))
    for m in _PIP_RE.finditer(text):
        add(f"pkg:{m.group(1)}", f"the paper says pip install {m.group(1)}", _context(text, m.start(), m.end()))
    for pkg, (pattern, label) in KNOWN_LIBRARIES.items():
        for m in re.finditer(pattern, text, re.IGNORECASE):
            add(f"pkg:{pkg}", f"the paper mentions {label}", _context(text, m.start(), m.end()))
    return list(found.values())


def _references_part(text: str, budget_tokens: int) -> str:
    """The part of a paper most likely to name code: its references and code-availability lines."""
    idx = max(text.rfind("\nReferences"), text.rfind("\nREFERENCES"), text.rfind("\nBibliography"))
    refs = text[idx:] if idx >= 0 else ""
    code_lines = [ln for ln in text.splitlines() if re.search(r"github|gitlab|code|implementation|library",
                                                             ln, re.IGNORECASE)]
    return truncate_to_tokens("\n".join(code_lines) + "\n\n" + refs, budget_tokens)


def mining_prompt(text: str, budget_tokens: int = 3000) -> str:
    return (
        "From this research paper excerpt, list the code repositories and Python packages whose "
        "source would help someone implement the paper. One per line, each either a repository URL "
        "(https://github.com/OWNER/REPO) or pkg:PACKAGE_NAME for a PyPI package. No commentary.\n\n"
        + _references_part(text, budget_tokens)
    )


async def mine_candidates_with_model(text: str, summarize: Summarize | None) -> list[ReferenceCandidate]:
    """Deterministic candidates plus valid specs the summarizer model proposes.

    A model answer that is not a URL or ``pkg:NAME`` is ignored; a failed model call
    leaves the deterministic candidates.
    """
    found = {c.spec: c for c in mine_candidates(text)}
    if summarize is None:
        return list(found.values())
    try:
        answer = await summarize(mining_prompt(text))
    except (Cancelled, BudgetExceeded):
        raise
    except Exception:  # noqa: BLE001 - the deterministic miner already gave what it could
        return list(found.values())
    for line in answer.splitlines():
        line = line.strip().lstrip("-*0123456789.) ").strip("`'\" ")
        m = _REPO_URL_RE.search(line)
        spec = _repo_url(*m.groups()) if m else None
        if spec is None:
            pm = re.fullmatch(r"pkg:\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
            spec = f"pkg:{pm.group(1)}" if pm else None
        if spec is None:
            continue
        try:
            parse_source(spec)
        except ConfigError:
            continue
        if spec not in found:
            found[spec] = ReferenceCandidate(spec=spec, reason="suggested by the summarizer from the references",
                                             evidence=line[:200])
    return list(found.values())
