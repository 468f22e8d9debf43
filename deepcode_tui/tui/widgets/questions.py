"""The Questions view of the Blueprint pane: open questions settled at the gate.

Lists the blueprint's open questions (what the document leaves unspecified)
with their proposals, basis and confidence. On a highlighted question the
human types an answer (Enter in the answer box), accepts the proposal
(``p``) or leaves it open (``o``); Enter on a row moves to the answer box. The choices are kept here until the gate
is answered: the pane sends them with the approval, and the pipeline saves
them as the next blueprint version (see ``blueprint/phase.py``).
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from deepcode_tui.tui.widgets.tables import fill_table


class QuestionsView(Vertical):
    """The open questions and the answers chosen for them (not yet sent)."""

    BINDINGS = [
        Binding("p", "accept", "Accept proposal", id="questions.accept"),
        Binding("o", "leave_open", "Leave open", id="questions.leave_open"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.questions: list[dict[str, Any]] = []
        self.answers: dict[str, str] = {}  # id -> answer; "" accepts the proposal

    def compose(self) -> ComposeResult:
        yield Static("No open questions.", id="q-summary", markup=False)
        table: DataTable = DataTable(id="q-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("id", "status", "question", "proposal / answer", "basis", "conf.")
        yield table
        yield Input(placeholder="Type an answer for the highlighted question, then Enter", id="q-answer")

    def set_questions(self, questions: list[dict[str, Any]]) -> None:
        """Show ``questions`` (OpenQuestion dumps); choices for ids no longer present are dropped."""
        self.questions = list(questions)
        ids = {q.get("id") for q in self.questions}
        self.answers = {k: v for k, v in self.answers.items() if k in ids}
        self._refill()

    def _status(self, q: dict[str, Any]) -> tuple[str, str]:
        qid = q.get("id", "")
        if qid in self.answers:
            text = self.answers[qid]
            return ("your answer", text) if text else ("accept", q.get("proposed_answer", ""))
        if q.get("status", "open") != "open":
            return q.get("status", ""), q.get("answer", "")
        return "open", q.get("proposed_answer", "") or "-"

    def _refill(self) -> None:
        table = self.query_one("#q-table", DataTable)
        row = table.cursor_row
        rows = []
        for q in self.questions:
            status, shown = self._status(q)
            rows.append((q.get("id", ""), status, q.get("question", ""), shown, q.get("basis", ""),
                         f"{float(q.get('confidence', 0.5)):.1f}"))  # fmt: skip
        fill_table(table, rows, keys=[q.get("id", "") for q in self.questions])
        if self.questions:
            table.move_cursor(row=min(max(row, 0), len(self.questions) - 1))
        still_open = sum(1 for q in self.questions if self._status(q)[0] == "open")
        summary = (f"{len(self.questions)} open question(s), {still_open} unanswered. "
                   "Enter answer · p accept the proposal · o leave open. Your choices are sent when you approve."
                   if self.questions else "No open questions.")
        self.query_one("#q-summary", Static).update(summary)

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one("#q-table", DataTable)
        if not self.questions or table.cursor_row < 0:
            return None
        return self.questions[min(table.cursor_row, len(self.questions) - 1)]

    def action_accept(self) -> None:
        q = self._current()
        if q is None:
            return
        if not q.get("proposed_answer"):
            self.app.notify(f"{q['id']} has no proposal: type an answer instead.", severity="warning")
            return
        self.answers[q["id"]] = ""
        self._refill()

    def accept_all(self) -> int:
        """Accept the proposal of every question still open here; how many."""
        n = 0
        for q in self.questions:
            if q.get("status", "open") == "open" and q.get("proposed_answer") and q["id"] not in self.answers:
                self.answers[q["id"]] = ""
                n += 1
        self._refill()
        return n

    def action_leave_open(self) -> None:
        q = self._current()
        if q is not None:
            self.answers.pop(q["id"], None)
            self._refill()

    @on(DataTable.RowSelected, "#q-table")
    def action_answer(self) -> None:
        self.query_one("#q-answer", Input).focus()

    def answer_current(self, text: str) -> bool:
        """Record ``text`` as the answer to the highlighted question."""
        q = self._current()
        if q is None or not text.strip():
            return False
        self.answers[q["id"]] = text.strip()
        self._refill()
        return True

    @on(Input.Submitted, "#q-answer")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.answer_current(event.value):
            event.input.value = ""
            self.query_one("#q-table", DataTable).focus()
