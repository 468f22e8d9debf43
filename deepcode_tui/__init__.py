"""deepcode-tui: turn a specification document into a working repository."""

__version__ = "0.1.0"
