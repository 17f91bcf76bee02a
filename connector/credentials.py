"""Credentials the connector itself must use later (an SMTP password), encrypted at rest (Fernet).

The key is CONNECTOR_CREDENTIALS_KEY: a Fernet key or any passphrase. Without it a key
is generated once into the instance folder (`credentials.key`), which serves the
processes of one machine; processes on several machines must share one
CONNECTOR_CREDENTIALS_KEY. Losing the key loses the stored passwords, nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "fernet:"
KEY_FILE = "credentials.key"


class Credentials:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(_fernet_key(key))

    def seal(self, secret: str) -> str:
        """The stored form of a secret: never the secret itself."""
        return PREFIX + self._fernet.encrypt(secret.encode()).decode("ascii")

    def unseal(self, stored: str) -> str:
        """The secret back; ValueError when this key did not seal it."""
        if not stored.startswith(PREFIX):
            raise ValueError("not a sealed credential")
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
        except InvalidToken:
            raise ValueError("the stored password was sealed with another CONNECTOR_CREDENTIALS_KEY") from None


def _fernet_key(key: str) -> bytes:
    """A Fernet key as given, or one derived from a passphrase."""
    try:
        if len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32:
            return key.encode("ascii")
    except (binascii.Error, ValueError, UnicodeEncodeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())


def _instance_key(instance_path: str) -> str:
    """The instance folder's key, created on first use (readable by this user only).

    Written aside and linked into place, so a process starting at the same moment
    reads either no file or the whole key, never half of one.
    """
    path = os.path.join(instance_path, KEY_FILE)
    if not os.path.exists(path):
        aside = f"{path}.{os.getpid()}.new"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(Fernet.generate_key().decode("ascii"))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            os.unlink(aside)
    with open(path, encoding="ascii") as f:
        return f.read().strip()


_settings: tuple[str | None, str] | None = None
_current: Credentials | None = None


def init(key: str | None, instance_path: str) -> None:
    """Set where the process's key comes from (the app factory calls this); read on first use."""
    global _settings, _current
    _settings, _current = (key, instance_path), None


def current() -> Credentials:
    """The process's sealer; without CONNECTOR_CREDENTIALS_KEY the instance key is made now if need be."""
    global _current
    if _current is None:
        if _settings is None:
            raise RuntimeError("credentials.init() was not called: create the app first")
        key, instance_path = _settings
        _current = Credentials(key or _instance_key(instance_path))
    return _current
