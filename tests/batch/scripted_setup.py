"""Worker setup for the batch tests: register the hand-written replies of the todo-service
run (six files, one verify iteration: the cheapest whole run) in each Ray worker.

The model strings ``register_models`` returns are deterministic ("scripted/e2e-coder" ...),
so the driver can name them in the settings before any worker registered them.
"""

from __future__ import annotations


def setup() -> None:
    from tests.e2e.scripted_run import TODO, register_models

    register_models(TODO)


MODELS = {
    "analyst": "scripted/e2e-analyst",
    "planner": "scripted/e2e-planner",
    "coder": "scripted/e2e-coder",
    "repairer": "scripted/e2e-repairer",
    "summarizer": "scripted/e2e-summarizer",
}
