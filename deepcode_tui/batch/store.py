"""The batch directory: its id, ``batch.json`` (written atomically) and the stop flag."""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

import platformdirs

from deepcode_tui.batch.models import BatchManifest
from deepcode_tui.config.settings import APP_NAME
from deepcode_tui.errors import RunStoreError
from deepcode_tui.store.atomic import write_json_atomic

_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
STOP_FILE = "STOP"


def default_batches_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME) / "batches"


def new_batch_dir(root: Path) -> Path:
    """A fresh ``<root>/batch-YYYYmmdd-HHMMSS-<hex>`` (exclusive mkdir, private to the user)."""
    root = Path(root).expanduser().resolve()
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise RunStoreError(
            f"cannot create the batch directory {root}: {exc.strerror}",
            "pass --batch-dir with a writable directory (on a cluster: one every node mounts)",
        ) from exc
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for _ in range(20):
        path = root / f"batch-{stamp}-{secrets.token_hex(2)}"
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)
        for sub in ("runs", "approvals"):
            (path / sub).mkdir(mode=0o700)
        return path
    raise RunStoreError("could not allocate a unique batch id", "try again")  # pragma: no cover


def save_manifest(batch_dir: Path, manifest: BatchManifest) -> None:
    manifest.updated_at = datetime.now(UTC)
    write_json_atomic(Path(batch_dir) / "batch.json", manifest)


def load_manifest(batch_dir: Path) -> BatchManifest:
    path = Path(batch_dir) / "batch.json"
    try:
        return BatchManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunStoreError(
            f"{batch_dir} has no batch.json",
            "this is not a batch directory; on a cluster, put --batch-dir on a filesystem every node mounts",
        ) from None
    except (OSError, ValueError) as exc:
        raise RunStoreError(f"{path} is unreadable or damaged", "restore it or start a new batch") from exc


def find_batch(root: Path, batch_id: str) -> Path:
    """The directory of ``batch_id`` under ``root`` (a unique prefix is enough); a path works too."""
    direct = Path(batch_id).expanduser()
    if (direct / "batch.json").is_file():
        return direct.resolve()
    if not _BATCH_ID.match(batch_id):
        raise RunStoreError(f"{batch_id!r} is not a valid batch id", f"list the batches in {root}")
    root = Path(root).expanduser()
    matches = sorted(p for p in root.glob(f"{batch_id}*") if (p / "batch.json").is_file()) if root.is_dir() else []
    if not matches:
        matches = sorted(p for p in root.glob(f"batch-{batch_id}*") if (p / "batch.json").is_file()) if root.is_dir() else []
    if len(matches) == 1:
        return matches[0].resolve()
    if len(matches) > 1:
        raise RunStoreError(f"batch id {batch_id!r} is ambiguous ({len(matches)} match)", "give more of the id")
    raise RunStoreError(f"no batch {batch_id!r} in {root}", "give the batch id printed by `deepcode-tui batch`, "
                        "and the same --batch-dir")


def request_stop(batch_dir: Path) -> None:
    """Ask every run of the batch to stop at once (each polls for this file)."""
    (Path(batch_dir) / STOP_FILE).write_text("stop\n", encoding="utf-8")


def clear_stop(batch_dir: Path) -> None:
    try:
        (Path(batch_dir) / STOP_FILE).unlink()
    except FileNotFoundError:
        pass


def stop_requested(batch_dir: Path) -> bool:
    return (Path(batch_dir) / STOP_FILE).exists()
