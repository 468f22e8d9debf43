"""Child process of the kill test: grades the small rubric with a slow scripted judge."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.grade.helpers import judge_settings, run_grade, small_repo, small_rubric, verdict


def main() -> None:
    work, name = Path(sys.argv[1]), sys.argv[2]

    def slow(request):
        time.sleep(0.4)
        return verdict(1)

    settings = judge_settings(slow, work, name=name)
    repo = work / "repo"
    if not repo.exists():
        small_repo(repo)
    run_grade(settings, repo, small_rubric(), work / "out", concurrency=1)


if __name__ == "__main__":
    main()
