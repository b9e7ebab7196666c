"""The read-only web viewer of an archive (``dgm serve``).

``layout`` and ``data`` are plain Python (also used by ``dgm.web.plots``); ``app``
wires them into a Starlette application with HTML pages and a JSON API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette


def create_app(*args: Any, **kwargs: Any) -> "Starlette":
    """See :func:`dgm.web.app.create_app` (imported lazily: plots need no Starlette)."""
    from dgm.web.app import create_app as _create

    return _create(*args, **kwargs)
