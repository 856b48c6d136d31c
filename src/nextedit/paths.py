"""Where nextedit finds what is not code, in one place; each location has an environment override.

* The default model: ``$NEXTEDIT_MODEL_DIR``, else the shipped model, installed as package data in
  ``nextedit/models/nextedit-tiny`` (in the checkout: ``src/nextedit/models/nextedit-tiny``), so a
  wheel install serves it from any directory.
* The data directory (datasets, the PyPI cache, bench scratch): ``$NEXTEDIT_DATA_DIR``, else
  ``./data`` in the current directory. It is never looked up relative to the installed package.
* The config directory (the server's per-install secret): ``$NEXTEDIT_CONFIG_DIR``, else
  ``$XDG_CONFIG_HOME/nextedit``, else ``~/.config/nextedit``.
* The eval examples the benchmarks default to: ``./examples`` in the current directory (the
  checkout's, when run from its root).
"""

from __future__ import annotations

import os
from pathlib import Path

MODEL_DIR_ENV = "NEXTEDIT_MODEL_DIR"
DATA_DIR_ENV = "NEXTEDIT_DATA_DIR"
CONFIG_DIR_ENV = "NEXTEDIT_CONFIG_DIR"
SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "models" / "nextedit-tiny"


def default_model_dir() -> Path:
    """The model served and benchmarked when none is named: ``$NEXTEDIT_MODEL_DIR`` or the shipped one."""
    env = os.environ.get(MODEL_DIR_ENV)
    return Path(env).expanduser() if env else SHIPPED_MODEL_DIR


def data_dir() -> Path:
    """``$NEXTEDIT_DATA_DIR``, else ``./data`` (absolute, resolved against the current directory)."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path("data").resolve()


def config_dir() -> Path:
    """``$NEXTEDIT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/nextedit``, else ``~/.config/nextedit``."""
    env = os.environ.get(CONFIG_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".config") / "nextedit"


def examples_dir() -> Path:
    """``./examples`` (absolute): the eval cases of the checkout the command runs in."""
    return Path("examples").resolve()
