"""Removes a process's podman containers when that process goes away, however it goes.

``podman run --rm`` removes a container when its command ends, but if the
process that started it is killed (SIGKILL, OOM, a closed terminal) nothing
stops the container before podman's own ``--timeout``. So each process that
runs containers starts one reaper (this file, run as a script with the
standard library only: it starts in milliseconds and imports nothing of
ours). The owner writes ``+NAME`` before a container starts and ``-NAME``
after it is gone, on the reaper's stdin. When stdin reaches end of file (the
owner exited or was killed: the kernel closes the pipe either way), the
reaper runs ``podman rm -f`` on every name still registered and exits.

On start it also removes containers labelled by owners that no longer exist
(a reaper that was itself killed), so leftovers never outlive the next run.
"""

from __future__ import annotations

import os
import subprocess
import sys

LABEL = "deepcode-tui.owner"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rm(podman: str, names: list[str]) -> None:
    if names:
        try:
            subprocess.run([podman, "rm", "-f", "-t", "0", *names], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        except (OSError, subprocess.SubprocessError):
            pass


def _orphans(podman: str) -> list[str]:
    try:
        out = subprocess.run(
            [podman, "ps", "-a", "--filter", f"label={LABEL}", "--format", f'{{{{.Names}}}} {{{{index .Labels "{LABEL}"}}}}'],
            capture_output=True, text=True, timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    names = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and not _alive(int(parts[1])):
            names.append(parts[0])
    return names


def main(argv: list[str]) -> int:
    podman = argv[1] if len(argv) > 1 else "podman"
    _rm(podman, _orphans(podman))
    live: set[str] = set()
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("+"):
            live.add(line[1:])
        elif line.startswith("-"):
            live.discard(line[1:])
    _rm(podman, sorted(live))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
