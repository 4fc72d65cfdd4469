"""Incremental JSON writing: arrays of records written chunk by chunk, one record per line."""

from __future__ import annotations

import json
from json.encoder import encode_basestring as js  # the string encoder json.dumps(ensure_ascii=False) uses
from pathlib import Path
from typing import BinaryIO

__all__ = ["ENCODER", "JsonArray", "encode", "js", "jsn", "open_binary"]

ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
encode = ENCODER.encode


def jsn(value: str | None) -> str:
    """JSON for a string that may be missing."""
    return "null" if value is None else js(value)


BUFFER = 1 << 20
BATCH = 2000  # records joined per write


class JsonArray:
    """Writes ``prefix`` + records separated by ``,\\n`` + ``suffix`` into a binary stream."""

    def __init__(self, fh: BinaryIO, prefix: str, suffix: str) -> None:
        self.fh = fh
        self.suffix = suffix
        self.count = 0
        fh.write(prefix.encode("utf-8"))

    def write(self, encoded: list[str]) -> None:
        # joined and encoded a slice at a time, so that the bytes of a whole chunk never sit in memory
        for start in range(0, len(encoded), BATCH):
            text = ",\n".join(encoded[start : start + BATCH])
            if self.count:
                text = ",\n" + text
            self.fh.write(text.encode("utf-8"))
            self.count += len(encoded[start : start + BATCH])

    def close(self) -> None:
        self.fh.write(self.suffix.encode("utf-8"))


def open_binary(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "wb", buffering=BUFFER)
