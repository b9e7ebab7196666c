"""Fixtures for the viewer's tests: real archives, a real HTTP server, Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dgm.archive.store import Archive

from web_builders import add_synthetic, build_archive
from web_live import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """(archive path, role -> id) of the closed test archive; treat it as read-only."""
    path = tmp_path_factory.mktemp("web") / "arc"
    return path, build_archive(path)


@pytest.fixture
def writable(tmp_path, built) -> tuple[Path, dict[str, str]]:
    """A private copy of the test archive, for tests that write to it."""
    path = tmp_path / "arc"
    shutil.copytree(built[0], path)
    return path, built[1]


@pytest.fixture(scope="session")
def big(tmp_path_factory) -> Path:
    """The test archive plus 1,500 synthetic agents."""
    path = tmp_path_factory.mktemp("web-big") / "arc"
    build_archive(path)
    with Archive.open(path) as a:
        add_synthetic(a, 1500)
    return path


@pytest.fixture(scope="session")
def live(built):
    server = LiveServer(built[0])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page; page errors and console errors are collected on ``page.problems``."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.problems = []
    pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(f"console: {m.text}"))
    yield pg
    ctx.close()


@pytest.fixture
def shot():
    """Save a full-page screenshot into test-artifacts/web/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str, full_page: bool = True) -> Path:
        out = ARTIFACTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # else the sticky header lands mid-image
        page.screenshot(path=str(out), full_page=full_page)
        return out

    return save
