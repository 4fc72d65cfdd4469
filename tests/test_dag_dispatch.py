"""The weekly, monthly and quarterly dispatch DAGs run for real with dag.test() against a local SMTP
server (aiosmtpd on loopback): mail arrives once, a re-run of the period sends nothing, a dry run
leaves .eml files and the outbox untouched."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import DAGS_DIR
from vivier.db import make_engine, upgrade
from vivier.db.schema import dispatch_batches, outbox
from vivier.dispatch.sink import SinkHandler, start_sink
from vivier.dispatch.synthetic import seed_population


def load_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    path = DAGS_DIR / f"{dag_id}.py"
    if not path.exists():  # the monthly and quarterly digests share one file
        path = DAGS_DIR / "dispatch_digests.py"
    return DagBag(dag_folder=str(path)).get_dag(dag_id)


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch):
    """An aiosmtpd server, named by the Airflow connection smtp_default (plain SMTP on loopback)."""
    handler = SinkHandler()
    controller = start_sink(handler)
    connection = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": controller.port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "talent@vivier.test"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(connection))
    yield handler
    controller.stop()


@pytest.fixture
def populated_crm(crm_connection_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    from vivier_airflow.secrets import DEMO_SUPPRESSION_KEY

    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(crm_connection_env)
    upgrade(engine)
    seed_population(
        engine,
        120,
        as_of=pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1),
        suppression_key=DEMO_SUPPRESSION_KEY.encode(),
        content_share=0.8,
    )
    yield engine
    engine.dispose()


def outbox_by_state(engine: sa.Engine, campaign_prefix: str) -> Counter:
    with engine.connect() as connection:
        return Counter(
            connection.execute(sa.select(outbox.c.state).where(outbox.c.campaign.startswith(campaign_prefix))).scalars()
        )


@pytest.mark.airflow
def test_dispatch_weekly_sends_each_digest_once_and_a_rerun_sends_nothing(airflow_db, populated_crm, smtp_sink) -> None:
    dag = load_dag("dispatch_weekly")
    run = dag.test()
    assert run.state == "success"
    states = outbox_by_state(populated_crm, "weekly_offers")
    assert states["sent"] > 20 and set(states) == {"sent"}
    assert sum(smtp_sink.received.values()) == states["sent"] and max(smtp_sink.received.values()) == 1

    again = dag.test()
    assert again.state == "success"
    assert sum(smtp_sink.received.values()) == states["sent"], "a re-run of the week sends nothing"
    with populated_crm.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(dispatch_batches)).scalar_one() == 1


@pytest.mark.airflow
def test_dispatch_monthly_loads_the_catalogue_and_sends_content_and_offers(
    airflow_db, populated_crm, smtp_sink
) -> None:
    run = load_dag("dispatch_monthly").test(run_conf={"render_partitions": 2})  # both campaigns in both tasks
    assert run.state == "success" and task_states(run)[("render", "success")] == 2
    content, offers = (
        outbox_by_state(populated_crm, "monthly_content"),
        outbox_by_state(populated_crm, "monthly_offers"),
    )
    assert content["sent"] > 20 and offers["sent"] > 0
    assert sum(smtp_sink.received.values()) == content["sent"] + offers["sent"]
    with populated_crm.connect() as connection:
        loaded = connection.execute(sa.text("SELECT COUNT(*) FROM content_items")).scalar_one()
    assert loaded > 30


@pytest.mark.airflow
def test_dispatch_quarterly_dry_run_writes_eml_files_and_sends_nothing(
    airflow_db, populated_crm, smtp_sink, tmp_path: Path
) -> None:
    folder = tmp_path / "eml"
    run = load_dag("dispatch_quarterly").test(run_conf={"dry_run": True, "eml_folder": str(folder)})
    assert run.state == "success"
    files = list(folder.rglob("*.eml"))
    planned = outbox_by_state(populated_crm, "quarterly_")
    assert files and len(files) == planned["planned"] and set(planned) == {"planned"}
    assert sum(smtp_sink.received.values()) == 0
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in files[0].read_bytes()


def test_smtp_default_fields_follow_the_airflow_smtp_provider() -> None:
    from vivier_airflow.smtp import settings_from_fields

    implicit_tls = settings_from_fields("smtp.example.test")
    assert (implicit_tls.use_ssl, implicit_tls.starttls, implicit_tls.port) == (True, False, 465)
    starttls = settings_from_fields("smtp.example.test", None, "u", "s3cret", {"disable_ssl": "true"})
    assert (starttls.use_ssl, starttls.starttls, starttls.port, starttls.login) == (False, True, 587, "u")
    assert "s3cret" not in starttls.describe() and "s3cret" not in repr(starttls)
    plain = settings_from_fields("127.0.0.1", 2525, extra={"disable_ssl": True, "disable_tls": True, "timeout": 5})
    assert (plain.use_ssl, plain.starttls, plain.port, plain.timeout) == (False, False, 2525, 5.0)


def task_states(run) -> Counter:
    """(task_id, state) of every task instance of a dag.test() run (mapped ones once per index)."""
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        instances = session.query(TaskInstance).filter(
            TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id
        )
        return Counter((ti.task_id, str(ti.state)) for ti in instances)


@pytest.mark.airflow
def test_dispatch_weekly_renders_in_two_partitions_and_a_rerun_sends_nothing(
    airflow_db, populated_crm, smtp_sink
) -> None:
    dag = load_dag("dispatch_weekly")
    run = dag.test(run_conf={"render_partitions": 2})
    assert run.state == "success"
    assert task_states(run)[("render", "success")] == 2
    states = outbox_by_state(populated_crm, "weekly_offers")
    assert states["sent"] > 20 and set(states) == {"sent"}
    assert sum(smtp_sink.received.values()) == states["sent"] and max(smtp_sink.received.values()) == 1
    with populated_crm.connect() as connection:
        batch = connection.execute(sa.select(dispatch_batches)).one()
        staging = connection.execute(sa.text("SELECT COUNT(*) FROM dispatch_stage_parts")).scalar_one()
    assert batch.sent == states["sent"] and batch.finalised_at is not None and staging == 0

    again = dag.test(run_conf={"render_partitions": 3})
    assert again.state == "success" and task_states(again)[("render", "success")] == 3
    assert sum(smtp_sink.received.values()) == states["sent"], "a re-run of the week sends nothing"
    assert outbox_by_state(populated_crm, "weekly_offers") == states


@pytest.mark.airflow
def test_dispatch_weekly_with_an_empty_audience_succeeds_and_sends_nothing(
    airflow_db, crm_connection_env: str, smtp_sink
) -> None:
    engine = make_engine(crm_connection_env)
    upgrade(engine)
    run = load_dag("dispatch_weekly").test(run_conf={"render_partitions": 2})
    assert run.state == "success"
    assert task_states(run)[("render", "success")] == 2
    with engine.connect() as connection:
        batch = connection.execute(sa.select(dispatch_batches)).one()
        messages = connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
    engine.dispose()
    assert (batch.messages, messages, sum(smtp_sink.received.values())) == (0, 0, 0)
    assert batch.finalised_at is not None
