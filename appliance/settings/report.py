"""`config check` and `config show`."""

from __future__ import annotations

from pydantic import SecretStr

from appliance.exit_codes import EXIT_OK
from appliance.settings.model import Settings, env_name

MASK = "********"


def check_config(settings: Settings) -> int:
    print(
        f"configuration is valid: environment={settings.environment} "
        f"database={settings.database_type} data_dir={settings.data_dir}"
    )
    return EXIT_OK


def show_config(settings: Settings) -> int:
    for name, value in masked_settings(settings).items():
        print(f"{name}={value}")
    return EXIT_OK


def masked_settings(settings: Settings) -> dict[str, str]:
    shown = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            text = MASK if value.get_secret_value() else ""
        elif isinstance(value, list):
            text = ",".join(value)
        elif value is None:
            text = ""
        elif isinstance(value, bool):
            text = str(value).lower()
        else:
            text = str(value)
        shown[env_name(name)] = text
    return shown
