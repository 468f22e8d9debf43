"""Grading a repository against a PaperBench rubric (``deepcode-tui grade``).

rubric (the tree, Code-Dev pruning) -> files (eligible, ranked, budgeted) ->
prompts -> judge (one leaf, bounded repairs) -> store (resumable) -> rollup
(PaperBench's weighted mean) -> grade.json + summary. A phase-level package:
it takes the gateway as an argument and imports nothing from pipeline/ or tui/.
"""
