"""The `todo` command: add, list, done, rm."""

import argparse
import sys

from todo.storage import TaskError, TaskStore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo", description="A small to-do list manager.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add a task")
    add.add_argument("title")
    add.add_argument("--due", help="due date, YYYY-MM-DD")
    sub.add_parser("list", help="list open tasks by due date")
    for name in ("done", "rm"):
        p = sub.add_parser(name, help=f"{'mark done' if name == 'done' else 'delete'} task N")
        p.add_argument("number", type=int)
    return parser


def main(argv: list[str] | None = None, store: TaskStore | None = None) -> int:
    args = build_parser().parse_args(argv)
    store = store or TaskStore()
    try:
        if args.command == "add":
            task = store.add(args.title, args.due)
            print(f"added: {task.title}")
        elif args.command == "list":
            for number, task in store.open_tasks():
                print(f"{number}. {task.title}" + (f" (due {task.due})" if task.due else ""))
        elif args.command == "done":
            print(f"done: {store.mark_done(args.number).title}")
        elif args.command == "rm":
            print(f"removed: {store.remove(args.number).title}")
    except TaskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
