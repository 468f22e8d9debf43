"""Context budget of the blueprint agents on the corpus papers.

For every corpus paper: parse it, run the concept + algorithm agents and the
planner through the real gateway, and print, per model call, the tokens sent
(messages + tool schemas) against the whole paper's tokens. Target: no call
sends more than 40% of the paper.

The model replies are SCRIPTED (deepcode_tui.blueprint.simulate): a
deterministic stand-in that reads the outline, the method and experiment
sections and the detected items as a real agent would. The prompts, tools,
budgets and packing are the production ones; only the replies are canned.

    .venv/bin/python scripts/bench_blueprint.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET = 0.40


async def bench_paper(name: str, pdf: Path) -> tuple[float, int]:
    from deepcode_tui.blueprint.agents import BlueprintAgents
    from deepcode_tui.blueprint.budget import messages_tokens
    from deepcode_tui.blueprint.coverage import coverage_report
    from deepcode_tui.blueprint.simulate import SimulatedAgents, agent_of, tool_results
    from deepcode_tui.blueprint.yaml_io import dump_blueprint_yaml, validate_yaml
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.ingest.loader import load_document
    from deepcode_tui.llm import Gateway, register_script
    from deepcode_tui.llm.scripted import get_script, unregister_script

    index = load_document(pdf)
    paper = index.total_tokens
    model = register_script(f"bench-{name}", SimulatedAgents(index))
    events: list = []

    async def emit(ev) -> None:
        events.append(ev)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(models={"default": model}, runs_dir=Path(tmp))
        async with Gateway(settings, emit=emit) as gw:
            agents = BlueprintAgents(gw, index, emit=emit)
            analyses = await agents.analyse()
            blueprint = await agents.plan(analyses)
    elapsed = time.perf_counter() - started
    requests = get_script(model).requests
    unregister_script(model)

    print(f"\n== {name}: {index.title[:70]}")
    print(
        f"   paper: {paper} tokens, {len(index.all_sections())} sections; per-call cap "
        f"{agents.cap} tokens ({agents.cap / paper:.0%})"
    )
    print(f"   {'call':<28}{'tokens sent':>12}{'% of paper':>12}")
    worst = 0.0
    rounds: dict[str, int] = {}
    for req in requests:
        agent = agent_of(req) or "?"
        rounds[agent] = rounds.get(agent, 0) + 1
        label = f"{agent} #{rounds[agent]}" + (
            f" ({len(tool_results(req))} tool results)" if agent != "planner" else ""
        )
        sent = messages_tokens(req.messages, req.params.get("tools"))
        share = sent / paper
        worst = max(worst, share)
        flag = "  OVER TARGET" if share > TARGET else ""
        print(f"   {label:<28}{sent:>12}{share:>12.1%}{flag}")
    for agent, ids in analyses.reads.items():
        print(
            f"   {agent} agent read {len(ids)} section(s), {analyses.read_tokens.get(agent, 0)} tokens: "
            f"{', '.join(ids[:8])}{' ...' if len(ids) > 8 else ''}"
        )
    problems = validate_yaml(dump_blueprint_yaml(blueprint))
    report = coverage_report(index, blueprint)
    print(
        f"   blueprint: {len(blueprint.file_hierarchy)} files, {sum(p.severity == 'error' for p in problems)} errors; "
        f"{report.render().splitlines()[0]}"
    )
    print(
        f"   largest call: {worst:.1%} of the paper (target <= {TARGET:.0%}); {len(requests)} calls in {elapsed:.2f}s"
    )
    return worst, len(requests)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("DEEPCODE_CORPUS", ROOT.parent / "shared" / "corpus")),
    )
    args = parser.parse_args()
    papers = sorted(p for p in (args.corpus / "papers").glob("*/paper.pdf"))
    if not papers:
        print(f"no corpus papers under {args.corpus}/papers", file=sys.stderr)
        return 1
    print("Blueprint agents: tokens sent per model call vs the whole paper.")
    print(
        "Model replies are SCRIPTED (deterministic stand-in, deepcode_tui.blueprint.simulate); "
        "prompts, tools and budgets are the real ones."
    )
    results = {}
    for pdf in papers:
        results[pdf.parent.name] = await bench_paper(pdf.parent.name, pdf)
    print("\nSummary (largest single call, % of paper):")
    for name, (worst, calls) in results.items():
        print(f"   {name:<28}{worst:>8.1%}  {'ok' if worst <= TARGET else 'OVER'}  ({calls} calls)")
    return 0 if all(w <= TARGET for w, _ in results.values()) else 1


if __name__ == "__main__":
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    sys.exit(asyncio.run(main()))
