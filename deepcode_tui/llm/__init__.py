"""The model gateway: one door to every language model (see :mod:`deepcode_tui.llm.gateway`).

Nothing here imports litellm; it is loaded on the first model call.
"""

from deepcode_tui.llm.errors import StructuredOutputError
from deepcode_tui.llm.gateway import Gateway
from deepcode_tui.llm.resolve import ResolvedModel, resolve_role
from deepcode_tui.llm.scripted import ScriptedReply, register_script
from deepcode_tui.llm.tools import Section, section_tools
from deepcode_tui.llm.types import CallRecord, CheckResult, Completion, ToolRunResult, ToolSpec, Totals, Usage

__all__ = [
    "CallRecord",
    "CheckResult",
    "Completion",
    "Gateway",
    "ResolvedModel",
    "ScriptedReply",
    "Section",
    "StructuredOutputError",
    "ToolRunResult",
    "ToolSpec",
    "Totals",
    "Usage",
    "register_script",
    "resolve_role",
    "section_tools",
]
