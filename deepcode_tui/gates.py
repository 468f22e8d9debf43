"""What a gate asks and what the human decides: the shapes every phase and UI share.

A phase package never imports the pipeline: the pipeline passes it a way to
ask (``RunContext.ask``), and the request and decision types live here, below
both, so the blueprint phase, the verify phase and the app agree on them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class GateRequest(BaseModel):
    gate: str  # e.g. "blueprint", "patch", "amendment"
    prompt: str
    artifact: str = ""  # path of what is being approved
    # Open questions the human may settle at this gate (OpenQuestion dumps: id, question,
    # proposed_answer, basis, confidence, status, answer).
    questions: list[dict[str, Any]] = Field(default_factory=list)


class GateDecision(BaseModel):
    decision: Literal["approve", "edit", "reject"]
    feedback: str = ""
    edited_text: str | None = None  # for "edit": the human's version of the artifact
    # Open question id -> answer; an empty answer accepts the question's proposal.
    answers: dict[str, str] = Field(default_factory=dict)
    # Accept the proposal of every question still open (what --yes does, and says).
    accept_proposals: bool = False
    # Given by --yes, not by a person who read the artifact (advice to "edit the plan"
    # is for someone who looked at it).
    automatic: bool = False
