"""The daily rejection_feedback DAG run for real with dag.test(): bounces and complaints suppress
before planning, each rejected application gets one email, a re-run sends nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import DAGS_DIR
from vivier.db import make_engine, upgrade
from vivier.db.schema import applications, outbox, suppression_list
from vivier.dispatch.sink import SinkHandler, start_sink
from vivier.dispatch.synthetic import person_email, seed_population


@pytest.mark.airflow
def test_rejection_feedback_reads_bounces_then_mails_each_rejection_once(
    airflow_db, crm_connection_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from vivier_airflow.secrets import DEMO_SUPPRESSION_KEY

    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path / "data"))
    handler = SinkHandler(tmp_path / "sink")
    controller = start_sink(handler)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": controller.port,
                "extra": {"disable_ssl": True, "disable_tls": True},
            }
        ),
    )
    engine = make_engine(crm_connection_env)
    upgrade(engine)
    seed_population(
        engine,
        150,
        as_of=pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1),
        suppression_key=DEMO_SUPPRESSION_KEY.encode(),
        suppressed_share=0.0,
        rejected_share=0.4,
    )
    with engine.connect() as connection:
        rejected = connection.execute(sa.select(applications.c.person_id)).scalars().all()
    bounced = rejected[0]
    feedback = tmp_path / "feedback"
    feedback.mkdir()
    (feedback / "bounces.csv").write_text(f"email,kind\n{person_email(bounced)},hard_bounce\n", encoding="utf-8")

    try:
        dag = DagBag(dag_folder=str(DAGS_DIR / "rejection_feedback.py")).get_dag("rejection_feedback")
        run = dag.test(run_conf={"feedback_folder": str(feedback)})
        assert run.state == "success"
        with engine.connect() as connection:
            sent = (
                connection.execute(
                    sa.select(outbox.c.person_id).where(
                        outbox.c.campaign == "rejection_feedback", outbox.c.state == "sent"
                    )
                )
                .scalars()
                .all()
            )
            suppressed = connection.execute(sa.select(sa.func.count()).select_from(suppression_list)).scalar_one()
        assert suppressed == 1 and bounced not in sent
        assert sorted(sent) == sorted(p for p in rejected if p != bounced), "one email per rejected application"
        assert sum(handler.received.values()) == len(sent) and len(list((tmp_path / "sink").glob("*.eml"))) == len(sent)

        again = dag.test(run_conf={"feedback_folder": str(feedback)})
        assert again.state == "success" and sum(handler.received.values()) == len(sent)
    finally:
        controller.stop()
        engine.dispose()
