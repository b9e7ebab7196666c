"""The ``dgm`` command line: wires the command groups of dgm/cli together."""

from __future__ import annotations

import importlib

import typer

from dgm.cli import archive_cmds
from dgm.cli.common import STATE

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="dgm: open-ended, self-improving agent evolution (Darwin Goedel Machine style).")


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors")) -> None:
    STATE["debug"] = debug


archive_cmds.register(app)

# Command groups owned by other modules; each is optional so a partial checkout still runs.
for module, attr, name in (("run_cmds", "register", None), ("view_cmds", "register", None),
                           ("replay_cmds", "register", None), ("sandbox_cmds", "app", "sandbox"),
                           ("suite_cmds", "app", "suite"), ("model_cmds", "app", "model")):
    try:
        mod = importlib.import_module(f"dgm.cli.{module}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith(module):
            continue
        raise
    target = getattr(mod, attr)
    if name is None:
        target(app)
    else:
        app.add_typer(target, name=name)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
