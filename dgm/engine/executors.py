"""Where compute runs: proposals always in local threads; evaluations in local
threads or on a Ray cluster. The scheduler only sees futures."""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any, Callable


class LocalExecutor:
    """A thread pool: sandboxes do the heavy lifting in their own processes."""

    name = "local"

    def __init__(self, workers: int):
        self.pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dgm-eval")

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        return self.pool.submit(fn, *args)

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=not wait)


def make_executor(config) -> Any:
    if config.executor == "ray":
        from dgm.engine.ray_executor import RayExecutor, RayOptions
        return RayExecutor(config.workers, address=config.ray_address,
                           options=RayOptions.from_config(config))
    return LocalExecutor(max(config.workers, config.search.max_evaluations or 0))
