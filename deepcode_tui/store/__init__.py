"""The run directory: event log, atomic artifacts, run catalogue."""

from deepcode_tui.store.atomic import write_bytes_atomic, write_json_atomic, write_text_atomic
from deepcode_tui.store.catalog import RunSummary, list_runs, summarize_run
from deepcode_tui.store.eventlog import EventLog, read_log
from deepcode_tui.store.run import RunManifest, RunStore, find_run

__all__ = [
    "EventLog",
    "RunManifest",
    "RunStore",
    "RunSummary",
    "find_run",
    "list_runs",
    "read_log",
    "summarize_run",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]
