"""A rendering worker process: ``python -m vivier.dispatch.render_worker`` (started by
``vivier.dispatch.rendering.RenderPool``, never by hand).

It reads pickled frames on stdin, each an 8-byte big-endian length then the pickle: first the
render settings and the templates to compile, then one chunk of jobs per frame, and ``None`` to
stop. For each chunk it writes one frame on stdout: ``("ok", RenderedChunk)`` or ``("error",
exception)``. It imports only what rendering needs (not the module that started the planning, as
a ``multiprocessing`` spawn would), and it stops when its stdin closes, so it never outlives the
planning process.
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import IO, Any

_LENGTH = struct.Struct(">Q")


def write_frame(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next value, or raises EOFError when the other side closed the pipe."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError("the pipe closed")
    (length,) = _LENGTH.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        raise EOFError("the pipe closed in the middle of a frame")
    return pickle.loads(data)


def _picklable(error: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{error.__class__.__name__}: {error}")


def main() -> int:
    from vivier.dispatch.rendering import Renderer

    inbox, outbox = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries frames only
    try:
        settings, templates = read_frame(inbox)
        failed: Exception | None = None
        try:
            renderer = Renderer(settings)
            for name in templates:  # compiled while the planning process still selects the audience
                for language in renderer.templates.languages(name):
                    renderer.templates.get(name, language)
        except Exception as error:  # reported with the first chunk
            failed = _picklable(error)
        while True:
            task = read_frame(inbox)
            if task is None:
                return 0
            try:
                if failed is not None:
                    raise failed
                reply: tuple[str, Any] = ("ok", renderer.render_rows(*task))
            except Exception as error:  # handed to the planning process, raised there
                reply = ("error", _picklable(error))
            write_frame(outbox, reply)
    except (EOFError, BrokenPipeError):
        return 0  # the planning process stopped


if __name__ == "__main__":
    raise SystemExit(main())
