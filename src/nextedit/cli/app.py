"""The typer application, its sub-groups, and the one place errors become one-line messages.

Command modules import these and register on them. Every command runs inside
:class:`OneLineErrors`: a :class:`nextedit.errors.NexteditError` from any layer, an ``OSError``
that names a file, or a usage error (bad option value, missing argument) is printed as one line
``error: …`` on stderr with exit status 1 (2 for usage errors); anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from nextedit.errors import NexteditError

USAGE_EXIT = 2  # click's and POSIX's status for a bad command line
ERROR_EXIT = 1


def fail(message: str, code: int = ERROR_EXIT) -> typer.Exit:
    """Print ``error: message`` as one line on stderr; return the Exit for the caller to raise."""
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    return typer.Exit(code)


class OneLineErrors(TyperGroup):
    """The root command group: turns user-fixable errors raised by any command into one line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NexteditError as e:
            raise fail(str(e)) from None
        except typer.TyperException as e:  # click's usage errors (typer's vendored click)
            if type(e).__name__ == "NoArgsIsHelpError":  # `nextedit ingest` alone: typer shows the help
                raise
            sub = getattr(e, "ctx", None)
            where = (
                f" (see `{sub.command_path} --help`)" if sub is not None and e.exit_code == USAGE_EXIT else ""
            )
            raise fail(e.format_message() + where, e.exit_code) from None
        except OSError as e:
            if e.filename is None:  # not about a file the user named: a bug or the system's problem
                raise
            if isinstance(e, FileNotFoundError):  # and which command makes it, when we know
                from nextedit.cli.checks import missing_message

                raise fail(missing_message(e.filename)) from None
            raise fail(f"{e.filename}: {e.strerror or e}") from None


app = typer.Typer(
    name="nextedit",
    cls=OneLineErrors,
    help="Next-edit prediction: data pipeline, offline evaluation, model training and a Zed-compatible server.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
ingest_app = typer.Typer(help="Turn git history or PyPI release diffs into examples.", no_args_is_help=True)
dataset_app = typer.Typer(help="Build train/valid/test datasets.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
ab_app = typer.Typer(help="A/B analysis of the server's experiments.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(dataset_app, name="dataset")
app.add_typer(bench_app, name="bench")
app.add_typer(ab_app, name="ab")
