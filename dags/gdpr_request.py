"""
### A data-subject request, now (manual)

Records and answers one GDPR request from the trigger form:
- **access** (Art. 15): a JSON export of everything held on the person, written under
  `data/gdpr/exports/` (readable by its owner only) and named in the request's row;
- **erasure** (Art. 17): every trace removed or anonymised in every table, and a keyed hash of the email
  kept on the suppression list so that no later import re-creates the person.

Name the person by `email` or by `person_id` (prefer the id: the run's configuration is stored by
Airflow, and an id is not personal data). With neither, the requests already received through the
preference centre are answered. The request row keeps only a keyed hash of the email, its received and
completed dates and the one-month deadline.

    airflow dags test gdpr_request -c '{"kind": "erasure", "email": "someone@example.org"}'
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

DEFAULT_ARGS = {"owner": "vivier", "retries": 1, "retry_delay": pendulum.duration(minutes=1)}


@dag(
    dag_id="gdpr_request",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    tags=["vivier", "gdpr"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    params={
        "kind": Param(
            "access",
            type="string",
            enum=["access", "erasure"],
            title="Request",
            description="access: export everything held on the person. erasure: forget them for good.",
        ),
        "email": Param(
            "",
            type="string",
            title="Email",
            description="The email the person wrote from (leave empty when giving a person id).",
        ),
        "person_id": Param(
            None,
            type=["null", "integer"],
            title="Person id",
            description="The CRM person_id, instead of the email.",
        ),
    },
)
def gdpr_request():
    @task
    def record_request() -> list[int] | None:
        """Record the request with its deadline (the email is kept only as a keyed hash)."""
        import pandas as pd

        from vivier.gdpr.requests import submit_request
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of
        from vivier_airflow.secrets import suppression_key

        context = get_current_context()
        params = context["params"]
        email, person_id = (params.get("email") or "").strip(), params.get("person_id")
        if not email and person_id is None:
            print("no email or person id given: answering the requests already received")
            return None
        with crm_engine().begin() as connection:
            request_id = submit_request(
                connection,
                params["kind"],
                email=email or None,
                person_id=person_id,
                received_at=pd.Timestamp(run_as_of(context)),
                source="admin",
                suppression_key=suppression_key(),
            )
        print(f"recorded {params['kind']} request {request_id}")
        return [request_id]

    @task
    def answer(request_ids: list[int] | None) -> list[dict]:
        """Export or erase, and complete the request."""
        import pandas as pd

        from vivier.gdpr.requests import process_pending
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_id
        from vivier_airflow.secrets import suppression_key

        context = get_current_context()
        outcomes = process_pending(
            crm_engine(),
            as_of=pd.Timestamp(run_as_of(context)),
            exports_dir=data_dir() / "gdpr" / "exports",
            suppression_key=suppression_key(),
            run_id=run_id(context),
            request_ids=request_ids,
        )
        for outcome in outcomes:
            print(f"request {outcome.request_id} ({outcome.kind}): {outcome.status} - {outcome.outcome}")
        return [{"request_id": o.request_id, "kind": o.kind, "status": o.status} for o in outcomes]

    answer(record_request())


gdpr_request()
