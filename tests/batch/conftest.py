"""A real local Ray (two CPUs) for the batch tests, started once per module."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    # Workers inherit this process's environment when Ray starts: our sources first, and the
    # scripted replies slow enough for a kill to land mid-codegen (replays ignore it).
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "DEEPCODE_TEST_REPLY_DELAY")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), saved["PYTHONPATH"]) if p)
    os.environ["DEEPCODE_TEST_REPLY_DELAY"] = "0.4"
    short = f"/tmp/dct-ray-{os.getpid()}"  # Ray's socket paths must stay short
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=short,
             logging_level="warning")
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(short, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
