"""Promoting the winner of an A/B test: the server config routes every request to one arm.

:func:`promote_config` sets the ``weight`` of the winning ``[[experiments]]`` entry to 1 and every
other entry's to 0 in the server's TOML config, by a textual edit of the ``weight = …`` lines (a
missing one is added under the entry's header), so comments, order and layout stay as they were.
The edited text must parse (``tomllib``) to the same config but for those weights and pass the
server's own validation (:func:`nextedit.server.config.load_config`) before it replaces the file:
written to a temporary file in the same directory, then renamed over it (atomic on POSIX; a
reader or a watching server sees the old file or the new one, never half of one).
:func:`trigger_reload` then asks the running server to reload (``POST /admin/reload``; the server
swaps its router between requests, so none is dropped).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from nextedit.errors import NexteditError
from nextedit.server.config import ConfigError, load_config

_HEADER = re.compile(r"^\s*\[\[\s*experiments\s*\]\]\s*(#.*)?$")
_TABLE = re.compile(r"^\s*\[")
_WEIGHT = re.compile(r"^(\s*weight\s*=\s*)([^#\s]+)(\s*(#.*)?)$")


class PromoteError(NexteditError):
    """The config cannot be promoted; the message names the file."""


@dataclass(frozen=True)
class Promotion:
    """What changed: arm → weight before and after."""

    path: Path
    arm: str
    before: dict[str, float]
    after: dict[str, float]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _experiments(text: str, path: Path) -> list[dict]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PromoteError(f"{path}: not valid TOML: {e}") from None
    entries = data.get("experiments")
    if not isinstance(entries, list) or not entries:
        raise PromoteError(f"{path}: has no [[experiments]] entries to promote one of")
    return entries


def promoted_text(text: str, arm: str, path: Path) -> str:
    """``text`` with ``arm``'s weight 1 and the other ``[[experiments]]`` weights 0."""
    entries = _experiments(text, path)
    names = [str(e.get("name")) for e in entries]
    if arm not in names:
        raise PromoteError(f"{path}: no [[experiments]] entry named {arm!r} ({', '.join(names)})")
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    if len(headers) != len(entries):
        raise PromoteError(
            f"{path}: experiments are not all written as [[experiments]] tables; edit the weights by hand"
        )
    for i, name in reversed(list(zip(headers, names, strict=True))):  # bottom up: indexes stay valid
        weight = "1.0" if name == arm else "0.0"
        end = next((j for j in range(i + 1, len(lines)) if _TABLE.match(lines[j])), len(lines))
        found = [j for j in range(i + 1, end) if _WEIGHT.match(lines[j].rstrip("\r\n"))]
        if found:
            j = found[0]
            eol = lines[j][len(lines[j].rstrip("\r\n")) :]
            lines[j] = (
                _WEIGHT.sub(lambda m, w=weight: m.group(1) + w + m.group(3), lines[j].rstrip("\r\n")) + eol
            )
        else:
            eol = lines[i][len(lines[i].rstrip("\r\n")) :] or "\n"
            if not lines[i].endswith(("\n", "\r")):
                lines[i] += eol
            lines.insert(i + 1, f"weight = {weight}{eol}")
    out = "".join(lines)
    want = {n: 1.0 if n == arm else 0.0 for n in names}
    got = {str(e.get("name")): e.get("weight") for e in _experiments(out, path)}
    if got != want:  # the textual edit missed (e.g. a weight written on the header's line)
        raise PromoteError(f"{path}: could not edit the experiment weights safely; edit them by hand")
    return out


def promote_config(path: str | Path, arm: str) -> Promotion:
    """Route 100 % of the config at ``path`` to ``arm`` (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() != ".toml":
        raise PromoteError(f"{path}: promote edits TOML configs only")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PromoteError(f"{path}: cannot read: {e.strerror}") from None
    before = {str(e.get("name")): float(e.get("weight", 1.0)) for e in _experiments(text, path)}
    new = promoted_text(text, arm, path)
    after = {n: 1.0 if n == arm else 0.0 for n in before}
    if new == text:
        return Promotion(path, arm, before, after)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
        try:
            load_config(tmp)
        except ConfigError as e:
            raise PromoteError(f"{path}: the promoted config would not load: {e}") from None
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return Promotion(path, arm, before, after)


def arm_from_report(path: str | Path) -> tuple[str | None, str]:
    """(the arm to ship or None, the decision line) of a ``nextedit ab report --json`` file."""
    path = Path(path)
    try:
        decision = json.loads(path.read_text(encoding="utf-8"))["decision"]
        action, arm, line = decision["action"], decision.get("arm"), decision.get("line", "")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise PromoteError(f"{path}: not an `nextedit ab report --json` file ({type(e).__name__})") from None
    return (arm if action == "ship" and arm else None), str(line or action)


def trigger_reload(url: str, token: str | None = None, timeout_s: float = 30.0) -> dict:
    """``POST {url}/admin/reload`` (with the bearer ``token``); the server's JSON answer."""
    req = urllib.request.Request(url.rstrip("/") + "/admin/reload", method="POST")  # no body, no type
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as r:  # noqa: S310 - an operator's URL
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        body = e.read()[:300].decode("utf-8", "replace")
        raise PromoteError(f"{url}: reload refused (HTTP {e.code}): {' '.join(body.split())}") from None
    except (urllib.error.URLError, OSError) as e:
        raise PromoteError(f"{url}: cannot reach the server to reload: {getattr(e, 'reason', e)}") from None
