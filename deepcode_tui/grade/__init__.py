"""Grading a repository against a PaperBench rubric (``deepcode-tui grade``).

rubric (the tree, Code-Dev pruning) -> files (eligible, ranked, budgeted) ->
prompts -> judge (one leaf, bounded repairs) -> store (resumable) -> rollup
(PaperBench's weighted mean) -> grade.json + summary. A phase-level package:
it takes the gateway as an argument and imports nothing from pipeline/ or tui/.
"""


def grade_run(run_dir, rubric, *, code_only: bool = False):
    """Grade a finished run (see :mod:`deepcode_tui.grade.api`); imported lazily."""
    from deepcode_tui.grade.api import grade_run as _grade_run

    return _grade_run(run_dir, rubric, code_only=code_only)
