"""Entry point of the ``mloop`` command.

Each command group lives in its own module (``mloop.cli.runs``, ``mloop.cli.models``...)
that imports only Typer at module level; the work is imported inside the commands, so
``mloop --help`` stays fast. Errors print as one clear message; ``--debug`` shows the
traceback.
"""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="mloop",
    help="mloop: data, features, pipelines, tracking, registry, serving and monitoring in one loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain Click help: Typer's Rich help imports Markdown, Pygments and tracebacks
    # (about 0.2 s of CPU), which alone would put `mloop --help` over its 0.5 s budget
    rich_markup_mode=None,
)

# (module under mloop.cli, command group name): a group module defines `app`; with None the
# module's `register(app)` adds top-level commands (and may add groups). The order is that of
# `mloop --help` (top-level commands first, then groups).
_MODULES: list[tuple[str, str | None]] = [
    ("experiments", "experiments"),
    ("runs", "runs"),
    ("models", "models"),
    ("audit", "audit"),
    ("db", "db"),
    ("data", "data"),
    ("features", "features"),
    ("pipelines", "pipeline"),
    ("feedback", "feedback"),
    ("demo", None),
    ("serve", None),
    ("project", None),
    ("monitor", "monitor"),
    ("alerts", "alerts"),
    ("loop", "loop"),
    ("lineage", None),
    ("stream", None),
    ("prompts", "prompts"),
    ("traces", "traces"),
    ("server", None),
    ("users", "users"),
    ("tokens", "tokens"),
    ("gateway", None),
]

_state = {"debug": False}


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
) -> None:
    _state["debug"] = debug


for _module, _name in _MODULES:
    if _name is None:
        importlib.import_module(f"mloop.cli.{_module}").register(app)
    else:
        app.add_typer(importlib.import_module(f"mloop.cli.{_module}").app, name=_name)


def run() -> None:
    """Run the CLI, printing mloop errors as one message (traceback with ``--debug``)."""
    from mloop.core.errors import MloopError

    debug = "--debug" in sys.argv
    try:
        app(standalone_mode=True)
    except MloopError as exc:
        if debug:
            raise
        from rich.text import Text

        from mloop.cli.output import errors

        # the message is plain text (brackets in it are not markup); long lines are not wrapped
        errors.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        raise SystemExit(1) from None
