"""The capable model behind the stubs for the example run (examples/ema-anomaly.md).

The same hand-written model the cassette was recorded from (tests/e2e/scripted_run.py:
the agents read the paper through their tools, the planner answers with the
blueprint, the coder's first detector.py carries two bugs, the repairer fixes one
per iteration), behind one responder that tells the roles apart by what each
request asks, as a single served model would see them. It also speaks the JSON
action protocol, for servers without native tool calling.
"""

from __future__ import annotations

import json
import re
from typing import Any

from deepcode_tui.llm.scripted import ScriptedReply, ScriptRequest

_PROTOCOL = "To call one, reply with exactly one JSON object and nothing else"


def ema_model(scenario: Any = None):
    """A responder (ScriptRequest -> ScriptedReply | str) for the whole example run."""
    from deepcode_tui.blueprint.simulate import SimulatedAgents, agent_of
    from deepcode_tui.ingest import load_document
    from tests.e2e.scripted_run import EMA, asked_file, coder_responder, repairer_responder

    scenario = scenario or EMA
    analysts = SimulatedAgents(load_document(scenario.example))
    planner_reply = scenario.blueprint.read_text()
    coder = coder_responder(scenario.files(), scenario.drafts)

    def respond(request: ScriptRequest) -> ScriptedReply | str:
        agent = agent_of(request)
        system = str(request.messages[0].get("content") or "") if request.messages else ""
        if agent == "planner":
            return planner_reply
        if agent:
            if _PROTOCOL in system:
                return _as_protocol(analysts, request)
            return analysts(request)
        if asked_file(request.messages):  # a first ask or its retry
            return coder(request)
        text = "\n".join(str(m.get("content") or "") for m in request.messages)
        if re.search(r'"iteration": \d+', text):
            return repairer_responder(request)
        return "A module of the EMA-Z reproduction."

    return respond


def _as_protocol(analysts: Any, request: ScriptRequest) -> str:
    """An agent turn in the JSON action protocol: ``{"tool": ..., "args": ...}`` or ``{"final": ...}``."""
    asking = request.model_copy(update={"params": {**request.params, "tools": "protocol"}})
    reply = analysts(asking)
    if isinstance(reply, ScriptedReply) and reply.tool_calls:
        call = reply.tool_calls[0]
        return json.dumps({"tool": call.name, "args": json.loads(call.arguments or "{}")})
    text = reply if isinstance(reply, str) else reply.text
    return json.dumps({"final": text})
