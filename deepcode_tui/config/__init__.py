"""Configuration: one pydantic-settings model, loaded nearest-first with provenance."""

from deepcode_tui.config.loader import LoadedSettings, load_settings, set_config_value
from deepcode_tui.config.settings import ROLES, Settings, user_config_path

__all__ = ["ROLES", "LoadedSettings", "Settings", "load_settings", "set_config_value", "user_config_path"]
