"""The YAML DSL: models, loading, validation and actions."""

from soni.config.actions import ActionRegistry
from soni.config.loader import SoniConfig, config_from_text, load_config

__all__ = ["ActionRegistry", "SoniConfig", "config_from_text", "load_config"]
