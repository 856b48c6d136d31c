"""Checks of a command's inputs and outputs, run before its work starts.

A command calls these first, so that a missing input, an unwritable output or a misspelled provider
is reported in one line before minutes of work (or a model load), not as a traceback after it.
Each check raises ``typer.BadParameter`` naming the option and the bad value (exit status 2, printed
as one line by :class:`nextedit.cli.app.OneLineErrors`). They only look: nothing is created.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

# inputs a fresh clone lacks, and the command that makes each (the defaults of those commands)
_MADE_BY = (
    (re.compile(r"(^|/)data/corpus\.jsonl$"), lambda m: "nextedit dataset corpus"),
    (
        re.compile(r"(^|/)data/([^/]+)/(train|valid|test)\.jsonl$"),
        lambda m: "nextedit dataset build" + ("" if m.group(2) == "default" else f" --name {m.group(2)}"),
    ),
    (re.compile(r"(^|/)checkpoints/"), lambda m: "nextedit train"),
)


def made_by(path: str | Path) -> str | None:
    """The command that makes ``path`` when it is one of the project's generated files, else None."""
    text = Path(path).as_posix()
    for pattern, command in _MADE_BY:
        m = pattern.search(text)
        if m:
            return command(m)
    return None


def missing_message(path: str | Path) -> str:
    """``PATH: no such file or directory``, plus which command makes it when we know."""
    command = made_by(path)
    return f"{path}: no such file or directory" + (f"; make it with `{command}`" if command else "")


def existing_inputs(paths: Sequence[str | Path], param: str = "INPUTS") -> None:
    """Every input exists (``-`` = stdin is always fine)."""
    for p in paths:
        if str(p) != "-" and not Path(p).expanduser().exists():
            raise typer.BadParameter(missing_message(p), param_hint=param)


def writable_output(path: str | Path | None, param: str) -> None:
    """``path`` (a file to write; None = not asked for) can be written: it is not a directory, and a
    file can really be created beside it. Probed, not inferred from permission bits (which say yes
    to root on a read-only mount or in ``/proc``): missing parent directories are created (the
    output goes there anyway) and a temporary file is made and removed in the parent."""
    if path is None or str(path) == "-":
        return
    p = Path(path).expanduser()
    if p.is_dir():
        raise typer.BadParameter(f"{path}: is a directory", param_hint=param)
    if p.exists() and not os.access(p, os.W_OK):
        raise typer.BadParameter(f"{path}: not writable", param_hint=param)
    parent = p.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise typer.BadParameter(f"{path}: cannot be written ({reason})", param_hint=param) from None


def writable_directory(path: str | Path | None, param: str) -> None:
    """``path`` (a directory to write into; None = not asked for) is a writable directory, or can be
    created: its nearest existing ancestor is a writable directory."""
    if path is None:
        return
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise typer.BadParameter(f"{path}: is a file, not a directory", param_hint=param)
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise typer.BadParameter(f"{path}: not writable", param_hint=param)
        return
    writable_output(p, param)  # not there yet: the same rule as for a file


def model_directory(path: str | Path | None, param: str = "--model") -> Path:
    """A model directory (one with ``config.json``); None = the default one ($NEXTEDIT_MODEL_DIR or
    the shipped model). Returns its path."""
    from nextedit.paths import default_model_dir

    p = Path(path).expanduser() if path else default_model_dir()
    if not p.exists():
        raise typer.BadParameter(missing_message(p), param_hint=param)
    if not (p / "config.json").is_file():
        raise typer.BadParameter(f"{p}: not a model directory (no config.json)", param_hint=param)
    return p


def provider_kinds() -> dict[str, str]:
    """Provider kind → its spec as ``--provider`` help shows it, from the provider registry."""
    from nextedit.predict.registry import PROVIDER_SPECS

    return {re.split(r"[\[:]", spec, maxsplit=1)[0]: spec for spec in PROVIDER_SPECS}


def provider_choices() -> str:
    """``none | oracle | …``: every provider spec of the registry, for ``--provider`` help texts."""
    return " | ".join(provider_kinds().values())


def provider_spec(spec: str, param: str = "--provider") -> str:
    """A provider spec that names a known provider, with a model directory that exists for
    ``local:PATH`` / ``hybrid:PATH`` (and the shipped model for plain ``local``/``hybrid``) and a URL
    for ``openai-compatible:``. Nothing is loaded. Returns the spec."""
    kinds = provider_kinds()
    kind, _, arg = spec.strip().partition(":")
    if kind.lower() not in kinds:
        raise typer.BadParameter(
            f"unknown provider {spec!r}; expected one of: {', '.join(kinds.values())}", param_hint=param
        )
    takes = kinds[kind.lower()].removeprefix(kind.lower())  # "", "[:PATH]" or ":URL"
    if arg and not takes:
        raise typer.BadParameter(f"{spec!r}: provider {kind!r} takes no argument", param_hint=param)
    if takes == ":URL" and not arg:
        raise typer.BadParameter(
            f"{spec!r}: give a URL, e.g. {kind}:http://127.0.0.1:8080/v1", param_hint=param
        )
    if takes == "[:PATH]":
        model_directory(arg or None, param)
    return spec


def telemetry_store(url: str | None, param: str = "--store") -> None:
    """``url`` is a database URL, and a SQLite store's database file can be created or written
    (other databases are checked on connect); ``none``/``off``/``null`` keep nothing."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from nextedit.server.telemetry.store import keeps_nothing

    if keeps_nothing(url):
        return
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise typer.BadParameter(
            f"{url!r} is not a database URL (e.g. sqlite:///telemetry.db, postgresql+psycopg://host/db)",
            param_hint=param,
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        writable_output(parsed.database, param)


def recipe_inputs(recipe: Any, out: str | Path | None = None) -> list[str]:
    """The files a training recipe cannot run without, as :mod:`nextedit.training.train` uses them:
    ``[model] init`` (unless ``scratch``); the tokenizer corpus when the tokenizer is trained (no
    ``path``, from scratch, none saved in ``out`` yet); each ``lm`` phase's corpus and each SFT
    phase's synthetic source when it makes synthetic examples, the corpus of any phase that makes LM
    batches, and the last SFT phase's synthetic source for synthetic validation examples when no
    ``[eval] valid`` file exists (all fall back on the tokenizer corpus). SFT ``train`` files and
    ``[eval] valid`` themselves are optional (skipped with a warning)."""
    needed: list[str] = []
    if recipe.model.init != "scratch":
        needed.append(recipe.model.init)
    saved = Path(out or recipe.out) / "tokenizer" / "tokenizer.json"
    if not recipe.tokenizer.path and recipe.model.init == "scratch" and not saved.exists():
        needed += recipe.tokenizer.corpus
    corpus = recipe.tokenizer.corpus
    sft = [p for p in recipe.phases if p.kind == "sft"]
    for phase in recipe.phases:
        if phase.kind == "lm" or phase.lm_mix:
            needed += phase.corpus or corpus
        if phase.kind == "sft" and phase.synthetic:
            needed += phase.synthetic_source or corpus
    if recipe.eval.synthetic_valid and not any(Path(p).exists() for p in recipe.eval.valid):
        needed += (sft[-1].synthetic_source if sft else []) or corpus  # held-out synthetic examples
    return list(dict.fromkeys(needed))
