"""Repairs that make no progress end in a blueprint amendment; once approved it is acted on.

The scripted repairer proposes nothing useful for patches and rewrites, then a
revised blueprint (it changes the detector's purpose, as a real repairer would
to unblock the work). The approved amendment becomes a new blueprint version,
the affected file is generated again through CodeMem, and verification starts
over and passes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from deepcode_tui.blueprint.versions import BlueprintVersions
from deepcode_tui.blueprint.yaml_io import dump_blueprint_yaml, load_blueprint_yaml
from deepcode_tui.codegen.memory import MemoryStore
from deepcode_tui.config.settings import Settings
from deepcode_tui.llm.scripted import register_script
from deepcode_tui.pipeline.driver import drive
from deepcode_tui.pipeline.gate import AutoApproveGate
from deepcode_tui.store.eventlog import read_log
from deepcode_tui.store.run import RunStore
from tests.e2e.scripted_run import EMA, first_draft, register_models
from tests.e2e.test_replay_run import _sandbox_or_skip

NEW_PURPOSE = "The EMA-Z detector; a point is flagged only after the warm-up (t > w), and math.sqrt is imported."


def _repairer(seen: list[str]):
    def respond(request) -> str:
        text = "\n".join(str(m.get("content") or "") for m in request.messages)
        mode = re.search(r'"mode": "(\w+)"', text).group(1)
        seen.append(mode)
        if mode != "amendment":
            return json.dumps({"edits": [], "rationale": "no idea"})
        current = re.search(r"Current approved blueprint:\n```yaml\n(.*?)\n```", text, re.S)
        assert current, "an amendment request must carry the approved blueprint"
        bp = load_blueprint_yaml(current.group(1))
        entry = bp.file("emaz/detector.py")
        entry.purpose = NEW_PURPOSE
        return json.dumps({"blueprint_amendment": dump_blueprint_yaml(bp, current.group(1)),
                           "rationale": "the plan did not say when the warm-up ends"})

    return respond


def _coder(asked: list[str]):
    files = EMA.files()

    def respond(request) -> str:
        path = re.search(r"Write `([^`]+)`", str(request.messages[-1]["content"])).group(1)
        asked.append(path)
        # The first detector is the buggy draft; written again from the amended plan, it is right.
        code = first_draft(path, files[path]) if asked.count(path) == 1 else files[path]
        return f"```python\n{code}```\n"

    return respond


async def test_an_approved_amendment_regenerates_the_affected_file_and_verifies_again(tmp_path: Path) -> None:
    _sandbox_or_skip()
    modes: list[str] = []
    asked: list[str] = []
    models = register_models(EMA)
    models["repairer"] = register_script("amend-repairer", _repairer(modes))
    models["coder"] = register_script("amend-coder", _coder(asked))
    settings = Settings(runs_dir=tmp_path / "runs", models=models)
    store = RunStore.create(tmp_path / "runs", EMA.example)
    services = {"llm_flags": {"cache_dir": tmp_path / "cache"}, "watch_repo": False}
    outcome = await drive(store, settings, AutoApproveGate(), services=services, new_run=True)
    store.close()
    assert outcome.status == "passed", outcome.message
    assert modes == ["patch", "rewrite", "amendment"]
    # Only the file the amendment changed was written a second time.
    assert asked.count("emaz/detector.py") == 2 and all(asked.count(p) == 1 for p in set(asked) - {"emaz/detector.py"})
    versions = BlueprintVersions(store.root)
    assert versions.load("approved").file("emaz/detector.py").purpose == NEW_PURPOSE
    plan = json.loads((store.root / "blueprint" / "plan.json").read_text())
    assert NEW_PURPOSE in json.dumps(plan)
    verdict = json.loads((store.root / "verdict.json").read_text())
    assert verdict["passed"] and verdict["amended"] and "blueprint amended" in verdict["message"]
    saved = [e.version for e in read_log(store.root / "events.jsonl").events if e.type == "blueprint_saved"]
    # v2 is the plan with its open questions accepted by --yes; the amendment is v3.
    assert saved[-1] == verdict["amended"][0] == "v3"
    assert (store.repo_dir / "emaz" / "detector.py").read_text() == EMA.files()["emaz/detector.py"]
    entry = MemoryStore(store.root).get("emaz/detector.py")
    assert entry is not None and "import math" in (store.repo_dir / "emaz" / "detector.py").read_text()


async def test_an_invalid_amendment_is_saved_for_review_and_changes_nothing(tmp_path: Path) -> None:
    _sandbox_or_skip()
    models = register_models(EMA)

    def respond(request) -> str:
        text = "\n".join(str(m.get("content") or "") for m in request.messages)
        if '"mode": "amendment"' in text:
            return json.dumps({"blueprint_amendment": "file_hierarchy: [unclosed", "rationale": "?"})
        return json.dumps({"edits": [], "rationale": "no idea"})

    models["repairer"] = register_script("amend-bad-repairer", respond)
    settings = Settings(runs_dir=tmp_path / "runs", models=models)
    store = RunStore.create(tmp_path / "runs", EMA.example)
    services = {"llm_flags": {"cache_dir": tmp_path / "cache"}, "watch_repo": False}
    outcome = await drive(store, settings, AutoApproveGate(), services=services, new_run=True)
    store.close()
    assert outcome.status == "failed"
    verdict = json.loads((store.root / "verdict.json").read_text())
    assert "not a valid blueprint" in verdict["message"] and "proposed-amendment.yaml" in verdict["message"]
    assert verdict["amended"] == []
    assert (store.root / "blueprint" / "proposed-amendment.yaml").read_text() == "file_hierarchy: [unclosed"
    assert BlueprintVersions(store.root).list() == ["v1", "v2"]  # v2: open questions accepted by --yes
