"""Findings code generation hands to the verification phase.

Same fields as ``deepcode_tui.verify.findings.Finding`` (defined by the
verification phase); the lead may alias one to the other.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning", "info"]


class Finding(BaseModel):
    """One problem in one file: what kind, where, and a message a person can act on."""

    model_config = ConfigDict(extra="forbid")

    file: str
    line: int | None = None
    kind: str
    message: str
    stage: str = "static"
    severity: Severity = "error"
