"""A deterministic stand-in for the model behind the blueprint agents.

For offline benchmarks, demos and tests only; a real run never uses it. It
plays each agent the way a capable model would use the tools: the concept
agent reads the outline, then the method and experiment sections; the
algorithm agent lists the detected equations, hyperparameters and
algorithms, then reads the method section; the planner turns the analyses
it is given into a small blueprint. Its answers are built only from what
the tools returned in the conversation, so the token figures it produces
are those of a real agent following the same reading plan.

    responder = SimulatedAgents(index)
    model = register_script("paper", responder)   # scripted/paper
"""

from __future__ import annotations

import json
import re
from typing import Any

from deepcode_tui.llm.scripted import ScriptedReply, ScriptRequest
from deepcode_tui.llm.types import ToolCall

_METHOD = re.compile(r"method|model|approach|architecture|algorithm|framework|system", re.IGNORECASE)
_EXPERIMENT = re.compile(r"experiment|training|evaluation|results|setup|implementation", re.IGNORECASE)


def agent_of(request: ScriptRequest) -> str:
    """Which agent sent ``request``: concept, algorithm, intent, planner (or "" when unknown)."""
    system = str(request.messages[0].get("content") or "") if request.messages else ""
    for needle, agent in (
        ("concept analyst", "concept"),
        ("algorithm specialist", "algorithm"),
        ("requirements analyst", "intent"),
        ("planning lead", "planner"),
    ):
        if needle in system:
            return agent
    return ""


def tool_results(request: ScriptRequest) -> list[str]:
    """The tool results in ``request``: tool messages, or "Result of ..." turns of a flattened conversation."""
    out = []
    for m in request.messages:
        content = str(m.get("content") or "")
        if m.get("role") == "tool":
            out.append(content)
        elif m.get("role") == "user" and content.startswith("Result of "):
            out.extend(
                part.split("\n", 1)[1] for part in re.split(r"\n\n(?=Result of )", content) if "\n" in part
            )
    return out


def _call(name: str, args: dict[str, Any], n: int) -> ScriptedReply:
    return ScriptedReply(tool_calls=[ToolCall(id=f"call_{n}", name=name, arguments=json.dumps(args))])


