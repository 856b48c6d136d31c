"""The ``client_id`` telemetry rows carry: ``HMAC-SHA256(install secret, client key)``, first 16 hex.

The client key (:func:`nextedit.server.http.client_key`) holds a device id, the bearer token or the
IP address; an unsalted hash of a token or an IP is reversed by hashing the candidates, so the
hash is keyed with a secret of this installation: 32 random bytes (hex) in
``<config dir>/install-secret`` (:func:`nextedit.paths.config_dir`: ``$NEXTEDIT_CONFIG_DIR``,
``$XDG_CONFIG_HOME/nextedit`` or ``~/.config/nextedit``), created on first use with mode 0600 and
read on every later start, so a client keeps its id across restarts. Servers that share a store
and should agree on ids share the file (or the directory). When it can be neither read nor
created, a random secret of this process is used (logged): ids then change on restart.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from nextedit.paths import config_dir

log = logging.getLogger("nextedit.server")

SECRET_FILE = "install-secret"


def install_secret(directory: Path | None = None) -> bytes:
    """The secret in ``directory/install-secret`` (default: the config dir), created when missing.

    Creation is atomic (written to a temp file, then hard-linked into place), so servers that
    start together end up with the same secret. Raises OSError when neither works."""
    path = (directory or config_dir()) / SECRET_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):  # another process created it first: theirs wins
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise OSError(f"{path}: install secret is too short (delete the file to make a new one)")
    return text.encode("ascii")


@functools.cache
def _process_secret() -> bytes:
    try:
        return install_secret()
    except (OSError, UnicodeDecodeError) as e:
        log.warning("no install secret (%s); client ids of this run will not match later runs", e)
        return secrets.token_hex(32).encode("ascii")


def client_id(client_key: str, secret: bytes | None = None) -> str:
    """16 hex characters identifying ``client_key`` in telemetry (``secret``: default the install's)."""
    key = secret if secret is not None else _process_secret()
    return hmac.new(key, client_key.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]
