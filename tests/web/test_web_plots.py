"""dgm plot: PNG figures from real archives, of the expected size and not blank."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from dgm.archive.store import Archive
from dgm.cli import view_cmds
from dgm.errors import DgmError
from dgm.web.plots import PROGRESS_SIZE, TREE_SIZE, plot_all

from web_png import BEST_RED, VIRIDIS_TOP, check_image, pixels_near, png_size


@pytest.fixture(scope="module")
def plotted(built, tmp_path_factory):
    out = tmp_path_factory.mktemp("plots")
    with Archive.open(built[0], readonly=True) as a:
        paths = plot_all(a, out)
    return {p.name: p for p in paths}


def test_progress_png(plotted):
    img = check_image(plotted["progress.png"], PROGRESS_SIZE)
    assert pixels_near(img, BEST_RED) > 200, "the best lineage is highlighted in red"


def test_tree_png(plotted):
    img = check_image(plotted["tree.png"], TREE_SIZE)
    assert pixels_near(img, BEST_RED) > 200, "the best path is drawn in red"
    assert pixels_near(img, VIRIDIS_TOP, tol=20) > 20, "the best agent is coloured by its score"


def test_plots_of_a_large_archive(big, tmp_path):
    with Archive.open(big, readonly=True) as a:
        progress, tree = plot_all(a, tmp_path / "p")
    check_image(progress, PROGRESS_SIZE)
    check_image(tree, TREE_SIZE)


def test_empty_archive_is_a_clear_error(tmp_path):
    Archive.create(tmp_path / "empty").close()
    with Archive.open(tmp_path / "empty", readonly=True) as a, \
            pytest.raises(DgmError, match="no agents yet"):
        plot_all(a, tmp_path / "out")


def cli() -> typer.Typer:
    app = typer.Typer()
    view_cmds.register(app)
    return app


def test_plot_command(writable, tmp_path):
    path, _ = writable
    with Archive.open(path):  # a running loop holds the write lock: plotting still works
        r = CliRunner().invoke(cli(), ["plot", "--archive", str(path), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [f"wrote {tmp_path / 'o' / 'progress.png'}",
                                     f"wrote {tmp_path / 'o' / 'tree.png'}"]
    assert png_size(tmp_path / "o" / "tree.png") == TREE_SIZE
    r = CliRunner().invoke(cli(), ["plot", "--archive", str(path)])
    assert r.exit_code == 0 and (path / "plots" / "progress.png").is_file()


def test_plot_command_bad_archive(tmp_path):
    r = CliRunner().invoke(cli(), ["plot", "--archive", str(tmp_path / "missing")])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [f"error: no archive at {tmp_path / 'missing'}: "
                                             "the directory does not exist"]