class SimulatedAgents:
    """A responder for ``register_script``: plays the agents over one index."""

    def __init__(self, index: Any) -> None:
        self.index = index
        tops = [s for s in index.all_sections() if s.number and s.level == 1]
        self.method = [s.heading for s in tops if _METHOD.search(s.title)][:2] or [
            s.heading for s in tops[1:2]
        ]
        self.experiments = [s.heading for s in tops if _EXPERIMENT.search(s.title)][:1]

    def plan_reads(self, agent: str) -> list[tuple[str, dict[str, Any]]]:
        if agent == "concept":
            reads = [("outline", {})] + [
                ("read_section", {"name": h}) for h in self.method + self.experiments
            ]
            return reads + [
                ("search", {"query": "results improvement accuracy baseline", "budget_tokens": 400})
            ]
        if agent == "algorithm":
            lists = [("list_items", {"kind": k}) for k in ("equations", "hyperparameters", "algorithms")]
            return lists + [("read_section", {"name": h}) for h in self.method[:1]]
        if agent == "intent":
            return [("outline", {})] + [
                ("read_section", {"name": s.heading}) for s in self.index.sections[:4]
            ]
        return []

    def __call__(self, request: ScriptRequest) -> ScriptedReply | str:
        agent = agent_of(request)
        if agent == "planner":
            return self.planner(request)
        results = tool_results(request)
        plan = self.plan_reads(agent)
        exhausted = any("budget used up" in r for r in results)
        if "tools" in request.params and len(results) < len(plan) and not exhausted:
            name, args = plan[len(results)]
            return _call(name, args, len(results))
        if agent == "concept":
            return json.dumps(self.concept(results))
        if agent == "algorithm":
            return json.dumps(self.algorithm(results))
        if agent == "intent":
            return json.dumps(
                {
                    "goal": "Build the system the document describes.",
                    "features": [{"name": s.title} for s in self.index.sections[:5]],
                }
            )
        return "{}"

    # -- answers built from what was read -----------------------------------------------

    def concept(self, results: list[str]) -> dict[str, Any]:
        structure, components, claims = [], [], []
        for text in results:
            for line in text.splitlines():
                m = re.match(r"^\s*((?:\d+\.)*\d+ [^\[]+?) \[", line)
                if m and line == line.lstrip():
                    structure.append({"section": m.group(1), "role": "body"})
            head = text.splitlines()[0] if text else ""
            if head in self.method + self.experiments:
                components.append(
                    {"name": head, "description": text[len(head) : 200].strip(), "paper_sections": [head]}
                )
            for sent in re.split(r"(?<=[.!?])\s+", text):
                if re.search(r"\d+(?:\.\d+)?\s*(?:%|BLEU|F1|accuracy)", sent) and len(claims) < 5:
                    claims.append({"claim": sent.strip()[:200], "code_requirement": "measure this number"})
        roadmap = [{"step": c["name"], "success_criteria": ["unit tests pass"]} for c in components]
        return {
            "structure_map": structure[:30],
            "components": components,
            "claims": claims,
            "roadmap": roadmap,
        }

    def algorithm(self, results: list[str]) -> dict[str, Any]:
        equations, hypers, algorithms = [], [], []
        for text in results:
            for line in text.splitlines():
                eq = re.match(r"^(\(\d+\)|eq-\d+) \[([^\]]*)\]: (.+)$", line)
                hp = re.match(r"^(.+?) = (.+?) \[([^\]]*)\]$", line)
                if eq:
                    equations.append({"label": eq.group(1), "section": eq.group(2), "text": eq.group(3)})
                elif hp:
                    hypers.append({"name": hp.group(1), "value": hp.group(2), "section": hp.group(3)})
            m = re.match(r"^(Algorithm[^\[]*) \[([^\]]*)\]:\n", text)
            if m:
                algorithms.append(
                    {"name": m.group(1).strip(), "section": m.group(2), "verbatim": text[m.end() :]}
                )
        return {
            "algorithms": algorithms,
            "equations": equations,
            "hyperparameters": hypers,
            "architectures": [{"name": h, "layers": []} for h in self.method[:1]],
        }

    def planner(self, request: ScriptRequest) -> str:
        user = "\n".join(str(m.get("content") or "") for m in request.messages[1:] if m.get("role") == "user")
        current = re.search(r"^Blueprint:\n(\{.*\})$", user, re.MULTILINE)
        if current:  # a fix request: drop dependencies the checks complained about
            data = json.loads(current.group(1))
            known = {f["path"] for f in data.get("file_hierarchy", [])}
            for i, f in enumerate(data.get("file_hierarchy", [])):
                earlier = {g["path"] for g in data["file_hierarchy"][:i]}
                f["dependencies"] = [d for d in f.get("dependencies", []) if d in known and d in earlier]
            return json.dumps(data)
        algo = _json_after(user, "Algorithm specification:")
        hypers = [
            {"name": h.get("name", ""), "value": h.get("value", ""), "source": h.get("section", "")}
            for h in algo.get("hyperparameters", [])
            if h.get("name") and h.get("value")
        ]
        equations = [
            f"Eq. {e.get('label', '')}: {e.get('text', '')}".strip() for e in algo.get("equations", [])
        ]
        pseudo = "\n\n".join(
            f"{a.get('name', '')}:\n{a.get('verbatim', '')}" for a in algo.get("algorithms", [])
        )
        files = [
            {"path": "src/config.py", "purpose": "every hyperparameter of the paper", "stage": 1},
            {"path": "src/model.py", "purpose": "the method", "dependencies": ["src/config.py"], "stage": 1},
            {
                "path": "src/train.py",
                "purpose": "training and evaluation loop",
                "dependencies": ["src/model.py", "src/config.py"],
                "stage": 2,
            },
            {
                "path": "tests/test_model.py",
                "purpose": "smoke tests",
                "dependencies": ["src/model.py"],
                "stage": 2,
                "kind": "test",
            },
            {"path": "requirements.txt", "purpose": "packages", "stage": 1, "kind": "config"},
        ]
        components = [
            {"file": "src/config.py", "classes": [{"name": "Config"}], "hyperparameters": hypers},
            {
                "file": "src/model.py",
                "classes": [
                    {"name": "Model", "methods": [{"name": "forward", "signature": "def forward(self, x)"}]}
                ],
                "equations": equations,
            },
            {
                "file": "src/train.py",
                "functions": [{"name": "train", "signature": "def train(cfg: Config) -> dict"}],
                "pseudocode": pseudo,
            },
            {
                "file": "tests/test_model.py",
                "functions": [{"name": "test_forward", "signature": "def test_forward()"}],
            },
        ]
        return json.dumps(
            {
                "title": getattr(self.index, "title", ""),
                "summary": "Simulated plan built from the analyses.",
                "file_hierarchy": files,
                "components": components,
                "verification": {"commands": ["python -m pytest -q"], "success_criteria": ["tests pass"]},
                "environment": {"python": "3.11", "packages": ["numpy>=1.26"]},
                "stages": [
                    {"name": "core", "files": ["src/config.py", "src/model.py", "requirements.txt"]},
                    {"name": "training", "files": ["src/train.py", "tests/test_model.py"]},
                ],
            }
        )


def _json_after(text: str, marker: str) -> dict[str, Any]:
    at = text.find(marker)
    if at < 0:
        return {}
    rest = text[at + len(marker) :].lstrip()
    try:
        value, _ = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
