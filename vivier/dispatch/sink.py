"""A local SMTP sink (aiosmtpd) for demos, tests and benchmarks: accepts every message, counts the
Message-IDs it took and, when given a folder, writes each message as ``<message-id>.eml`` there
(a second copy of the same Message-ID would be written as ``<message-id>.2.eml``, so duplicates show).

    python -m vivier.dispatch.sink --folder data/outbox-sink --port 8025

It listens on the loopback interface only.
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from vivier.dispatch.transports import eml_name

DEFAULT_PORT = 8025
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


def message_id_of(data: bytes) -> str:
    """The Message-ID header of a raw message ("" when it has none)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace") if found else ""


class SinkHandler:
    """aiosmtpd handler: takes every message, counts its Message-ID, optionally writes it to a folder."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder else None
        self.received: Counter[str] = Counter()
        self._lock = threading.Lock()
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def accept(self, data: bytes) -> str:
        """Record one accepted message; returns its Message-ID."""
        message_id = message_id_of(data)
        with self._lock:
            self.received[message_id] += 1
            copy = self.received[message_id]
        if self.folder:
            name = eml_name(message_id or "no-message-id")
            if copy > 1:
                name = re.sub(r"\.eml$", f".{copy}.eml", name)
            (self.folder / name).write_bytes(data)
        return message_id

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.accept(envelope.original_content or envelope.content)
        return "250 2.0.0 OK"


def start_sink(handler: Any, port: int = 0, host: str = "127.0.0.1"):
    """Start an aiosmtpd server in a background thread; returns the controller (``.port``, ``.stop()``)."""
    import socket

    from aiosmtpd.controller import Controller

    if port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    controller = Controller(handler, hostname=host, port=port, ready_timeout=10, data_size_limit=10 * 1024 * 1024)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vivier.dispatch.sink", description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=None, help="write every message here as .eml")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    handler = SinkHandler(args.folder)
    controller = start_sink(handler, args.port)
    print(
        f"SMTP sink listening on 127.0.0.1:{controller.port}" + (f", writing to {args.folder}" if args.folder else "")
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    print(f"SMTP sink stopped after {sum(handler.received.values())} message(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
