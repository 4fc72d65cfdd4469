"""Inbox folders given as a local path, nothing (the default) or an object-storage URI."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_local_and_default_inboxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vivier_airflow.inbox import local_inbox

    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path / "data"))
    assert local_inbox("", tmp_path / "scratch") == tmp_path / "data" / "inbox"
    assert local_inbox(str(tmp_path / "elsewhere"), tmp_path / "scratch") == tmp_path / "elsewhere"


def test_an_object_storage_uri_is_copied_to_a_local_folder(tmp_path: Path) -> None:
    from vivier_airflow.inbox import local_inbox

    remote = tmp_path / "bucket" / "exports"
    remote.mkdir(parents=True)
    (remote / "greenhouse.json").write_text('[{"id": 1}]', encoding="utf-8")
    (remote / "recruteur.csv").write_bytes("Nom;E-mail\nDupont;é@x.fr\n".encode("cp1252"))

    local = local_inbox(f"file://{remote}", tmp_path / "scratch")
    assert local == tmp_path / "scratch"
    assert sorted(p.name for p in local.iterdir()) == ["greenhouse.json", "recruteur.csv"]
    assert (local / "recruteur.csv").read_bytes() == (remote / "recruteur.csv").read_bytes()
