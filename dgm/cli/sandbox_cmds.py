"""``dgm sandbox``: build the image, see which backend would be used, run a command, clean up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from dgm.termsafe import for_terminal
from dgm.cli.common import cli_errors, console, err_console, fail

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Sandboxes for agent code: build the image, inspect, run, clean up.")


def _echo(line: str) -> None:
    err_console.print(line, highlight=False, soft_wrap=True, markup=False)


@app.command()
@cli_errors
def build(force: bool = typer.Option(False, "--force", help="Rebuild even if the tag exists"),
          with_: List[str] = typer.Option([], "--with", help="Also build this image variant "
                                          "(image/variants/NAME.Dockerfile, e.g. polyglot)")) -> None:
    """Build the dgm-sandbox image offline (idempotent; tagged by content hash)."""
    from dgm.sandbox.image import ensure_image

    console.print(ensure_image(echo=_echo, force=force), highlight=False)
    if with_:
        from dgm.sandbox.variants import ensure_variant

        for name in with_:
            console.print(ensure_variant(name, echo=_echo, force=force), highlight=False)


@app.command()
@cli_errors
def info() -> None:
    """Say which backends work here, which one `auto` picks, and what is left over."""
    from dgm.sandbox.docker_engine import docker_available
    from dgm.sandbox.scratch import stale_slots
    from dgm.sandbox.select import bwrap_available

    ok, why = docker_available()
    console.print(f"docker: {'yes' if ok else 'no'} ({why})", highlight=False)
    if ok:
        from dgm.sandbox.docker import leftover_containers
        from dgm.sandbox.docker_engine import docker_client

        tags = sorted(t for img in docker_client().images.list("dgm-sandbox") for t in img.tags)
        console.print(f"  images: {', '.join(tags) or 'none (run `dgm sandbox build`)'}", highlight=False)
        console.print(f"  sandbox containers present: {len(leftover_containers())}", highlight=False)
    bok, bwhy = bwrap_available()
    console.print(f"bwrap: {'yes' if bok else 'no'} ({bwhy})", highlight=False)
    console.print(f"auto picks: {'docker' if ok else 'bwrap' if bok else 'nothing (only --unsafe)'}",
                  highlight=False)
    console.print(f"stale scratch slots: {len(stale_slots())}", highlight=False)


def _mount(spec: str):
    from dgm.errors import ConfigError
    from dgm.sandbox.base import Mount

    parts = spec.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
        raise ConfigError(f"--mount wants SOURCE:TARGET[:ro|rw], not {spec!r}")
    return Mount(Path(parts[0]).resolve(), parts[1], writable=len(parts) == 3 and parts[2] == "rw")


@app.command(context_settings={"allow_interspersed_args": False})
@cli_errors
def run(command: List[str] = typer.Argument(..., help="The command (put it after --)"),
        sandbox: str = typer.Option("auto", "--sandbox", help="auto, docker or bwrap"),
        unsafe: bool = typer.Option(False, "--unsafe", help="Run WITHOUT a sandbox (plain subprocess)"),
        mount: List[str] = typer.Option([], "--mount", "-m", help="SOURCE:TARGET[:ro|rw] (repeatable)"),
        env: List[str] = typer.Option([], "--env", "-e", help="NAME=VALUE passed in (repeatable)"),
        timeout: float = typer.Option(60.0, "--timeout", help="Seconds before a hard kill"),
        memory: int = typer.Option(2048, "--memory", help="Memory limit in MB"),
        network: Optional[str] = typer.Option(None, "--network", help="An internal Docker network"),
        workdir: str = typer.Option("/scratch", "--workdir"),
        image: Optional[str] = typer.Option(None, "--image", help="Docker image (default: build/reuse)")) -> None:
    """Run one command in a sandbox and show what it did (for debugging agents and harnesses)."""
    from dgm.errors import ConfigError
    from dgm.sandbox.base import Limits
    from dgm.sandbox.select import choose_sandbox

    if sandbox == "unsafe" and not unsafe:
        fail("running unsandboxed needs the explicit --unsafe flag")
    variables = {}
    for item in env:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--env wants NAME=VALUE, not {item!r}")
        variables[name] = value
    mounts = [_mount(m) for m in mount]
    with choose_sandbox("unsafe" if unsafe else sandbox, image=image, echo=_echo) as sb:
        result = sb.run(image or getattr(sb, "image", None) or "", command, mounts=mounts, env=variables,
                        limits=Limits(seconds=timeout, memory_mb=memory), network=network, workdir=workdir)
    sys.stdout.write(for_terminal(result.stdout, sys.stdout))
    sys.stderr.write(for_terminal(result.stderr, sys.stderr))
    _echo(f"[{result.backend}] {result.reason or 'exit code 0'} in {result.seconds:.2f} s")
    raise typer.Exit(0 if result.ok else (result.exit_code or 1))


@app.command()
@cli_errors
def clean(images: bool = typer.Option(False, "--images", help="Also remove outdated dgm-sandbox images")) -> None:
    """Remove what killed runs and engines left: containers, scratch mounts, temp dirs, cgroups (and old images)."""
    from dgm.engine.hygiene import sweep

    swept = sweep()  # dead runs' temp dirs, scratch mounts and cgroups; never a live run's
    console.print(f"stale scratch slots removed: {swept.mounts}", highlight=False)
    console.print(f"stale run temp dirs removed: {swept.dirs}; stale cgroups removed: "
                  f"{swept.cgroups}", highlight=False)
    from dgm.sandbox.docker_engine import docker_available

    ok, why = docker_available()
    if not ok:
        console.print(f"docker: skipped ({why})", highlight=False)
        return
    from dgm.sandbox.docker import remove_stale_containers
    from dgm.sandbox.docker_engine import docker_client
    from dgm.sandbox.image import IMAGE_NAME, base_image, image_tag

    client = docker_client()
    console.print(f"stale sandbox containers removed: {remove_stale_containers(client)}", highlight=False)
    if images:
        base, _ = base_image(_echo)
        keep = {image_tag(client.images.get(base).id), f"{IMAGE_NAME}:latest"}
        removed = 0
        for img in client.images.list(IMAGE_NAME):
            if not keep & set(img.tags):
                client.images.remove(img.id, force=True)
                removed += 1
        console.print(f"outdated images removed: {removed}", highlight=False)
