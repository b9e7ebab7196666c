"""What the external-dataset suites (swe-bench, polyglot) share: options and stages.

**Options.** The data is the user's (fetched on a networked machine; dgm ships
none), so the suite has to be told where it is. A suite reads its
``[dataset]`` table in suite.toml, and every key can be overridden by an
environment variable ``<PREFIX>_<KEY>`` (``DGM_SWEBENCH_INSTANCES=...``).
Relative paths in suite.toml are relative to the suite's folder, in the
environment to the current directory. So a user either exports a few
variables, or keeps a suite folder of their own whose suite.toml names the
data and points ``scorer`` at dgm's scorer (``dgm suite eval path/to/it``).

**Selection and stages.** ``ids`` (a list, a comma-separated string or
``@file`` with one id a line) and ``count`` pick the pool; ``stages`` is a
preset: ``dgm`` (DGM's splits: 10 tasks, then 50 more for agents that solve
40 % of them, then the rest for agents that solve 40 % of those) or ``all``
(one stage). Tasks are spread by a hash of their id, not taken in file order
(SWE-bench files are sorted by repository), so the first stage is varied and
the same for every machine and every subset of the same file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

from dgm.errors import ConfigError, validation_error
from dgm.suites import StageSpec, SuiteSpec

PRESETS: dict[str, list[tuple[str, float, int | None]]] = {
    # name, threshold on the previous stage, size (None = the rest)
    "dgm": [("small", 0.0, 10), ("medium", 0.4, 50), ("full", 0.4, None)],
    "all": [("all", 0.0, None)],
}


class DatasetOptions(BaseModel):
    """The keys every dataset suite accepts; suites add their own."""

    model_config = ConfigDict(extra="forbid")
    ids: Optional[list[str]] = None
    count: Optional[int] = None
    stages: str = "dgm"


def read_options(spec: SuiteSpec, prefix: str, model: type[BaseModel]) -> BaseModel:
    """``[dataset]`` of suite.toml, overridden by ``<prefix>_<KEY>`` variables, validated."""
    table = dict((spec.model_extra or {}).get("dataset", {}))
    paths = {k for k, f in model.model_fields.items() if f.annotation in (Path, Optional[Path])}
    for key in paths:
        if table.get(key):
            table[key] = str((spec.path / str(table[key])).expanduser())
    where = f"{spec.path / 'suite.toml'} [dataset]"
    for key in model.model_fields:
        value = os.environ.get(f"{prefix}_{key.upper()}")
        if value is None or value == "":
            continue
        where = f"{where} or ${prefix}_{key.upper()}"
        table[key] = str(Path(value).expanduser().resolve()) if key in paths else _env_value(key, value)
    try:
        opts = model.model_validate(table)
    except ValidationError as exc:
        raise validation_error(exc, where) from None
    if getattr(opts, "count", None) is not None and opts.count < 1:
        raise ConfigError(f"{where}: count must be at least 1, not {opts.count}")
    if getattr(opts, "stages", "dgm") not in PRESETS:
        raise ConfigError(f"{where}: stages must be one of {', '.join(PRESETS)}, not {opts.stages!r}")
    return opts


def _env_value(key: str, value: str) -> Any:
    if key in ("ids", "languages"):
        if value.startswith("@"):
            path = Path(value[1:]).expanduser()
            if not path.is_file():
                raise ConfigError(f"{key}: {path} does not exist")
            return [line.strip() for line in path.read_text().splitlines() if line.strip()]
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def spread_order(ids: list[str]) -> list[str]:
    """A fixed, well-mixed order: by the SHA-256 of each id."""
    return sorted(ids, key=lambda t: hashlib.sha256(t.encode()).hexdigest())


def select(all_ids: list[str], ids: list[str] | None, count: int | None, what: str) -> list[str]:
    """The pool: the given ids (in their order), else every id, then the first ``count``."""
    if ids is not None:
        unknown = [t for t in ids if t not in set(all_ids)]
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "")
            raise ConfigError(f"{what}: unknown ids {shown}")
        pool = list(dict.fromkeys(ids))
    else:
        pool = spread_order(all_ids)
    pool = pool[:count] if count else pool
    if not pool:
        raise ConfigError(f"{what}: no tasks selected")
    return pool


def preset_stages(name: str, pool: list[str]) -> list[StageSpec]:
    """The preset's stages over ``pool`` as explicit task lists; empty stages are left out."""
    stages, start = [], 0
    for stage_name, threshold, size in PRESETS[name]:
        chunk = pool[start:] if size is None else pool[start:start + size]
        start += len(chunk)
        if chunk:
            stages.append(StageSpec(name=stage_name, threshold=threshold if stages else 0.0,
                                    params={"tasks": chunk}))
    return stages


def configure_stages(spec: SuiteSpec, all_ids: list[str], opts: DatasetOptions) -> SuiteSpec:
    """A copy of ``spec`` whose stages are the preset over the selected pool."""
    pool = select(all_ids, opts.ids, opts.count, spec.name)
    out = spec.model_copy(deep=True)
    out.stages = preset_stages(opts.stages, pool)
    out.path = spec.path
    return out
