"""Ray for a batch: a local instance that lives as long as the command, or a cluster joined by address."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deepcode_tui.errors import ConfigError

# Ray puts unix sockets under its temp dir (".../session_<date>_<pid>/sockets/plasma_store",
# 62 more bytes) and a socket path must stay under 108 bytes.
_MAX_TEMP_DIR = 44


def ray_temp_dir(batch_dir: Path) -> Path:
    """Where a local Ray keeps its session and logs: in the batch directory when the path is short enough."""
    inside = Path(batch_dir) / "ray"
    if len(str(inside)) <= _MAX_TEMP_DIR:
        return inside
    digest = hashlib.sha256(str(batch_dir).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"deepcode-ray-{digest}"


def import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "Ray is not installed; batches run on Ray",
            "install it: pip install 'ray>=2.40' (it is a dependency of deepcode-tui)",
        ) from None
    return ray


@contextmanager
def ray_session(address: str | None, *, batch_dir: Path, num_cpus: int | None = None) -> Iterator[object]:
    """Ray, initialised for the batch and shut down after it (unless the caller had it running)."""
    ray = import_ray()
    if ray.is_initialized():  # embedded in a program that manages Ray itself (tests, notebooks)
        yield ray
        return
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    common = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING,
              "runtime_env": {"env_vars": env}}
    try:
        if address:
            ray.init(address=address, **common)
        else:
            temp = ray_temp_dir(batch_dir)
            temp.mkdir(parents=True, exist_ok=True, mode=0o700)
            link = Path(batch_dir) / "ray"
            if temp != link and not link.exists() and not link.is_symlink():
                link.symlink_to(temp)  # the logs are found from the batch directory either way
            # "local": a new instance even when a `ray start` cluster runs on this machine.
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, _temp_dir=str(temp), **common)
    except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        fix = ("check the address (`ray status` on the head node), or omit --ray to run on this machine"
               if address else "see the Ray logs under " + str(ray_temp_dir(batch_dir)))
        raise ConfigError(f"cannot start or join {where}: {str(exc).splitlines()[0] if str(exc) else exc}",
                          fix) from None
    try:
        yield ray
    finally:
        ray.shutdown()
