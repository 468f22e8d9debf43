"""Run a parse in a forked child with a hard timeout, so no input can hang the caller.

pdfium is C++: a pathological PDF can spin inside one call where no Python
check can stop it. A forked child starts in milliseconds (no re-import) and can
be killed. Where fork is unavailable the function runs in-process and relies on
its own cooperative deadline checks.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import sys
import time
from collections.abc import Callable
from typing import Any

from deepcode_tui.errors import InputError


class IsolatedTimeout(Exception):
    """The child did not finish in time and was killed."""


def _child(conn, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        result = ("ok", fn(*args, **kwargs))
    except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
        result = ("err", e)
    try:
        conn.send_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as e:  # noqa: BLE001 - an unpicklable result or exception: send its text instead
        conn.send_bytes(pickle.dumps(("err", RuntimeError(f"{type(e).__name__}: {e}"))))
    finally:
        conn.close()


def fork_available() -> bool:
    return (
        sys.platform != "win32"
        and "fork" in mp.get_all_start_methods()
        and os.environ.get("DEEPCODE_NO_FORK", "") not in ("1", "true")
    )


def run_isolated(fn: Callable[..., Any], *args: Any, timeout_s: float, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) in a forked child; raises IsolatedTimeout after timeout_s seconds.

    Exceptions raised by fn are re-raised here. Without fork, runs in-process.
    """
    if not fork_available():
        return fn(*args, **kwargs)
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), daemon=True)
    proc.start()
    send.close()
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise IsolatedTimeout()
            if recv.poll(min(left, 0.5)):
                try:
                    data = recv.recv_bytes()
                except EOFError:
                    proc.join(1)
                    raise InputError(
                        f"The document parser crashed (exit code {proc.exitcode})",
                        "the file is probably damaged; re-export it or try another engine",
                    ) from None
                status, value = pickle.loads(data)
                if status == "err":
                    raise value
                return value
            if not proc.is_alive() and not recv.poll(0):
                raise InputError(
                    f"The document parser crashed (exit code {proc.exitcode})",
                    "the file is probably damaged; re-export it or try another engine",
                )
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join(2)
