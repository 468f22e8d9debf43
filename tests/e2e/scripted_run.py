"""The hand-written model of the end-to-end run, shared by the cassette
recorder (scripts/make_cassette.py) and the kill-and-resume tests.

The replies are hand-written, not from a real model: the Concept and
Algorithm agents are played by `blueprint.simulate` (it reads the paper
through the same tools a real agent uses), the planner answers with
ema_blueprint.json, the coder with the files of ema_project/ (its first
`emaz/detector.py` has two bugs: a missing `import math` and an off-by-one
in the warm-up), and the repairer fixes one bug per iteration.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLE = ROOT / "examples" / "ema-anomaly.md"
PROJECT = HERE / "ema_project"
BLUEPRINT = HERE / "ema_blueprint.json"
CASSETTE = ROOT / "tests" / "cassettes" / "ema-anomaly"


class Scenario:
    """One example document with the hand-written replies of its run."""

    def __init__(self, name: str, example: str, project: str, blueprint: str, drafts: bool) -> None:
        self.name = name
        self.example = ROOT / "examples" / example
        self.project = HERE / project
        self.blueprint = HERE / blueprint
        self.cassette = ROOT / "tests" / "cassettes" / name
        self.drafts = drafts  # the coder's first drafts carry bugs the repairer fixes

    def files(self) -> dict[str, str]:
        """Every file of the finished repository: the code and the submission files
        (README.md, reproduce.sh, requirements.txt) every plan ends with."""
        return {
            p.relative_to(self.project).as_posix(): p.read_text()
            for p in sorted(self.project.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }


EMA = Scenario("ema-anomaly", "ema-anomaly.md", "ema_project", "ema_blueprint.json", drafts=True)
# The software-requirement road: intent analysis -> the same Blueprint; no bugs, one iteration.
TODO = Scenario("todo-service", "todo-service.txt", "todo_project", "todo_blueprint.json", drafts=False)
SCENARIOS = {s.name: s for s in (EMA, TODO)}

IMPORT_FIX = (
    '"""The EMA-Z detector (Section 2, Algorithm 1)."""\n\n\nclass EMAZDetector:',
    '"""The EMA-Z detector (Section 2, Algorithm 1)."""\n\nimport math\n\n\nclass EMAZDetector:',
)
WARMUP_FIX = ("flag = self.t >= self.warmup and z > self.tau", "flag = self.t > self.warmup and z > self.tau")


FENCE = {".py": "python", ".md": "markdown", ".sh": "bash", ".txt": "text"}


GENERATED_BY_RUNNING = ("results", "__pycache__", ".pytest_cache", ".venv", "reproduce.log")


def repo_files(repo: Path) -> dict[str, str]:
    """The repository's files as written by the run (not what running it produced: results,
    reproduce.log, and the README's verification results section the report phase adds)."""
    from deepcode_tui.pipeline.submission_results import BEGIN

    out = {}
    for p in sorted(repo.rglob("*")):
        if p.is_file() and not set(p.relative_to(repo).parts) & set(GENERATED_BY_RUNNING):
            text = p.read_text()
            if p.name == "README.md" and BEGIN in text:
                text = text.split("\n\n" + BEGIN, 1)[0] + "\n"
            out[p.relative_to(repo).as_posix()] = text
    return out


def project_files() -> dict[str, str]:
    """The repository a correct run of the EMA-Z example ends with."""
    return EMA.files()


def first_draft(path: str, good: str) -> str:
    """The coder's reply for ``path``: detector.py carries the two bugs."""
    if path != "emaz/detector.py":
        return good
    draft = good.replace(IMPORT_FIX[1], IMPORT_FIX[0]).replace(WARMUP_FIX[1], WARMUP_FIX[0])
    assert draft != good and draft.replace(IMPORT_FIX[0], IMPORT_FIX[1]).replace(*WARMUP_FIX) == good
    return draft


def _slow() -> None:
    # The kill-and-resume tests need time to strike mid-phase.
    delay = float(os.environ.get("DEEPCODE_TEST_REPLY_DELAY", "0"))
    if delay:
        time.sleep(delay)


# The coder's ask names the file twice: at the head of its spec and in the reply format at
# the very end (what survives when the gateway cut the middle of a too-long prompt).
_ASK = re.compile(r"Write `([^`]+)`|in one block: ```\w*\s?path=(\S+)")


def asked_file(messages) -> str | None:
    """The file a coder request asks for: named in its last user turn that names one (a
    retry ends with the correction, after the first ask and the rejected reply)."""
    for m in reversed(messages):
        if m.get("role") == "user" and (match := _ASK.search(str(m.get("content") or ""))):
            return match.group(1) or match.group(2)
    return None


def coder_responder(files: dict[str, str], drafts: bool = True):
    def respond(request) -> str:
        _slow()
        path = asked_file(request.messages)
        if path not in files:
            raise AssertionError(f"unexpected coder request: {str(request.messages[-1]['content'])[-300:]}")
        code = first_draft(path, files[path]) if drafts else files[path]
        return f"```{FENCE.get(Path(path).suffix, 'text')}\n{code}```\n"

    return respond


def repairer_responder(request) -> str:
    _slow()
    text = "\n".join(str(m.get("content") or "") for m in request.messages)
    iteration = int(re.search(r'"iteration": (\d+)', text).group(1))
    if iteration == 1:
        edit, why = IMPORT_FIX, "math is used for sqrt but never imported (F821)"
    elif iteration == 2:
        edit, why = WARMUP_FIX, "points at t == w are still in the warm-up: flag only when t > w"
    else:
        return json.dumps({"edits": [], "rationale": "nothing more to fix"})
    return json.dumps(
        {"edits": [{"path": "emaz/detector.py", "search": edit[0], "replace": edit[1]}], "rationale": why}
    )


def register_models(scenario: Scenario = EMA) -> dict[str, str]:
    """Register the scripted roles; returns the role -> model mapping for Settings.models."""
    from deepcode_tui.blueprint.simulate import SimulatedAgents, agent_of
    from deepcode_tui.ingest import load_document
    from deepcode_tui.llm.scripted import register_script

    analysts = SimulatedAgents(load_document(scenario.example))
    planner_reply = scenario.blueprint.read_text()

    def planner(request):
        return planner_reply if agent_of(request) == "planner" else analysts(request)

    return {
        "analyst": register_script("e2e-analyst", analysts),
        "planner": register_script("e2e-planner", planner),
        "coder": register_script("e2e-coder", coder_responder(scenario.files(), scenario.drafts)),
        "repairer": register_script("e2e-repairer", repairer_responder),
        "summarizer": register_script("e2e-summarizer", lambda r: "A module of the EMA-Z reproduction."),
    }
