"""The bulk paths of ingestion give what the set-based SQL and the per-text matcher give.

New persons are written with aggregates, identities and tags computed from the load, so the SQL
that recounts persons must find nothing to change; a very large first load on PostgreSQL checks
its foreign keys at the end and must leave the same rows and the same constraints.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.test_ingest_pipeline import greenhouse_export, write_json
from vivier.db.bulk import append_frame, create_temp_table, db_timestamp, load_frame
from vivier.db.schema import applications, persons
from vivier.db.sqlfiles import run_sql
from vivier.ingest import load as load_module
from vivier.ingest.pipeline import ingest_inbox
from vivier.ingest.stages import StageMap, fold
from vivier.ingest.tagging import _skills
from vivier.tagging.skills import SkillMatcher

AS_OF = pd.Timestamp("2026-11-02T01:00:00Z")
KEY = b"test-suppression-key"
AGGREGATES = [
    "applications_count",
    "first_applied_at",
    "last_applied_at",
    "last_rejected_at",
    "furthest_stage_rank",
    "furthest_stage",
    "is_silver_medalist",
    "rejection_side",
]


def run(engine: sa.Engine, inbox: Path, tmp_path: Path, run_id: str = "run-1", as_of: pd.Timestamp = AS_OF):
    return ingest_inbox(engine, inbox, work_dir=tmp_path / run_id, as_of=as_of, run_id=run_id, suppression_key=KEY)


def person_rows(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(sa.select(persons).order_by(persons.c.person_id), connection)


def recount_everyone(engine: sa.Engine) -> tuple[pd.DataFrame, dict[int, int]]:
    """What the SQL derives for every person from the applications table (rolled back)."""
    with engine.connect() as connection, connection.begin() as transaction:
        connection.exec_driver_sql("DROP TABLE IF EXISTS recount_persons")
        create_temp_table(connection, "recount_persons", {"person_id": "int"})
        connection.exec_driver_sql("INSERT INTO recount_persons (person_id) SELECT person_id FROM persons")
        run_sql(
            connection, "ingest/refresh_person_aggregates", silver_min_rank=StageMap.load().silver_medalist_min_rank
        )
        identities = {row.person_id: row.identities for row in run_sql(connection, "ingest/source_identities")[0]}
        recounted = pd.read_sql(sa.select(persons).order_by(persons.c.person_id), connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS recount_persons")
        transaction.rollback()
    return recounted, identities


def generated_inbox(folder: Path, seed: int, per_format: int = 150) -> Path:
    from vivier.synth import generate_export, generate_inbox

    generate_inbox(folder, applications_per_format=per_format, seed=seed, defects=0.05)
    generate_export("csv", folder / "bulk.csv", applications=3000, seed=seed + 1, defects=0.02)
    return folder


def test_aggregates_computed_from_the_load_are_what_the_sql_recounts(crm_engine, tmp_path: Path) -> None:
    files, counts = run(crm_engine, generated_inbox(tmp_path / "inbox", seed=21), tmp_path)
    assert counts.persons_new > 1000
    stored = person_rows(crm_engine)
    recounted, identities = recount_everyone(crm_engine)
    pd.testing.assert_frame_equal(stored[AGGREGATES], recounted[AGGREGATES])
    assert stored["applications_count"].sum() == counts.applications
    assert stored["is_silver_medalist"].astype(bool).any()
    # every person gathering several ATS identities in the load was audited as a merge
    with crm_engine.connect() as connection:
        merged = {
            int(row.entity_id): json.loads(row.details) if isinstance(row.details, str) else row.details
            for row in connection.execute(
                sa.text("SELECT entity_id, details FROM audit_log WHERE action = 'person.merge'")
            )
        }
    assert set(merged) == set(identities)
    assert all(merged[p]["identities_after"] == count for p, count in identities.items())


def test_a_second_export_recounts_the_persons_it_touches(crm_engine, tmp_path: Path) -> None:
    first = tmp_path / "first"
    run(crm_engine, generated_inbox(first, seed=31), tmp_path)
    # the same people again, some applications moved to another email, some new ones
    second = tmp_path / "second"
    second.mkdir()
    greenhouse = json.loads((first / "greenhouse_candidates.json").read_text(encoding="utf-8"))
    candidates = greenhouse if isinstance(greenhouse, list) else greenhouse["candidates"]
    for candidate in candidates[:25]:
        for address in candidate.get("email_addresses") or []:
            address["value"] = "moved." + address["value"]
    for candidate in candidates[25:60]:
        for application in candidate.get("applications") or []:
            application["status"] = "rejected"
            application["rejected_at"] = "2026-10-01T10:00:00Z"
    (second / "greenhouse_again.json").write_text(json.dumps(greenhouse), encoding="utf-8")
    files, counts = run(crm_engine, second, tmp_path, run_id="run-2", as_of=AS_OF + pd.Timedelta(days=1))
    assert counts.persons_new >= 1 and counts.persons_touched > counts.persons_new

    stored = person_rows(crm_engine)
    recounted, _ = recount_everyone(crm_engine)
    pd.testing.assert_frame_equal(stored[AGGREGATES], recounted[AGGREGATES])
    with crm_engine.connect() as connection:
        per_person = pd.read_sql(
            sa.select(applications.c.person_id, sa.func.count().label("n")).group_by(applications.c.person_id),
            connection,
        ).set_index("person_id")["n"]
    counted = stored.set_index("person_id")["applications_count"]
    assert (counted.reindex(per_person.index) == per_person).all(), "a person who lost an application is recounted"


def test_ties_between_applications_are_broken_as_the_sql_breaks_them(crm_engine, tmp_path: Path) -> None:
    def application(number: int, stage: str, side: str) -> dict:
        return {
            "id": number,
            "applied_at": "2026-03-01T09:00:00Z",
            "rejected_at": "2026-04-01T09:00:00Z",
            "status": "rejected",
            "current_stage": {"name": stage},
            "rejection_reason": {"name": "Other", "type": {"name": side}},
            "jobs": [{"id": number, "name": f"Job {number}"}],
        }

    candidates = [
        {
            "id": 1,
            "first_name": "Léa",
            "last_name": "Rossi",
            "email_addresses": [{"value": "lea@example.org", "type": "personal"}],
            # same rank and dates, different stage names and sides: the SQL decides by application id
            "applications": [
                application(10, "Entretien final", "We rejected them"),
                application(11, "Final interview", "They rejected us"),
                application(12, "Onsite", "We rejected them"),
            ],
        }
    ]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "gh.json").write_text(json.dumps(candidates), encoding="utf-8")
    run(crm_engine, inbox, tmp_path)
    stored = person_rows(crm_engine)
    recounted, _ = recount_everyone(crm_engine)
    pd.testing.assert_frame_equal(stored[AGGREGATES], recounted[AGGREGATES])
    assert stored.loc[0, "applications_count"] == 3 and stored.loc[0, "furthest_stage_rank"] == 4


def test_a_large_first_load_checks_keys_and_builds_indexes_at_the_end(crm_engine, tmp_path: Path, monkeypatch) -> None:
    inbox = generated_inbox(tmp_path / "inbox", seed=41, per_format=60)

    def constraints(engine: sa.Engine) -> list[tuple]:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            return sorted(
                (
                    table,
                    fk["name"],
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    fk["options"].get("ondelete"),
                )
                for table in load_module.FIRST_LOAD_TABLES
                for fk in inspector.get_foreign_keys(table)
            ) + sorted(
                (table, index["name"], tuple(index["column_names"]), bool(index.get("unique", True)))
                for table in load_module.FIRST_LOAD_TABLES
                for index in [*inspector.get_indexes(table), *inspector.get_unique_constraints(table)]
            )

    before = constraints(crm_engine)
    monkeypatch.setattr(load_module, "FIRST_LOAD_MIN_PERSONS", 1)
    files, counts = run(crm_engine, inbox, tmp_path)
    assert counts.persons_new > 0
    assert constraints(crm_engine) == before
    stored = person_rows(crm_engine)
    recounted, _ = recount_everyone(crm_engine)
    pd.testing.assert_frame_equal(stored[AGGREGATES], recounted[AGGREGATES])
    if crm_engine.dialect.name == "postgresql":  # the keys are enforced again
        with pytest.raises(sa.exc.IntegrityError), crm_engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO person_tags (person_id, kind, value) VALUES (-1, 'skill', 'python')"
            )
        with pytest.raises(sa.exc.IntegrityError), crm_engine.begin() as connection:  # and the unique key
            connection.exec_driver_sql(
                "INSERT INTO applications (person_id, source_system, source_application_id, status, created_at, "
                "updated_at) SELECT person_id, source_system, source_application_id, status, created_at, updated_at "
                "FROM applications LIMIT 1"
            )


def test_skills_matched_by_parts_equal_the_whole_text_match() -> None:
    texts = pd.Series(
        [
            "Python, JS",
            None,
            "",
            "C, C++,Go",
            "Go",
            "x,,Java Script, SQL, sql",
            "Python, JS",
            "AI, ai",
            "Node.js.,R",
            "Comptabilité,  COMPTABILITÉ ",
            " Go ,\tGo\n, R ",
            "PL/SQL, CI/CD,UI/UX",
            "Excel - VBA, Power BI",
        ],
        index=[f"row{i}" for i in range(13)],
    )
    matcher = SkillMatcher()
    pd.testing.assert_frame_equal(_skills(texts), matcher.extract(texts))
    for nothing in (pd.Series([None, None], dtype="string"), pd.Series([], dtype="string"), pd.Series(["", " , "])):
        assert _skills(nothing).empty and matcher.extract(nothing).empty


def test_stage_ranks_and_folding_work_on_distinct_values() -> None:
    stage_map = StageMap.load()
    names = pd.Series(["Entretien final", None, "  ", "Étape mystère", "entretien  FINAL", "Entretien final"])
    ranks = stage_map.rank(names)
    assert ranks.iloc[0] == ranks.iloc[4] == ranks.iloc[5] and ranks.iloc[1:4].isna().all()
    assert stage_map.is_known(names).tolist() == [True, True, True, False, True, True]
    assert fold(pd.Series(["  Été  Là ", None])).tolist() == ["ete la", pd.NA]


def test_bulk_writes_keep_values_and_order(crm_engine) -> None:
    frame = pd.DataFrame(
        {
            "n": pd.array([3, None, 2**40], dtype="Int64"),
            "label": pd.Categorical(["b", None, "a"]),
            "note": ["x", None, 'quote " and ;'],
            "at": pd.to_datetime(
                ["2026-01-02T03:04:05.123456Z", None, "1999-12-31T23:59:59Z"], utc=True, format="ISO8601"
            ),
        }
    )
    columns = {"n": "int", "label": "text", "note": "text", "at": "timestamp"}
    with crm_engine.begin() as connection:
        create_temp_table(connection, "bulk_target", {"position": "int", **columns})
        append_frame(connection, "bulk_target", frame.assign(position=[0, 1, 2]), {"position": "int", **columns})
        load_frame(connection, "bulk_target", frame.assign(position=[3, 4, 5]), {"position": "int", **columns})
        rows = connection.exec_driver_sql(
            "SELECT position, n, label, note, at FROM bulk_target ORDER BY position"
        ).all()
        connection.exec_driver_sql("DROP TABLE bulk_target")
    assert [r[1] for r in rows] == [3, None, 2**40] * 2
    assert [r[2] for r in rows] == ["b", None, "a"] * 2
    assert [r[3] for r in rows] == ["x", None, 'quote " and ;'] * 2
    stamps = [None if r[4] is None else pd.Timestamp(r[4]) for r in rows]
    stamps = [s if s is None or s.tzinfo else s.tz_localize("UTC") for s in stamps]
    expected = [pd.Timestamp("2026-01-02T03:04:05.123456Z"), None, pd.Timestamp("1999-12-31T23:59:59Z")]
    assert stamps == expected * 2


def test_bulk_writes_in_many_batches_keep_order_and_raise_a_batch_error(crm_engine, monkeypatch) -> None:
    """Large frames go in batches (on PostgreSQL the next batch is prepared while one is sent):
    every row arrives once, in order, and an error preparing a batch fails the write."""
    from vivier.db import bulk

    monkeypatch.setattr(bulk, "COPY_BATCH_ROWS", 7)
    monkeypatch.setattr(bulk, "SQLITE_BATCH_ROWS", 7)
    frame = pd.DataFrame({"position": np.arange(100), "label": [f"row {i}" for i in range(100)]})
    columns = {"position": "int", "label": "text"}
    with crm_engine.begin() as connection:
        create_temp_table(connection, "bulk_batches", columns)
        assert load_frame(connection, "bulk_batches", frame, columns) == 100
        rows = connection.exec_driver_sql("SELECT position, label FROM bulk_batches").all()
        connection.exec_driver_sql("DROP TABLE bulk_batches")
    assert rows == [(i, f"row {i}") for i in range(100)]  # a fresh table is read in insertion order
    if crm_engine.dialect.name != "postgresql":
        return
    prepared = bulk._copy_csv

    def fails_on_the_third_batch(batch: pd.DataFrame, batch_columns) -> bytes:
        if batch["position"].iloc[0] == 14:
            raise ValueError("cannot prepare this batch")
        return prepared(batch, batch_columns)

    monkeypatch.setattr(bulk, "_copy_csv", fails_on_the_third_batch)
    with crm_engine.connect() as connection, connection.begin():
        create_temp_table(connection, "bulk_batches", columns)
        with pytest.raises(ValueError, match="cannot prepare this batch"):
            load_frame(connection, "bulk_batches", frame, columns)


def test_person_aggregates_flag_ties_the_sql_breaks_by_application_id() -> None:
    apps = pd.DataFrame(
        {
            "person": [0, 0, 1, 1, 2],
            "stage_rank": pd.array([4, 4, 3, 2, None], dtype="Int64"),
            "stage_name": ["Final A", "Final B", "Tech", "Phone", None],
            "status": ["rejected", "rejected", "rejected", "active", "hired"],
            "applied_at": pd.to_datetime(["2026-01-01"] * 2 + ["2026-02-01", "2026-03-01", None], utc=True),
            "rejected_at": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-02-05", None, None], utc=True),
            "rejection_side": ["company", "candidate", "company", None, None],
            "source_system": ["greenhouse", "lever", "lever", "lever", "workable"],
            "source_person_id": ["1", "c9", None, None, None],
        }
    )
    aggregates, ambiguous, identities = load_module.person_aggregates(apps, 3, silver_min_rank=4)
    assert ambiguous.tolist() == [True, False, False]  # same rank and date, different stage names
    assert aggregates.loc[1, "furthest_stage"] == "Tech" and aggregates.loc[1, "furthest_stage_rank"] == 3
    assert aggregates.loc[0, "rejection_side"] == "candidate"  # the latest rejection
    assert bool(aggregates.loc[0, "is_silver_medalist"]) and not bool(aggregates.loc[1, "is_silver_medalist"])
    assert aggregates["applications_count"].tolist() == [2, 2, 1]
    assert pd.isna(aggregates.loc[2, "rejection_side"]) and pd.isna(aggregates.loc[2, "furthest_stage"])
    assert identities.tolist() == [2, 1, 1]
    assert np.asarray(aggregates["last_applied_at"])[1] == pd.Timestamp("2026-03-01", tz="UTC")


def test_a_first_load_keeps_row_checks_on_a_table_another_session_holds(
    postgres_url: str, tmp_path: Path, monkeypatch
) -> None:
    from vivier.db import make_engine, upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    monkeypatch.setattr(load_module, "FIRST_LOAD_MIN_PERSONS", 1)
    monkeypatch.setattr(load_module, "FIRST_LOAD_LOCK_TIMEOUT", "200ms")
    other = engine.connect()
    try:
        other.begin()
        other.exec_driver_sql("LOCK TABLE person_tags IN ACCESS SHARE MODE")  # a reader in the middle
        files, counts = run(engine, generated_inbox(tmp_path / "inbox", seed=51, per_format=40), tmp_path)
        other.rollback()
        assert counts.persons_new > 0 and counts.tags > 0
        with engine.connect() as connection:
            keys = {fk["name"] for fk in sa.inspect(connection).get_foreign_keys("person_tags")}
            tags = connection.exec_driver_sql("SELECT COUNT(*) FROM person_tags").scalar_one()
        assert keys == {"fk_person_tags_person_id_persons"} and tags == counts.tags
    finally:
        other.close()
        engine.dispose()


def test_a_load_run_again_after_it_committed_changes_nothing(crm_engine, tmp_path: Path) -> None:
    from vivier.ingest.load import load_ingestion
    from vivier.ingest.pipeline import build_people, file_accounting, find_new_files, normalise, parse_and_validate

    inbox = generated_inbox(tmp_path / "inbox", seed=61, per_format=40)
    staging = tmp_path / "staging"
    results = [
        parse_and_validate(f, staging_dir=staging, reports_dir=tmp_path / "reports", as_of=AS_OF)
        for f in find_new_files(crm_engine, inbox)
    ]
    people = build_people(
        crm_engine,
        [normalise(r.valid_path) for r in results if r.valid_path],
        staging_dir=staging,
        suppression_key=KEY,
        as_of=AS_OF,
    )
    files, quarantine = file_accounting(results, pd.read_parquet(people.suppressed_path))

    def load():
        return load_ingestion(
            crm_engine,
            files=files,
            persons=pd.read_parquet(people.persons_path),
            applications=pd.read_parquet(people.applications_path),
            tags=pd.read_parquet(people.tags_path),
            quarantine=quarantine,
            as_of=AS_OF,
            run_id="run-1",
        )

    def contents() -> dict[str, list]:
        with crm_engine.connect() as connection:
            return {
                table: sorted(map(repr, connection.exec_driver_sql(f"SELECT * FROM {table}").all()))
                for table in (
                    "persons",
                    "applications",
                    "person_tags",
                    "quarantine",
                    "ingested_files",
                    "audit_log",
                    "identity_suggestions",
                    "consent_events",
                    "consent_current",
                )
            }

    first = load()
    before = contents()
    again = load()  # e.g. the task retried after its transaction had committed
    assert contents() == before
    assert first.persons_new > 0 and again.persons_new == 0 and again.files == 0 and again.merges == 0


def test_a_first_load_by_a_role_that_may_not_alter_tables_checks_keys_row_by_row(
    postgres_url: str, tmp_path: Path, monkeypatch
) -> None:
    import uuid

    from vivier.db import make_engine, upgrade

    owner = make_engine(postgres_url)
    upgrade(owner)
    role = f"vivier_writer_{uuid.uuid4().hex[:8]}"
    with owner.begin() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        connection.exec_driver_sql(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
        connection.exec_driver_sql(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    writer = make_engine(sa.make_url(postgres_url).set(username=role))
    monkeypatch.setattr(load_module, "FIRST_LOAD_MIN_PERSONS", 1)
    try:
        files, counts = run(writer, generated_inbox(tmp_path / "inbox", seed=71, per_format=30), tmp_path)
        assert counts.persons_new > 0 and counts.tags > 0
        with owner.connect() as connection:
            keys = {fk["name"] for fk in sa.inspect(connection).get_foreign_keys("applications")}
        assert "fk_applications_person_id_persons" in keys
    finally:
        writer.dispose()
        with owner.begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')
        owner.dispose()


def _suggestions(connection: sa.Connection) -> list[tuple]:
    return sorted(
        connection.exec_driver_sql("SELECT person_id, other_person_id, rule, status FROM identity_suggestions").all()
    )


def test_suggestions_of_a_first_load_are_what_the_sql_finds(crm_engine, tmp_path: Path) -> None:
    """A load into a CRM without persons computes the review pairs from the load; the SQL that looks
    across the CRM finds the same ones."""
    inbox = generated_inbox(tmp_path / "inbox", seed=81, per_format=60)
    write_json(inbox, "a.json", greenhouse_export("lea@example.org", candidate_id=1))  # one phone, two emails
    write_json(inbox, "b.json", greenhouse_export("lea.rossi@work.example", candidate_id=2))
    files, counts = run(crm_engine, inbox, tmp_path)
    with crm_engine.connect() as connection, connection.begin() as transaction:
        from_the_load = _suggestions(connection)
        connection.exec_driver_sql("DELETE FROM identity_suggestions")
        connection.exec_driver_sql("DROP TABLE IF EXISTS touched_persons")
        create_temp_table(connection, "touched_persons", {"person_id": "int"})
        connection.exec_driver_sql("INSERT INTO touched_persons (person_id) SELECT person_id FROM persons")
        run_sql(connection, "ingest/identity_suggestions", as_of=db_timestamp(connection, AS_OF), max_group=5)
        from_the_sql = _suggestions(connection)
        transaction.rollback()
    assert counts.suggestions == len(from_the_load) > 0
    assert {rule for *_, rule, _ in from_the_load} == {"same_phone", "similar_name"}
    assert from_the_load == from_the_sql


def test_suggestion_pairs_skip_crowded_values_and_other_countries() -> None:
    from vivier.ingest.suggestions import suggestion_pairs

    persons_frame = pd.DataFrame(
        {
            "phone_e164": ["+33600000001", "+33600000001", None, None, "+33600000009", "+33600000009", "+33600000009"],
            "name_key": ["ana lima", "ana lima", "ana lima", "bo li", "bo li", None, None],
            "country": ["FR", "FR", "PT", "FR", None, "FR", "FR"],
        }
    )
    ids = np.array([10, 11, 12, 13, 14, 15, 16])
    pairs = suggestion_pairs(persons_frame, ids, max_group=2)
    # the switchboard number (3 people) and "ana lima" (3 people) are over max_group; "bo li" has
    # one country missing: no pair
    assert pairs.to_dict("records") == [{"person_id": 10, "other_person_id": 11, "rule": "same_phone"}]
    pairs = suggestion_pairs(persons_frame, ids, max_group=3)
    assert [tuple(r) for r in pairs.itertuples(index=False)] == [
        (10, 11, "same_phone"),
        (14, 15, "same_phone"),
        (14, 16, "same_phone"),
        (15, 16, "same_phone"),
        (10, 11, "similar_name"),
    ]
