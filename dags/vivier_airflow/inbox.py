"""Inbox folders given as local paths or as object-storage URIs (``s3://...`` where the provider is installed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from vivier.paths import data_dir


def default_inbox() -> Path:
    return data_dir() / "inbox"


def local_inbox(inbox: str | None, scratch: Path) -> Path:
    """A local folder holding the inbox's files: the folder itself, or a copy of a remote one."""
    if not inbox:
        return default_inbox()
    if "://" not in inbox:
        return Path(inbox).expanduser()
    from airflow.sdk import ObjectStoragePath

    remote = ObjectStoragePath(inbox)
    scratch.mkdir(parents=True, exist_ok=True)
    for item in remote.iterdir():
        if item.is_file():
            with item.open("rb") as source, (scratch / item.name).open("wb") as target:
                shutil.copyfileobj(source, target)
    return scratch


def run_inbox(context: dict) -> Path:
    """The running DAG's inbox (its ``inbox`` param, else ``data/inbox/``), copied locally if remote."""
    from vivier_airflow.runs import run_folder

    scratch = run_folder(data_dir() / "staging", context) / "inbox"
    inbox = local_inbox(context["params"]["inbox"], scratch)
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox folder {inbox} does not exist")
    return inbox
