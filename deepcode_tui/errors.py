"""Errors a user can cause, each carrying its cause and its fix.

The CLI turns a :class:`DeepcodeError` into one line on stderr and a non-zero
exit; anything else is an internal error (traceback only with ``--debug``).
"""

from __future__ import annotations


class DeepcodeError(Exception):
    """An error the user can act on: ``message`` names the cause, ``fix`` the remedy."""

    exit_code = 2

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def one_line(self) -> str:
        return f"{self.message} (fix: {self.fix})" if self.fix else self.message


class InputError(DeepcodeError):
    """The input document is missing, unreadable or of an unknown format."""


class ConfigError(DeepcodeError):
    """The configuration (file, env var or flag) is invalid."""


class RunStoreError(DeepcodeError):
    """A run directory is missing, locked or damaged."""


class BudgetExceeded(DeepcodeError):
    """A cost or token budget was reached; the run stops at a checkpoint and can resume."""

    exit_code = 4


class ProviderError(DeepcodeError):
    """A model provider failed in a way retries could not fix."""

    exit_code = 5


class ContextTooLong(ProviderError):
    """A prompt longer than the model's context window: a caller that can send less may try again."""


class SandboxError(DeepcodeError):
    """No sandbox backend could run generated code safely."""

    exit_code = 6


class Cancelled(DeepcodeError):
    """The user stopped the run; everything up to the last checkpoint is kept."""

    exit_code = 130
