"""The key that signs session tokens.

JWT_SECRET_KEY when it is set. Otherwise (refused in production at config
time) a random key generated once and kept in DATA_DIR/secrets, so tokens
survive restarts and every worker of the appliance signs with the same key.
"""

from __future__ import annotations

import logging
import os
import secrets
from functools import cache
from pathlib import Path

from appliance.settings import Settings

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "jwt_secret_key"
GENERATED_KEY_BYTES = 48


class SigningKeyError(RuntimeError):
    pass


def signing_key(settings: Settings) -> str:
    configured = settings.jwt_secret_key
    if configured is not None and configured.get_secret_value().strip():
        return configured.get_secret_value()
    return stored_signing_key(key_file_path(settings))


def key_file_path(settings: Settings) -> Path:
    return settings.data_dir / "secrets" / KEY_FILE_NAME


@cache
def stored_signing_key(path: Path) -> str:
    if not path.exists():
        create_key_file(path)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise SigningKeyError(
            f"{path} is empty; delete it (signing everyone out) or set JWT_SECRET_KEY"
        )
    return key


def create_key_file(path: Path) -> None:
    """Write a new key under a private name, then link it into place.

    The link fails if another worker got there first; then its key wins and
    ours is thrown away, so all workers end up reading the same complete file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    write_private_file(draft, secrets.token_urlsafe(GENERATED_KEY_BYTES))
    try:
        os.link(draft, path)
        logger.info("generated a session signing key in %s", path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def write_private_file(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
