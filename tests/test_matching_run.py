"""Matching against the CRM on SQLite and PostgreSQL: consent, manual re-runs, idempotence, views, shortlists."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
import sqlalchemy as sa

from vivier.db.schema import (
    consent_current,
    job_offer_skills,
    job_offers,
    matches,
    person_tags,
    persons,
    pool_members,
    pools,
)
from vivier.matching.config import MatchingConfig
from vivier.matching.reverse import best_offers_per_person
from vivier.matching.run import match_offers
from vivier.matching.shortlist import shortlist, to_csv, write_shortlists
from vivier.matching.store import OfferRequest, UnknownOffersError, UnknownPoolError
from vivier.matching.summary import demo_lines

AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")
LATER = pd.Timestamp("2026-11-08T00:00:00Z")


def add_person(connection: sa.Connection, name: str, skills: list[str], *, consent: str | None = "active", **values):
    """A person with skills and a job-offers consent row: active, withdrawn, expired, or none."""
    row = {
        "email": f"{name.lower().replace(' ', '.')}@example.org",
        "full_name": name,
        "language": "en",
        "country": "FR",
        "city": "Lyon",
        "headline": "Data Analyst",
        "furthest_stage_rank": 3,
        "is_silver_medalist": False,
        "rejection_side": "company",
        "last_contact_at": pd.Timestamp("2026-06-01", tz="UTC").to_pydatetime(),
        "age_band": "25-34",
        "created_at": AS_OF.to_pydatetime(),
        "updated_at": AS_OF.to_pydatetime(),
        **values,
    }
    person_id = connection.execute(persons.insert().returning(persons.c.person_id), row).scalar_one()
    if skills:
        connection.execute(
            person_tags.insert(),
            [{"person_id": person_id, "kind": "skill", "value": s, "evidence": s.upper()} for s in skills],
        )
    if consent is not None:
        expires = {"expired": AS_OF - pd.Timedelta(days=1), "active": None, "future": AS_OF + pd.Timedelta(days=30)}
        connection.execute(
            consent_current.insert(),
            {
                "person_id": person_id,
                "purpose": "job_offers",
                "status": "withdrawn" if consent == "withdrawn" else "granted",
                "is_active": consent != "withdrawn",
                "expires_at": None if expires.get(consent) is None else expires[consent].to_pydatetime(),
                "source": "admin",
                "last_event_id": 0,
                "updated_at": AS_OF.to_pydatetime(),
            },
        )
    return person_id


def add_offer(connection: sa.Connection, source_job_id: str, skills: dict[str, str], status: str = "open", **values):
    row = {
        "source_system": "greenhouse",
        "source_job_id": source_job_id,
        "title": f"Offer {source_job_id}",
        "location": "Lyon, France",
        "country": "FR",
        "language": "en",
        "status": status,
        "opened_at": (AS_OF - pd.Timedelta(days=3)).to_pydatetime(),
        "created_at": AS_OF.to_pydatetime(),
        "updated_at": AS_OF.to_pydatetime(),
        **values,
    }
    offer_id = connection.execute(job_offers.insert().returning(job_offers.c.job_offer_id), row).scalar_one()
    connection.execute(
        job_offer_skills.insert(),
        [{"job_offer_id": offer_id, "skill_id": s, "importance": i, "evidence": "test"} for s, i in skills.items()],
    )
    return offer_id


@pytest.fixture
def crm(crm_engine):
    """A small CRM: people with every consent state, two open offers and a closed one."""
    people = {}
    with crm_engine.begin() as connection:
        people["ana"] = add_person(connection, "Ana Active", ["python", "sql", "statistics"], is_silver_medalist=True)
        people["ben"] = add_person(connection, "Ben Future", ["python", "sql"], consent="future")
        people["cai"] = add_person(connection, "Cai Withdrawn", ["python", "sql", "statistics"], consent="withdrawn")
        people["dee"] = add_person(connection, "Dee Expired", ["python", "sql", "statistics"], consent="expired")
        people["eve"] = add_person(connection, "Eve Silent", ["python", "sql", "statistics"], consent=None)
        people["fay"] = add_person(
            connection, '=HYPERLINK("http://x")', ["python", "excel"], headline="<script>alert(1)</script>"
        )
        people["gus"] = add_person(connection, "Gus Designer", ["figma", "ux_design"], language="fr")
        offers = {
            "data": add_offer(connection, "100", {"python": "required", "sql": "required", "statistics": "nice"}),
            "design": add_offer(connection, "200", {"figma": "required", "ux_design": "required"}),
            "closed": add_offer(connection, "300", {"python": "required"}, status="closed"),
        }
    return crm_engine, people, offers


def match_rows(engine, offer_id: int | None = None) -> pd.DataFrame:
    query = sa.select(matches).order_by(matches.c.job_offer_id, matches.c.rank)
    if offer_id is not None:
        query = query.where(matches.c.job_offer_id == offer_id)
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).mappings().all(), columns=[c.name for c in matches.c])
    for column in ("matched_skills", "missing_skills"):
        frame[column] = frame[column].map(lambda v: v if isinstance(v, list) else json.loads(v))
    return frame


def test_only_people_with_current_consent_for_job_offers_are_matched(crm) -> None:
    engine, people, offers = crm
    summary = match_offers(engine, as_of=AS_OF, run_key="run-1")
    assert summary.pool == 4  # ana, ben (expires later), fay, gus
    rows = match_rows(engine, offers["data"])
    assert set(rows["person_id"]) == {people["ana"], people["ben"], people["fay"]}
    assert rows.iloc[0]["person_id"] == people["ana"]  # every skill, and a silver medalist
    assert rows.iloc[0]["matched_skills"] == ["sql", "python", "statistics"]  # required first, rarest first
    fay = rows.set_index("person_id").loc[people["fay"]]
    assert fay["matched_skills"] == ["python"] and fay["missing_skills"] == ["sql", "statistics"]
    assert "1/2 required skills (Python)" in fay["reason"]
    gus = match_rows(engine, offers["design"]).set_index("person_id").loc[people["gus"]]
    assert gus["reason"].startswith("2/2 compétences requises")  # in Gus's language
    assert match_rows(engine, offers["closed"]).empty
    assert summary.offers_open == 2 and summary.offers_matched == 2


def test_a_run_can_be_limited_to_the_current_members_of_one_pool(crm) -> None:
    engine, people, offers = crm
    with engine.begin() as connection:
        pool_id = connection.execute(
            pools.insert()
            .values(name="silver", definition={}, updated_at=AS_OF.to_pydatetime())
            .returning(pools.c.pool_id)
        ).scalar_one()
        stay = {"pool_id": pool_id, "joined_at": (AS_OF - pd.Timedelta(days=10)).to_pydatetime()}
        connection.execute(
            pool_members.insert(),
            [
                {**stay, "person_id": people["fay"], "left_at": None},
                {**stay, "person_id": people["cai"], "left_at": None},  # a member, but no consent
                {**stay, "person_id": people["ana"], "left_at": (AS_OF - pd.Timedelta(days=1)).to_pydatetime()},
            ],
        )
    summary = match_offers(engine, as_of=AS_OF, run_key="pool-run", pool="silver")
    assert summary.pool == 1
    assert set(match_rows(engine)["person_id"]) == {people["fay"]}
    with pytest.raises(UnknownPoolError, match="no pool named 'nope'; the pools are: silver"):
        match_offers(engine, as_of=AS_OF, run_key="pool-run", pool="nope")


def test_a_manual_run_rematches_only_the_requested_offers_and_is_idempotent(crm) -> None:
    engine, people, offers = crm
    match_offers(engine, as_of=AS_OF, run_key="nightly")
    design_before = match_rows(engine, offers["design"])
    with engine.begin() as connection:
        connection.execute(
            person_tags.insert(), {"person_id": people["gus"], "kind": "skill", "value": "python", "evidence": "py"}
        )
        connection.execute(person_tags.delete().where(person_tags.c.person_id == people["ben"]))

    request = OfferRequest.from_params([offers["data"]], None)
    summary = match_offers(engine, as_of=LATER, run_key="manual", request=request)
    assert summary.offers_selected == 1
    data_rows = match_rows(engine, offers["data"])
    assert people["ben"] not in set(data_rows["person_id"]) and people["gus"] in set(data_rows["person_id"])
    assert set(data_rows["run_key"]) == {"manual"}
    pd.testing.assert_frame_equal(match_rows(engine, offers["design"]), design_before)  # untouched

    match_offers(engine, as_of=LATER, run_key="manual", request=request)
    pd.testing.assert_frame_equal(match_rows(engine, offers["data"]), data_rows)


def test_offers_can_be_named_by_source_id_or_by_date_and_unknown_ids_fail(crm) -> None:
    engine, _, offers = crm
    by_source = match_offers(
        engine, as_of=AS_OF, run_key="r", request=OfferRequest.from_params(["greenhouse:200"], None)
    )
    assert by_source.job_offer_ids == [offers["design"]]
    with engine.begin() as connection:
        connection.execute(
            job_offers.update()
            .where(job_offers.c.job_offer_id == offers["design"])
            .values(updated_at=LATER.to_pydatetime(), opened_at=LATER.to_pydatetime())
        )
    since = match_offers(engine, as_of=LATER, run_key="r", request=OfferRequest.from_params([], "2026-11-05"))
    assert since.job_offer_ids == [offers["design"]] and since.offers_selected == 1
    with pytest.raises(UnknownOffersError, match="999999"):
        match_offers(engine, as_of=AS_OF, run_key="r", request=OfferRequest.from_params([999999], None))
    with pytest.raises(UnknownOffersError, match="source_system:source_job_id"):
        match_offers(engine, as_of=AS_OF, run_key="r", request=OfferRequest.from_params(["no colon"], None))


def test_a_closed_offer_loses_its_matches_at_the_next_full_run(crm) -> None:
    engine, _, offers = crm
    match_offers(engine, as_of=AS_OF, run_key="r1")
    assert not match_rows(engine, offers["data"]).empty
    with engine.begin() as connection:
        connection.execute(
            job_offers.update().where(job_offers.c.job_offer_id == offers["data"]).values(status="closed")
        )
    match_offers(engine, as_of=LATER, run_key="r2")
    assert match_rows(engine, offers["data"]).empty


def test_changing_age_or_any_unused_attribute_changes_no_stored_score(crm) -> None:
    engine, _, _ = crm
    match_offers(engine, as_of=AS_OF, run_key="r")
    before = match_rows(engine)
    with engine.begin() as connection:
        connection.execute(persons.update().values(age_band="55+", first_name="Changed", years_experience=40.0))
    match_offers(engine, as_of=AS_OF, run_key="r")
    pd.testing.assert_frame_equal(match_rows(engine), before)


def test_the_reverse_view_lists_each_persons_best_open_offers(crm) -> None:
    engine, people, offers = crm
    match_offers(engine, as_of=AS_OF, run_key="r")
    with engine.connect() as connection:
        best = best_offers_per_person(connection, AS_OF, per_person=1)
        later = best_offers_per_person(connection, AS_OF + pd.Timedelta(days=60), per_person=5)
    ana = best[best["person_id"] == people["ana"]].iloc[0]
    assert ana["job_offer_id"] == offers["data"] and ana["person_rank"] == 1
    assert set(ana["matched_skills"]) == {"python", "sql", "statistics"}
    assert best.groupby("person_id").size().max() == 1
    assert people["ben"] not in set(later["person_id"])  # his consent has expired by then


def test_shortlists_defuse_formulas_and_escape_html(crm, tmp_path) -> None:
    engine, people, offers = crm
    match_offers(engine, as_of=AS_OF, run_key="r")
    with engine.connect() as connection:
        rows = shortlist(connection, offers["data"])
    records = list(csv.reader(io.StringIO(to_csv(rows))))
    assert records[0][:4] == ["rank", "score", "person_id", "name"]
    names = [r[3] for r in records[1:]]
    assert '\'=HYPERLINK("http://x")' in names and not any(n.startswith("=") for n in names)
    paths = write_shortlists(engine, [offers["data"]], tmp_path)
    html = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "Python, SQL" in html or "Python" in html


def test_demo_lines_show_the_newest_offer_with_matched_and_missing_skills(crm) -> None:
    engine, _, _ = crm
    assert "No open job offer has matches" in demo_lines(engine)[0]
    match_offers(engine, as_of=AS_OF, run_key="r", config=MatchingConfig.load())
    lines = demo_lines(engine)
    assert lines[0].startswith("New offer #")
    assert any(line.strip().startswith("matched:") for line in lines)
    assert any(line.strip().startswith("missing:") for line in lines)
    assert not any("@example.org" in line for line in lines)
