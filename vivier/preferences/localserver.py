"""Serve an ASGI app with uvicorn on a free loopback port, in a background thread (tests, the demo)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

START_TIMEOUT_SECONDS = 15.0


@contextmanager
def serve_on_loopback(app, host: str = "127.0.0.1") -> Iterator[str]:
    """Start uvicorn on ``host`` and a port the system picks; yields the base URL; stops it on exit."""
    config = uvicorn.Config(app, host=host, port=0, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="preference-centre", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the preference centre did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)
