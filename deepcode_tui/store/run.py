"""One directory per run, holding everything needed to inspect or resume it.

    <runs_dir>/<run-id>/
      run.json        RunManifest: inputs, config snapshot (secrets redacted)
      run.lock        held (flock) by the process driving the run
      events.jsonl    the append-only event log (the checkpoints live here)
      document/ blueprint/ memory/ llm/ iterations/ rag/ repo/

A phase counts as done once its ``PhaseCompleted`` event is in the log; its
artifacts are written (atomically) before that event, so resume never sees a
completed phase with missing artifacts.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from deepcode_tui import __version__
from deepcode_tui.errors import RunStoreError
from deepcode_tui.events.models import Event
from deepcode_tui.store.atomic import write_json_atomic
from deepcode_tui.store.eventlog import EventLog, LogReadResult, read_log

# Run directories hold the paper, prompts, model replies and generated code:
# private to their owner (and the sandbox's writes land inside them).
PRIVATE_DIR = 0o700
SUBDIRS = ("document", "blueprint", "memory", "llm", "iterations", "rag")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class RunManifest(BaseModel):
    run_id: str
    created_at: datetime
    input_path: str
    input_sha256: str = ""
    input_format: str = ""
    repo_dir: str
    command: str = "run"
    deepcode_version: str = __version__
    config: dict[str, Any] = Field(default_factory=dict)  # redacted snapshot
    # The model-call flags the run was started with (replay / record cassette, no_cache):
    # a resume restores them with the models, so a replayed run does not continue on another model.
    llm_flags: dict[str, Any] = Field(default_factory=dict)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:32] or "doc"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _flag(value: Any) -> Any:
    return str(Path(value).expanduser().absolute()) if isinstance(value, Path) else value


class RunStore:
    """A run directory opened by one process (it holds the run's lock)."""

    def __init__(self, root: Path, manifest: RunManifest, lock_fd: int) -> None:
        self.root = root
        self.manifest = manifest
        self._lock_fd = lock_fd
        self.log = EventLog(root / "events.jsonl")

    # -- creation and opening -------------------------------------------------

    @classmethod
    def create(
        cls,
        runs_dir: Path,
        input_path: Path,
        *,
        repo_dir: Path | None = None,
        command: str = "run",
        config: dict[str, Any] | None = None,
        input_format: str = "",
        llm_flags: dict[str, Any] | None = None,
    ) -> RunStore:
        runs_dir = Path(runs_dir).expanduser()
        try:
            if not runs_dir.is_dir():
                runs_dir.mkdir(parents=True, mode=PRIVATE_DIR, exist_ok=True)
                os.chmod(runs_dir, PRIVATE_DIR)
        except OSError as exc:
            raise RunStoreError(
                f"cannot create the runs directory {runs_dir}: {exc.strerror}",
                "set runs_dir in deepcode.toml or DEEPCODE_RUNS_DIR to a writable directory",
            ) from exc
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        for _ in range(20):
            run_id = f"{stamp}-{_slug(Path(input_path).stem)}-{secrets.token_hex(2)}"
            root = runs_dir / run_id
            try:
                root.mkdir(mode=PRIVATE_DIR)  # exclusive: two runs never share a directory
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - 20 collisions of a 16-bit suffix in one second
            raise RunStoreError("could not allocate a unique run id", "try again")
        os.chmod(root, PRIVATE_DIR)  # mkdir's mode is cut by the umask, never widened: set it
        for sub in SUBDIRS:
            (root / sub).mkdir(mode=PRIVATE_DIR)
        manifest = RunManifest(
            run_id=run_id,
            created_at=datetime.now(UTC),
            input_path=str(Path(input_path).resolve()),
            input_sha256=_sha256(input_path) if Path(input_path).is_file() else "",
            input_format=input_format,
            repo_dir=str(Path(repo_dir).resolve() if repo_dir else root / "repo"),
            command=command,
            config=config or {},
            # Absolute: a resume from another directory must find the same cassette.
            llm_flags={k: _flag(v) for k, v in (llm_flags or {}).items() if v},
        )
        write_json_atomic(root / "run.json", manifest)
        return cls(root, manifest, _acquire_lock(root))

    @classmethod
    def open(cls, runs_dir: Path, run_id: str) -> RunStore:
        root = find_run(runs_dir, run_id)
        manifest = load_manifest(root)
        lock_fd = _acquire_lock(root)
        try:
            return cls(root, manifest, lock_fd)
        except BaseException:
            os.close(lock_fd)
            raise

    # -- paths ----------------------------------------------------------------

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    @property
    def repo_dir(self) -> Path:
        return Path(self.manifest.repo_dir)

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    # -- events ---------------------------------------------------------------

    def append(self, event: Event) -> Event:
        """Bus subscriber: persist events that are meant to be persisted."""
        if not type(event).persist:
            return event
        return self.log.append(event)

    def read_events(self) -> LogReadResult:
        return read_log(self.log.path)

    def completed_phases(self) -> list[str]:
        seen: list[str] = []
        for ev in self.read_events().events:
            if ev.type == "phase_completed" and ev.phase not in seen:
                seen.append(ev.phase)
        return seen

    def update_manifest(self, **changes: Any) -> None:
        self.manifest = self.manifest.model_copy(update=changes)
        write_json_atomic(self.root / "run.json", self.manifest)

    def close(self) -> None:
        self.log.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _acquire_lock(root: Path) -> int:
    fd = os.open(root / "run.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = ""
        try:
            holder = os.pread(fd, 32, 0).decode().strip()
        except OSError:
            pass
        os.close(fd)
        raise RunStoreError(
            f"run {root.name} is in use by another deepcode-tui process{f' (pid {holder})' if holder else ''}",
            "wait for it to finish or stop it, then try again",
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def lock_holder(root: Path) -> str:
    """The pid written in ``run.lock`` by the process holding it ("" when unknown)."""
    try:
        fd = os.open(root / "run.lock", os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return ""
    finally:
        os.close(fd)
    return text if text.isdigit() else ""


def is_locked(root: Path) -> bool:
    """True while some process holds the run (it is running now)."""
    try:
        fd = os.open(root / "run.lock", os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def find_run(runs_dir: Path, run_id: str) -> Path:
    """The directory of ``run_id`` (a unique prefix is enough)."""
    runs_dir = Path(runs_dir).expanduser()
    if not _RUN_ID.match(run_id):
        raise RunStoreError(f"{run_id!r} is not a valid run id", "list runs with `deepcode-tui runs`")
    exact = runs_dir / run_id
    if (exact / "run.json").is_file():
        return exact
    matches = sorted(p for p in runs_dir.glob(f"{run_id}*") if (p / "run.json").is_file()) if runs_dir.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise RunStoreError(
            f"run id {run_id!r} is ambiguous ({len(matches)} runs match)", "give more of the id"
        )
    raise RunStoreError(f"no run {run_id!r} in {runs_dir}", "list runs with `deepcode-tui runs`")


def load_manifest(root: Path) -> RunManifest:
    try:
        return RunManifest.model_validate_json((root / "run.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunStoreError(f"{root} has no run.json", "this is not a run directory") from None
    except (OSError, ValueError) as exc:
        raise RunStoreError(
            f"{root / 'run.json'} is unreadable or damaged",
            "restore it from a backup or start a new run (nothing was changed)",
        ) from exc
