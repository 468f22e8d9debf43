"""Scripted model replies and an event recorder for the code generation tests."""

from __future__ import annotations

from collections.abc import Callable


class ScriptedCoder:
    """An async ``generate`` that answers from a script: path -> list of replies (or a callable)."""

    def __init__(self, replies: dict[str, list[str] | Callable[[list[dict]], str]]) -> None:
        self.replies = {k: (list(v) if isinstance(v, list) else v) for k, v in replies.items()}
        self.calls: list[tuple[str, list[dict]]] = []

    async def __call__(self, messages: list[dict], *, file_path: str, check=None) -> str:
        self.calls.append((file_path, messages))
        r = self.replies[file_path]
        if callable(r):
            return r(messages)
        return r.pop(0) if len(r) > 1 else r[0]

    def user_message(self, path: str, n: int = 0) -> str:
        msgs = [m for p, m in self.calls if p == path][n]
        return msgs[-1]["content"]

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.calls if p == path)


def fenced(path: str, code: str, lang: str = "python") -> str:
    return f"Here is the file.\n\n```{lang} path={path}\n{code.rstrip()}\n```\n"


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    async def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, type_: str) -> list:
        return [e for e in self.events if e.type == type_]
