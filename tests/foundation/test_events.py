"""Every event type survives a JSON round trip (hypothesis builds the instances)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepcode_tui.events.models import EVENT_TYPES, SCHEMA_VERSION, EventSchemaError, parse_event


# Events refuse inf/NaN (no JSON form); generate the floats they accept.
st.register_type_strategy(float, st.floats(allow_nan=False, allow_infinity=False))


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_round_trip(cls, data) -> None:
    event = data.draw(st.builds(cls))
    line = event.model_dump_json()
    back = parse_event(line)
    assert type(back) is cls
    assert back == event
    assert json.loads(line)["schema_version"] == SCHEMA_VERSION


def test_non_finite_numbers_are_refused() -> None:
    from pydantic import ValidationError

    from deepcode_tui.events.models import CostUpdated

    with pytest.raises(ValidationError):
        CostUpdated(total_cost_usd=float("inf"), total_tokens=1)


def test_unknown_type_and_newer_schema_are_rejected() -> None:
    with pytest.raises(ValueError):
        parse_event({"type": "no_such_event"})
    with pytest.raises(EventSchemaError, match="newer"):
        parse_event({"type": "log", "message": "x", "schema_version": SCHEMA_VERSION + 1})


def test_streaming_events_are_not_persisted() -> None:
    persisted = {c.__name__ for c in EVENT_TYPES if c.persist}
    assert "TokenStreamed" not in persisted and "Progress" not in persisted
    assert {"PhaseCompleted", "FileWritten", "LLMCallFinished"} <= persisted
