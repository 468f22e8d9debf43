"""What a run spent: ``<run>/llm/calls.jsonl``, running totals and budgets.

The ledger is rebuilt from ``calls.jsonl`` when a run resumes, so a budget
counts everything the run has ever spent, not only this process's share.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from pydantic import ValidationError

from deepcode_tui.errors import BudgetExceeded
from deepcode_tui.llm.types import CallRecord, RoleTotals, Totals


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Cost from litellm's bundled price map; 0 for models it does not price (local, custom)."""
    if model.split("/", 1)[0] in ("embedded", "scripted", "replay"):
        return 0.0
    from deepcode_tui.llm.backend import get_litellm

    try:
        prompt, completion = get_litellm().cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
        return float(prompt) + float(completion)
    except Exception:  # noqa: BLE001 - unmapped model: litellm raises; a local model costs nothing we can know
        return 0.0


class BudgetStatus:
    """Which budget is exhausted: ``kind`` is "cost" or "tokens"."""

    def __init__(self, kind: str, limit: float, used: float) -> None:
        self.kind = kind
        self.limit = limit
        self.used = used


def budget_error(status: BudgetStatus, run_id: str | None) -> BudgetExceeded:
    """The error that stops a run at its budget, saying how to resume it."""
    if status.kind == "cost":
        flag, higher = "--max-cost", f"{max(status.limit * 2, status.used * 1.5):.2f}"
        what = f"the cost budget is spent: ${status.used:.4f} of {flag} {status.limit:g}"
    else:
        flag, higher = "--max-tokens", str(int(max(status.limit * 2, status.used * 1.5)))
        what = f"the token budget is spent: {int(status.used)} of {flag} {int(status.limit)} tokens"
    fix = (
        f"resume with a higher budget: deepcode-tui resume {run_id} {flag} {higher}"
        if run_id
        else f"run again with a higher {flag} (e.g. {higher})"
    )
    return BudgetExceeded(what, fix)


class Ledger:
    """Append-only call records plus totals, optionally persisted under a run directory."""

    def __init__(self, run_dir: Path | None) -> None:
        self.path = Path(run_dir) / "llm" / "calls.jsonl" if run_dir is not None else None
        self._totals = Totals()
        self._count = 0
        self._lock = threading.Lock()
        self._fh = None
        if self.path is not None and self.path.exists():
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = CallRecord.model_validate_json(line)
                except (ValidationError, ValueError):
                    continue  # a line torn by a crash mid-write: that call is simply not counted
                self._add(record)

    @property
    def count(self) -> int:
        """Calls recorded so far (including those of earlier sessions of this run)."""
        return self._count

    def next_call_id(self) -> str:
        with self._lock:
            self._count += 1
            return f"c{self._count:05d}"

    def _add(self, record: CallRecord) -> None:
        role = self._totals.by_role.setdefault(record.role, RoleTotals())
        role.calls += 1
        if record.error:
            role.errors += 1
        if not record.billed:
            role.cached_calls += 1
        else:
            role.prompt_tokens += record.prompt_tokens
            role.completion_tokens += record.completion_tokens
            role.cost_usd += record.cost_usd
            self._totals.total_cost_usd += record.cost_usd
            self._totals.total_tokens += record.prompt_tokens + record.completion_tokens
        self._totals.calls += 1
        self._count = max(self._count, self._totals.calls)

    def record(self, record: CallRecord) -> None:
        """Add ``record`` to the totals and append it to calls.jsonl."""
        with self._lock:
            self._add(record)
            if self.path is None:
                return
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
            # One write of one whole line: a crash leaves at most a torn last line, which _load skips.
            self._fh.write(json.dumps(record.model_dump(mode="json"), separators=(",", ":")) + "\n")
            self._fh.flush()

    def totals(self) -> Totals:
        with self._lock:
            return self._totals.model_copy(deep=True)

    def by_role_floats(self) -> dict[str, dict[str, float]]:
        """Per-role totals in the shape of ``CostUpdated.by_role``."""
        with self._lock:
            return {
                role: {k: float(v) for k, v in totals.model_dump().items()}
                for role, totals in self._totals.by_role.items()
            }

    def exceeded(self, max_cost_usd: float | None, max_tokens: int | None) -> BudgetStatus | None:
        """The first budget already reached, if any."""
        t = self._totals
        if max_cost_usd is not None and t.total_cost_usd >= max_cost_usd:
            return BudgetStatus("cost", max_cost_usd, t.total_cost_usd)
        if max_tokens is not None and t.total_tokens >= max_tokens:
            return BudgetStatus("tokens", float(max_tokens), float(t.total_tokens))
        return None

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                try:
                    os.fsync(self._fh.fileno())  # durable at the end of a session, cheap per call
                except OSError:
                    pass
                self._fh.close()
                self._fh = None
