"""Packaging beyond pyproject.toml: the wheel carries what dgm ships besides its code.

The seed agents (agents/), the suites (evaluators/), the sandbox's in-container runner
(sandbox/) and the Dockerfile live beside the package in a checkout; build_py copies them
into ``dgm/_shipped/`` of the wheel, where dgm.resources finds them when there is no checkout.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("agents", "evaluators", "image", "Dockerfile")
# local caches never go into the wheel, nor the sandbox's build outputs (git-ignored)
CACHES = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache",
                                ".ruff_cache", "*.egg-info")


def IGNORE(directory: str, names: list[str]) -> set[str]:
    skip = set(CACHES(directory, names))
    if Path(directory) == ROOT / "image":
        skip |= {"build", "wheels"} & set(names)
    return skip


class BuildWithShippedData(build_py):
    def run(self) -> None:
        super().run()
        dest = Path(self.build_lib) / "dgm" / "_shipped"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        for name in SHIPPED:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, dest / name, ignore=IGNORE, symlinks=True)
            else:
                shutil.copy2(src, dest / name)


setup(cmdclass={"build_py": BuildWithShippedData})
