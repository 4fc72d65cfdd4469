"""The CRM database is found through the Airflow connection ``crm_db``, with a SQLite default."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from vivier.db import crm_url_from_connection, default_crm_url
from vivier.db.engine import make_engine


def test_postgres_connection_fields_become_a_psycopg3_url() -> None:
    url = crm_url_from_connection(
        "postgres",
        host="db.internal",
        port=5433,
        login="vivier",
        password="s3cr@t/",
        schema="crm",
        extra={"sslmode": "require"},
    )
    parsed = sa.make_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.host, parsed.port, parsed.username, parsed.password, parsed.database) == (
        "db.internal",
        5433,
        "vivier",
        "s3cr@t/",
        "crm",
    )
    assert parsed.query == {"sslmode": "require"}


def test_sqlite_connection_names_the_file() -> None:
    assert crm_url_from_connection("sqlite", schema="/srv/crm.sqlite") == "sqlite:////srv/crm.sqlite"


def test_unknown_connection_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="mysql.*not supported"):
        crm_url_from_connection("mysql", host="x")


def test_default_is_the_embedded_sqlite_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path))
    assert default_crm_url() == f"sqlite:///{tmp_path / 'crm.sqlite'}"


def test_psycopg2_style_urls_are_served_by_psycopg3(postgres_admin_url: str) -> None:
    legacy = sa.make_url(postgres_admin_url).set(drivername="postgresql")
    engine = make_engine(legacy)
    assert engine.url.drivername == "postgresql+psycopg"
    with engine.connect() as connection:
        assert connection.execute(sa.text("select 1")).scalar_one() == 1
    engine.dispose()


def test_airflow_connection_uri_env_var_is_honoured(crm_connection_env: str) -> None:
    from vivier_airflow.crm import crm_engine, crm_url

    assert sa.make_url(crm_url()).database == sa.make_url(crm_connection_env).database
    from vivier.db import OutdatedSchemaError

    with pytest.raises(OutdatedSchemaError):
        crm_engine()


def test_airflow_connection_json_env_var_is_honoured(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from vivier_airflow.crm import crm_url

    target = sa.make_url(postgres_url)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CRM_DB",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": target.host,
                "port": target.port,
                "login": target.username,
                "schema": target.database,
            }
        ),
    )
    resolved = sa.make_url(crm_url())
    assert (resolved.drivername, resolved.database) == ("postgresql+psycopg", target.database)


def test_undefined_connection_falls_back_to_sqlite(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from vivier_airflow.crm import crm_url

    monkeypatch.delenv("AIRFLOW_CONN_CRM_DB", raising=False)
    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path))
    assert crm_url() == f"sqlite:///{tmp_path / 'crm.sqlite'}"


def test_migrate_command_upgrades_the_connection_database(crm_connection_env: str, capsys) -> None:
    from vivier.db import current_revision, head_revision
    from vivier_airflow.crm import main

    assert main(["check"]) == 1
    assert main(["migrate"]) == 0
    assert f"-> {head_revision()}" in capsys.readouterr().out
    assert main(["check"]) == 0
    engine = make_engine(crm_connection_env)
    assert current_revision(engine) == head_revision()
    engine.dispose()
