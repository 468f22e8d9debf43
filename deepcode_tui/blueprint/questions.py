"""Open questions: what the document leaves unspecified that the code needs.

Papers leave out optimizer settings, initialisation, data splits, evaluation
protocols, seeds, shapes and tie-breaking; a planner that fills them in
silently hides from the human which choices were the paper's. Here every
such gap is an :class:`OpenQuestion` in the blueprint: the question, what it
affects, a proposed answer, the basis of that proposal (a section of the
document, a reference repository, common practice, or the user's addendum)
and a confidence. At the gate the human answers a question, accepts its
proposal or leaves it open (``--yes`` accepts every proposal and says so).

Settled questions flow into the spec text of the files they affect (the
coder sees them) and into the generated README's assumptions; open ones are
counted by the coverage report. The functions here are pure: they take a
blueprint and return a new one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from deepcode_tui.blueprint.fields import Loose as _Loose
from deepcode_tui.blueprint.fields import Strict as _Strict
from deepcode_tui.blueprint.fields import as_list as _as_list
from deepcode_tui.blueprint.fields import as_text as _as_text

Basis = Literal["document", "reference", "practice", "addendum", "human"]
Status = Literal["open", "accepted", "answered"]
_WORDS = re.compile(r"[a-z0-9]+")
_STOP = frozenset("the a an of to in for and or is are be what which how with on by at as it its this that "
                  "from should we use used do does paper value values".split())
_CONFIDENCE = {"high": 0.8, "medium": 0.5, "med": 0.5, "low": 0.2}


def _confidence(v: Any) -> Any:
    if isinstance(v, str):
        key = v.strip().lower().rstrip("%")
        if key in _CONFIDENCE:
            return _CONFIDENCE[key]
        try:
            num = float(key)
        except ValueError:
            return 0.5
        return num / 100 if num > 1 else num
    return v


class QuestionDraft(_Loose):
    """An open question as a reading agent reports it (loose: it comes from a model)."""

    question: str
    affects: list[str] = Field(default_factory=list)  # components or files
    proposed_answer: str = ""
    basis: str = "practice"
    basis_detail: str = ""  # the section, the repository, or the practice named
    confidence: float = 0.5

    _lists = field_validator("affects", mode="before")(_as_list)
    _text = field_validator("proposed_answer", "basis", "basis_detail", mode="before")(_as_text)
    _conf = field_validator("confidence", mode="before")(_confidence)


class OpenQuestion(_Strict):
    """A detail the document leaves open, as the blueprint carries it."""

    id: str = ""  # q1, q2 ... (assigned when missing)
    question: str
    affects: list[str] = Field(default_factory=list)  # file paths or component/class names
    proposed_answer: str = ""
    basis: Basis = "practice"
    basis_detail: str = ""
    confidence: float = Field(0.5, ge=0, le=1)
    status: Status = "open"
    answer: str = ""  # the settled answer (the proposal when accepted)
    answered_by: str = ""  # "human", "--yes", "addendum"

    _lists = field_validator("affects", mode="before")(_as_list)
    _text = field_validator("proposed_answer", "basis_detail", "answer", "answered_by", mode="before")(_as_text)
    _conf = field_validator("confidence", mode="before")(_confidence)

    @field_validator("basis", mode="before")
    @classmethod
    def _basis(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip().lower()
            for name in ("document", "reference", "practice", "addendum", "human"):
                if key.startswith(name[:4]):
                    return name
            if key in ("paper", "section", "text"):
                return "document"
            if key in ("repo", "repository", "coderag", "code"):
                return "reference"
            return "practice"
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "OpenQuestion":
        # A human editing the YAML may write only one of the two fields: make them agree.
        if self.status == "accepted" and not self.answer.strip() and self.proposed_answer.strip():
            self.answer = self.proposed_answer
        elif self.status == "open" and self.answer.strip():
            self.status = "answered"
        return self

    @property
    def settled(self) -> bool:
        return self.status != "open" and bool(self.answer.strip())

    def settled_text(self) -> str:
        """One line for the coder and the README: the question, its answer and its basis."""
        basis = {"document": "the document", "reference": "a reference repository", "practice": "common practice",
                 "addendum": "the addendum", "human": "the user"}[self.basis]
        if self.answered_by == "human":
            basis = "the user"
        elif self.answered_by == "addendum":
            basis = "the addendum"
        detail = f", {self.basis_detail}" if self.basis_detail and self.answered_by not in ("human",) else ""
        return f"{self.question.rstrip('?')}? {self.answer} (basis: {basis}{detail})"


def _key(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORDS.findall(text.lower()) if w not in _STOP and len(w) > 1)


def _similar(a: str, b: str) -> float:
    ka, kb = _key(a), _key(b)
    if not ka or not kb:
        return 0.0
    return len(ka & kb) / min(len(ka), len(kb))


def merge_questions(*groups: Iterable[QuestionDraft | OpenQuestion | Mapping[str, Any]]) -> list[OpenQuestion]:
    """One list from the planner's and the analysts' questions: near-duplicates (most
    content words shared) are merged, the first keeps its place, ids are q1, q2 ..."""
    out: list[OpenQuestion] = []
    for group in groups:
        for item in group:
            data = item.model_dump() if hasattr(item, "model_dump") else dict(item)
            data.pop("id", None) if not data.get("id") else None
            try:
                q = OpenQuestion.model_validate({k: v for k, v in data.items() if k in OpenQuestion.model_fields})
            except ValueError:
                continue
            if not q.question.strip():
                continue
            twin = next((o for o in out if _similar(o.question, q.question) >= 0.75), None)
            if twin is None:
                out.append(q)
                continue
            merged = dict.fromkeys([*twin.affects, *q.affects])
            idx = out.index(twin)
            out[idx] = twin.model_copy(update={
                "affects": list(merged),
                "proposed_answer": twin.proposed_answer or q.proposed_answer,
                "basis_detail": twin.basis_detail or q.basis_detail,
            })
    return number(out)


def number(questions: list[OpenQuestion]) -> list[OpenQuestion]:
    """Give every question without an id the next free ``qN``."""
    used = {q.id for q in questions if q.id}
    n = 0
    out = []
    for q in questions:
        if not q.id:
            n += 1
            while f"q{n}" in used:
                n += 1
            q = q.model_copy(update={"id": f"q{n}"})
            used.add(q.id)
        out.append(q)
    return out


def answer(questions: list[OpenQuestion], answers: Mapping[str, str], *, by: str = "human") -> list[OpenQuestion]:
    """``questions`` with ``answers`` (id -> text) applied; an empty text accepts the proposal."""
    out = []
    for q in questions:
        if q.id in answers:
            text = answers[q.id].strip()
            if text:
                q = q.model_copy(update={"status": "answered", "answer": text, "answered_by": by})
            elif q.proposed_answer.strip():
                q = q.model_copy(update={"status": "accepted", "answer": q.proposed_answer, "answered_by": by})
        out.append(q)
    return out


def accept_proposals(questions: list[OpenQuestion], *, by: str) -> tuple[list[OpenQuestion], list[str]]:
    """Every open question with a proposal accepted; the ids accepted."""
    ids = [q.id for q in questions if q.status == "open" and q.proposed_answer.strip()]
    return answer(questions, dict.fromkeys(ids, ""), by=by), ids


def answer_from_addendum(questions: list[OpenQuestion], addendum: str) -> tuple[list[OpenQuestion], list[str]]:
    """Open questions an addendum statement answers (the statement sharing most of the
    question's content words, and at least half of them), marked answered by it."""
    statements = [s.strip(" -*\t") for s in re.split(r"\n\s*\n|\n(?=\s*[-*] )|(?<=[.!?])\s+(?=[A-Z])", addendum)
                  if len(s.strip()) > 10]
    out, ids = [], []
    for q in questions:
        if q.status == "open" and statements:
            best = max(statements, key=lambda s: _similar(q.question, s))
            if _similar(q.question, best) >= 0.5:
                q = q.model_copy(update={"status": "answered", "answer": " ".join(best.split()),
                                         "answered_by": "addendum", "basis": "addendum"})
                ids.append(q.id)
        out.append(q)
    return out, ids


def affecting(questions: Iterable[OpenQuestion], path: str, names: Iterable[str] = ()) -> list[OpenQuestion]:
    """The settled questions that affect ``path`` (named by path, file name, or one of its
    component ``names``)."""
    keys = {path.lower(), path.rsplit("/", 1)[-1].lower(), *(n.lower() for n in names)}
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    keys.add(stem)
    return [q for q in questions if q.settled and any(a.strip().lower() in keys for a in q.affects)]


def decisions_text(questions: list[OpenQuestion]) -> str:
    """The block the coder reads in a file's spec."""
    if not questions:
        return ""
    return "Settled open questions (follow these; they were decided at the gate):\n" + "\n".join(
        f"- {q.settled_text()}" for q in questions)


def assumptions_markdown(questions: list[OpenQuestion]) -> str:
    """Every assumption with its basis, for the generated README (open ones listed as open)."""
    lines = []
    for q in questions:
        if q.settled:
            lines.append(f"- {q.settled_text()}")
        else:
            proposal = f" Proposed: {q.proposed_answer}." if q.proposed_answer else ""
            lines.append(f"- {q.question.rstrip('?')}? Left open at the gate.{proposal}")
    return "\n".join(lines)


def unanswered(questions: Iterable[OpenQuestion]) -> list[OpenQuestion]:
    return [q for q in questions if not q.settled]
