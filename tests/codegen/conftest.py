"""Fixtures for the code generation tests."""

from __future__ import annotations

import pytest
from codegen_scripted import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
