"""Running the viewer: bind the port ourselves (one clear line when taken), then uvicorn."""

from __future__ import annotations

import errno
import socket

import uvicorn

from dgm.archive.store import Archive
from dgm.errors import DgmError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port (port 0: any free port), or DgmError."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DgmError(f"cannot listen on {host}:{port}: unknown host ({exc.strerror})") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only, as uvicorn does
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise DgmError(f"port {port} on {host} is already in use; choose another with "
                           "--port (--port 0 picks a free one)") from None
        if exc.errno == errno.EACCES:
            raise DgmError(f"no permission to listen on {host}:{port}; use a port above 1023") from None
        raise DgmError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def serve(archive: Archive, host: str, port: int, poll_seconds: float = 3.0,
          announce=print) -> None:
    """Serve ``archive`` (opened read-only) until interrupted."""
    from dgm.web.app import create_app

    sock = bind(host, port)
    actual = sock.getsockname()[1]
    app = create_app(archive, poll_seconds=poll_seconds)
    shown = f"[{host}]" if ":" in host else host
    announce(f"serving {archive.path} at http://{shown}:{actual}/ "
             "(read-only, follows the archive live; Ctrl-C to stop)")
    if host not in LOOPBACK:
        announce(f"warning: the viewer has no authentication; anyone who can reach "
                 f"{host}:{actual} can read this archive")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: stopping is normal here
        announce("stopped")
    finally:
        sock.close()
