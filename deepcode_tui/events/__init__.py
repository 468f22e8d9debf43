"""Typed run events and the async bus every observer subscribes to."""

from deepcode_tui.events.bus import EventBus
from deepcode_tui.events.models import SCHEMA_VERSION, Event, parse_event

__all__ = ["SCHEMA_VERSION", "Event", "EventBus", "parse_event"]
