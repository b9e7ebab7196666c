"""The viewer on a real uvicorn server in a thread (127.0.0.1, a free port)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from dgm.archive.store import Archive
from dgm.web import create_app
from dgm.web.server import bind


class LiveServer:
    """The viewer on a real uvicorn server, 127.0.0.1 and a free port, in a thread."""

    def __init__(self, archive: Path | Archive, poll_seconds: float = 3.0):
        self.sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        app = create_app(archive, poll_seconds=poll_seconds)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the viewer did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
