"""Typed, validated settings read from the environment and `.env`."""

from appliance.settings.loader import SettingsError, load_settings
from appliance.settings.model import Settings

__all__ = ["Settings", "SettingsError", "load_settings"]
