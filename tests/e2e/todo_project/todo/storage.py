"""Task storage: a JSON file in the user's home directory (or $TODO_FILE)."""

import json
import os
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path


class TaskError(Exception):
    """A request the store cannot satisfy (unknown task number, bad date)."""


@dataclass
class Task:
    title: str
    due: str | None = None
    done: bool = False


def default_path() -> Path:
    return Path(os.environ.get("TODO_FILE") or Path.home() / ".todo.json")


def parse_due(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise TaskError(f"invalid date {text!r}: use YYYY-MM-DD") from None


class TaskStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_path()

    def load(self) -> list[Task]:
        if not self.path.exists():
            return []
        return [Task(**item) for item in json.loads(self.path.read_text(encoding="utf-8"))]

    def save(self, tasks: list[Task]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(t) for t in tasks], indent=2), encoding="utf-8")
        os.replace(tmp, self.path)

    def add(self, title: str, due: str | None = None) -> Task:
        task = Task(title=title, due=parse_due(due))
        tasks = self.load()
        tasks.append(task)
        self.save(tasks)
        return task

    def open_tasks(self) -> list[tuple[int, Task]]:
        """Open tasks with their 1-based numbers, by due date (undated last)."""
        numbered = [(i, t) for i, t in enumerate(self.load(), start=1) if not t.done]
        return sorted(numbered, key=lambda pair: (pair[1].due is None, pair[1].due or "", pair[0]))

    def _check(self, tasks: list[Task], number: int) -> None:
        if not 1 <= number <= len(tasks):
            raise TaskError(f"no task number {number}")

    def mark_done(self, number: int) -> Task:
        tasks = self.load()
        self._check(tasks, number)
        tasks[number - 1].done = True
        self.save(tasks)
        return tasks[number - 1]

    def remove(self, number: int) -> Task:
        tasks = self.load()
        self._check(tasks, number)
        task = tasks.pop(number - 1)
        self.save(tasks)
        return task
