"""The ``vivier`` command runs the package's tools without Airflow."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from vivier.cli import main
from vivier.db import make_engine
from vivier.db.schema import ingested_files, persons


def test_synth_migrate_and_ingest_from_the_command_line(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    export = tmp_path / "inbox" / "export.csv"
    export.parent.mkdir()
    assert main(["synth", "--format", "csv", "--applications", "100", "--seed", "3", "--out", str(export)]) == 0
    assert main(["migrate", "--db", url]) == 0
    assert main(["ingest", str(export.parent), "--db", url, "--work-dir", str(tmp_path / "work")]) == 0
    out = capsys.readouterr().out
    assert "export.csv: read 100, loaded 100, quarantined 0" in out
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(ingested_files)).scalar_one() == 1
        assert connection.execute(sa.select(sa.func.count()).select_from(persons)).scalar_one() > 0
    assert main(["ingest", str(export.parent), "--db", url, "--work-dir", str(tmp_path / "work")]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert main(["bogus"]) == 2
