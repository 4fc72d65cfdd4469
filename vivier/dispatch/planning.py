"""Planning: who gets which message for a (campaign, period), rendered and frozen in the outbox.

One transaction per (campaign, period): the batch row, then every message, or nothing. The
audience is chosen in SQL (consent as of the run's logical date, frequency preference, no message
of this campaign and period yet), suppressed addresses are dropped, the frequency cap turns the
surplus into ``skipped`` rows, and the rest is rendered in the person's language (or the fallback)
and written in bulk with a deterministic Message-ID.

The DAGs plan in parts instead, so that several workers can share the rendering (see
``vivier.dispatch.staging``): :meth:`Planner.stage` decides and stages the jobs (batch row, audience,
cap, skipped rows, in one transaction), :meth:`Planner.render_part` renders and writes one slice (one
transaction each, never twice), :meth:`Planner.finalise` records the batch and makes it deliverable.
Any split writes the same rows as :meth:`Planner.plan`.

- ``rejection_feedback`` (transactional): one email per rejected application, the personal version
  from the configured stage rank, the short one before; never to a suppressed address.
- ``consent_renewal`` (transactional): the retention notices that are due.
- job-offer digests (bulk, purpose ``job_offers``): the best open offers matched to the person.
- content digests (bulk): catalogue items chosen per person by purpose, language and segment.
"""

from __future__ import annotations

import gc
import re
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import db_timestamp, stage_frame
from vivier.db.sqlfiles import run_sql
from vivier.dispatch.config import Campaign, DispatchConfig
from vivier.dispatch.contexts import first_name_of, format_date, sample_context
from vivier.dispatch.links import PreferenceLinks
from vivier.dispatch.messages import make_message_id
from vivier.dispatch.outbox import (
    OUTBOX_COLUMNS,
    PlanResult,
    existing_batch,
    finish_batch,
    start_batch,
    write_messages,
    write_rendered,
)
from vivier.dispatch.periods import as_utc, period_key
from vivier.dispatch.rendering import (
    ROW_COLUMNS,
    Renderer,
    RenderPool,
    RenderSettings,
    RowValues,
    render_in_chunks,
    worker_count,
)
from vivier.dispatch.selection import choose_content, top_offers
from vivier.dispatch.staging import (
    StagedBatch,
    StagingProblem,
    batch_state,
    drop_staging,
    lock_batch,
    lock_part,
    mark_rendered,
    now_utc,
    read_jobs,
    rendered_parts,
    skip_counts,
    write_parts,
)
from vivier.dispatch.templating import TemplateCatalogue
from vivier.ingest.people import email_hmacs

if tuple(OUTBOX_COLUMNS) != ROW_COLUMNS:  # pragma: no cover - a guard for whoever edits the columns
    raise RuntimeError("vivier.dispatch.rendering writes outbox rows in another column order")


def _frame(result: sa.CursorResult) -> pd.DataFrame:
    columns = list(result.keys())
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=columns)


def _text(value: Any) -> str:
    """A text field of a row ('' for None and NaN)."""
    return value if isinstance(value, str) else ""


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts of Python values: far faster to loop over than DataFrame rows.

    Missing values stay as pandas gives them (None or NaN): read text fields with ``_text``."""
    columns = list(frame.columns)
    return [
        dict(zip(columns, values, strict=True)) for values in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


def _grouped(frame: pd.DataFrame, key: str) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in _records(frame):
        groups.setdefault(row[key], []).append(row)
    return groups


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the jobs are built: they are a few hundred thousand small
    dicts and lists without cycles, and the collector would scan the growing heap again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _split_reasons(reason: Any) -> list[str]:
    """The recorded rejection reason as a list (recruiters separate several with ';' or new lines)."""
    if not isinstance(reason, str):
        return []
    return [part.strip() for part in re.split(r"[;\n]+", reason) if part.strip()]


def _id_or_none(value: Any) -> int | None:
    """An id read through pandas as a plain int (None for a missing one)."""
    if value is None or isinstance(value, float) and value != value:
        return None
    return int(value)


# A job is a plain dict (see Planner._job): what the renderer needs for one message, with
# ``consents`` [(purpose, consent_event_id)] and ``items`` [(kind, item_ref, purpose)], the
# outbox's record of what the message carries. Jobs cross to the rendering processes by pickle.
Job = dict[str, Any]


@dataclass
class Planner:
    """Plans campaigns into the outbox (one instance per run: templates compiled once)."""

    config: DispatchConfig
    templates: TemplateCatalogue
    links: PreferenceLinks
    suppression_key: bytes
    skill_labels: Callable[[str], dict[str, str]] | None = None
    _labels: dict[str, dict[str, str]] = field(default_factory=dict, init=False, repr=False)
    _pool: RenderPool | None = field(default=None, init=False, repr=False)  # during plan()

    # ------------------------------------------------------------------ entry point
    def plan(self, engine: sa.Engine, campaign: str, as_of: Any, run_id: str | None = None) -> PlanResult:
        """Plan ``campaign`` for the period ``as_of`` falls in; a period already planned is left as it is."""
        spec = self.config.campaign(campaign)
        as_of = as_utc(as_of)
        period = period_key(spec.cadence or "daily", as_of)
        with engine.begin() as connection:
            batch_id = start_batch(connection, campaign, period, spec.kind, as_of, run_id)
            if batch_id is None:
                return PlanResult(campaign, period, existing_batch(connection, campaign, period), created=False)
            result = PlanResult(campaign, period, batch_id, created=True)
            settings = self.config.planning
            processes = worker_count(settings.parallel_from, settings.workers, settings.parallel_from)
            self._pool = RenderPool(self.render_settings, processes)
            try:
                with _collector_paused():
                    jobs, skipped = self._jobs_for(spec)(connection, spec, result, as_of)
                self._render_and_write(connection, spec, result, jobs, skipped, as_of)
            except BaseException:
                self._pool.close()
                raise
            else:
                self._pool.close(wait=True)
            finally:
                self._pool = None
            finish_batch(connection, result, finalised_at=now_utc())
        return result

    # ------------------------------------------------------------------ in parts (mapped tasks)
    def stage(
        self, engine: sa.Engine, campaign: str, as_of: Any, run_id: str | None = None, parts: int = 1
    ) -> StagedBatch:
        """Decide ``campaign``'s messages for the period ``as_of`` falls in (audience, suppression,
        frequency cap, offers or content per person) and stage them in up to ``parts`` slices of the
        audience, rendered later by :meth:`render_part` and closed by :meth:`finalise`.

        One transaction: the batch row, the capped people's ``skipped`` rows and the staged parts.
        A period staged before is not staged again: its parts still to render are returned."""
        spec = self.config.campaign(campaign)
        as_of = as_utc(as_of)
        period = period_key(spec.cadence or "daily", as_of)
        with engine.begin() as connection:
            batch_id = start_batch(connection, campaign, period, spec.kind, as_of, run_id)
            if batch_id is None:
                batch_id = existing_batch(connection, campaign, period)
                finalised, pending = batch_state(connection, batch_id)
                return StagedBatch(campaign, period, batch_id, finalised=finalised, parts=pending)
            result = PlanResult(campaign, period, batch_id, created=True)
            with _collector_paused():
                jobs, capped = self._jobs_for(spec)(connection, spec, result, as_of)
            templates = self._check_jobs(jobs)
            self._write_skipped(connection, spec, result, capped, as_of)
            numbers = write_parts(connection, self.suppression_key, batch_id, jobs, templates, parts)
        return StagedBatch(
            campaign, period, batch_id, created=True, staged=len(jobs), parts=numbers, skipped=dict(result.skipped)
        )

    def render_part(self, engine: sa.Engine, batch_id: int, part: int) -> dict[str, Any]:
        """Render one staged part and write its messages, in one transaction; a part rendered
        already (a retried or re-run task) writes nothing. Counts only in the result."""
        settings = self.config.planning
        with engine.begin() as connection:
            locked = lock_part(connection, batch_id, part)
            if locked is None or locked[0].rendered:
                messages = locked[0].messages if locked is not None else 0
                return {"batch_id": batch_id, "part": part, "rendered_now": False, "messages": messages}
            staged, row = locked
            # the rendering processes start (and compile the campaign's templates) while the part is read
            processes = worker_count(int(row.jobs), settings.workers, settings.parallel_from)
            pool = RenderPool(self.render_settings, processes)
            versions: dict[str, str] = {}
            written = 0
            try:
                pool.start(sorted(set(self.config.campaign(staged.campaign).templates.values())))
                read_jobs(connection, self.suppression_key, staged, row)
                values = RowValues(staged.planned_at, batch_id, staged.is_bulk)
                for chunk in render_in_chunks(
                    self.render_settings,
                    staged.jobs,
                    values,
                    processes=processes,
                    chunk_size=settings.chunk_size,
                    renderer=self.renderer,
                    pool=pool,
                ):
                    versions.update(chunk.versions)
                    written += write_rendered(connection, chunk.messages, chunk.consents, chunk.items)
            except BaseException:
                pool.close()
                raise
            else:
                pool.close(wait=True)
            mark_rendered(connection, batch_id, part, written, versions)
        return {"batch_id": batch_id, "part": part, "rendered_now": True, "messages": written}

    def finalise(self, engine: sa.Engine, batch_id: int) -> PlanResult:
        """Close a batch whose parts are all rendered: its counts, skip reasons and template versions,
        and the time it became deliverable, in one transaction; the staging is dropped. A batch
        finalised already is left as it is (``created`` False, like a period planned before)."""
        with engine.begin() as connection:
            batch = lock_batch(connection, batch_id)
            if batch is None:
                raise StagingProblem(f"no dispatch batch {batch_id}")
            result = PlanResult(batch.campaign, batch.period, batch_id, created=False)
            if batch.finalised_at is not None:
                return result
            result.created = True
            result.planned, result.template_versions = rendered_parts(connection, batch_id)
            result.skipped = skip_counts(connection, batch_id)
            finish_batch(connection, result, finalised_at=now_utc())
            drop_staging(connection, batch_id)
        return result

    def _expect(self, messages: int, template: str) -> None:
        """About ``messages`` messages of ``template`` are coming: start the rendering workers now
        if there will be enough of them."""
        if self._pool is not None and messages >= self.config.planning.parallel_from:
            self._pool.start([template])

    def _jobs_for(self, spec: Campaign) -> Callable[..., tuple[list[Job], set[int]]]:
        if spec.name == "rejection_feedback":
            return self._rejection_jobs
        if spec.name == "consent_renewal":
            return self._renewal_jobs
        if not spec.is_bulk:
            raise ValueError(f"no planner for the transactional campaign {spec.name!r}")
        if tuple(spec.purposes) == ("job_offers",):
            return self._offer_jobs
        return self._content_jobs

    # ------------------------------------------------------------------ shared steps
    @cached_property
    def render_settings(self) -> RenderSettings:
        return RenderSettings(
            templates_dir=self.templates.templates_dir,
            fallback_languages=self.templates.fallback,
            links_base_url=self.links.base_url,
            links_keys=self.links.keys,
            message_id_domain=self.config.message_id_domain,
            company=dict(self.config.company),
            sender_name=self.config.sender_name,
        )

    @cached_property
    def renderer(self) -> Renderer:
        return Renderer(self.render_settings, self.templates)  # shares the compiled templates

    def check_templates(self, template: str, languages: set[str]) -> None:
        """Compile and render each (template, language) for a synthetic persona before any real one."""
        for language in sorted(languages):
            compiled = self.templates.get(template, language)
            compiled.render(sample_context(template, compiled.language, self.config))

    def _language_map(self, template: str, languages: pd.Series) -> pd.Series:
        resolved = {lang: self.templates.resolve_language(template, lang) for lang in languages.dropna().unique()}
        fallback = self.templates.resolve_language(template, None)
        return languages.map(resolved).fillna(fallback)

    def purpose_labels(self, language: str) -> dict[str, str]:
        if language not in self._labels:
            self._labels[language] = self.config.labels(language)
        return self._labels[language]

    @cached_property
    def _skills(self) -> Callable[[str], dict[str, str]]:
        if self.skill_labels is not None:
            return self.skill_labels
        from vivier.tagging.taxonomy import SkillTaxonomy

        taxonomy = SkillTaxonomy.load()
        cache: dict[str, dict[str, str]] = {}

        def labels(language: str) -> dict[str, str]:
            if language not in cache:
                cache[language] = taxonomy.labels(language)
            return cache[language]

        return labels

    def _stage_recipients(self, connection: sa.Connection, people: pd.DataFrame) -> pd.DataFrame:
        """Stage (person_id, email_hmac) of ``people``; returns them without the suppressed ones."""
        recipients = people[["person_id", "email"]].drop_duplicates("person_id").copy()
        recipients["email_hmac"] = email_hmacs(recipients["email"].astype(str), self.suppression_key)
        stage_frame(
            connection,
            "dispatch_recipients",
            recipients[["person_id", "email_hmac"]],
            {"person_id": "int", "email_hmac": "text"},
        )
        (found,) = run_sql(connection, "dispatch/suppressed_recipients")
        suppressed = {row[0] for row in found}
        hmacs = dict(zip(recipients["person_id"], recipients["email_hmac"], strict=True))
        kept = people[~people["person_id"].isin(suppressed)].copy()
        kept["email_hmac"] = kept["person_id"].map(hmacs)
        return kept

    def _capped(self, connection: sa.Connection, person_ids: pd.Series, as_of: pd.Timestamp) -> set[int]:
        """People at the frequency cap (bulk messages already in the window)."""
        window_start = as_of - pd.Timedelta(days=self.config.cap_window_days)
        (rows,) = run_sql(
            connection,
            "dispatch/recent_bulk_counts",
            window_start=db_timestamp(connection, window_start),
            as_of=db_timestamp(connection, as_of),
        )
        recent = {int(person_id): int(count) for person_id, count in rows}
        return {int(p) for p in person_ids.unique() if recent.get(int(p), 0) >= self.config.cap_max_messages}

    def _job(
        self,
        spec: Campaign,
        period: str,
        person: dict[str, Any],
        template: str,
        mail_kind: str,
        purposes: list[str],
        context: dict[str, Any],
        links: dict[str, Any],
        *,
        consent_event_id: Any = None,
        consents: list[tuple[str, int | None]] | None = None,
        items: list[tuple[str, str, str | None]] | None = None,
    ) -> Job:
        language = person["language"]
        labels = self.purpose_labels(language)
        return {
            "campaign": spec.name,
            "period": period,
            "person_id": int(person["person_id"]),
            "email": str(person["email"]),
            "email_hmac": str(person["email_hmac"]),
            "full_name": _text(person["full_name"]),
            "first_name": first_name_of(person["first_name"], person["full_name"]),
            "language": language,
            "template": template,
            "mail_kind": mail_kind,
            "purpose_labels": [labels.get(p, p) for p in purposes],
            "links": links,
            "context": context,
            "consent_event_id": _id_or_none(consent_event_id),
            "consents": [(purpose, _id_or_none(event_id)) for purpose, event_id in consents or []],
            "items": items or [],
        }

    # ------------------------------------------------------------------ job-offer digests
    def _bulk_audience(
        self, connection: sa.Connection, spec: Campaign, result: PlanResult, as_of: pd.Timestamp
    ) -> pd.DataFrame:
        from vivier.consent.purposes import default_frequencies

        defaults = default_frequencies()
        purposes = pd.DataFrame({"purpose": list(spec.purposes)})
        purposes["default_frequency"] = purposes["purpose"].map(defaults)
        stage_frame(connection, "dispatch_purposes", purposes, {"purpose": "text", "default_frequency": "text"})
        (rows,) = run_sql(
            connection,
            "dispatch/bulk_audience",
            as_of=db_timestamp(connection, as_of),
            cadence=spec.cadence,
            campaign=spec.name,
            period=result.period,
        )
        audience = _frame(rows)
        if audience.empty:
            return audience
        self._expect(audience["person_id"].nunique(), spec.template)
        audience["language"] = self._language_map(spec.template, audience["language"])
        return self._stage_recipients(connection, audience)

    def _offer_jobs(
        self, connection: sa.Connection, spec: Campaign, result: PlanResult, as_of: pd.Timestamp
    ) -> tuple[list[Job], set[int]]:
        audience = self._bulk_audience(connection, spec, result, as_of)
        if audience.empty:
            return [], set()
        (rows,) = run_sql(connection, "dispatch/offer_candidates", min_score=self.config.min_score)
        offers = top_offers(_frame(rows), self.config.max_offers)
        people = audience[audience["person_id"].isin(offers["person_id"])]
        capped = self._capped(connection, people["person_id"], as_of)
        people = people[~people["person_id"].isin(capped)]
        offers = offers[offers["person_id"].isin(people["person_id"])]
        urls = {r["job_offer_id"]: self._offer_url(r) for r in _records(offers.drop_duplicates("job_offer_id"))}
        language_of = dict(zip(people["person_id"].tolist(), people["language"].tolist(), strict=True))
        score_percent = (offers["score"].astype(float) * 100).round().astype(int).tolist()
        # One dict per distinct offer as shown (language, offer, score, skills, reason): many people
        # see the same one, and the renderer and pickle then handle one object instead of thousands.
        shown: dict[tuple, dict[str, Any]] = {}
        item_of: dict[int, tuple[str, str, str]] = {}
        by_person: dict[int, tuple[list[dict[str, Any]], list[tuple[str, str, str]]]] = {}
        columns = ("person_id", "job_offer_id", "matched_skills", "reason", "title", "location", "department")
        for person_id, offer_id, skills, reason, title, location, department, percent in zip(
            *(offers[c].tolist() for c in columns), score_percent, strict=True
        ):
            language = language_of[person_id]
            key = (language, offer_id, percent, tuple(skills), _text(reason))
            offer = shown.get(key)
            if offer is None:
                labels = self._skills(language)
                offer = shown[key] = {
                    "title": _text(title),
                    "location": _text(location),
                    "department": _text(department),
                    "score_percent": percent,
                    "skills": [labels.get(skill, skill) for skill in skills],
                    "reason": key[4],
                    "url": urls[offer_id],
                }
            item = item_of.get(offer_id)
            if item is None:
                item = item_of[offer_id] = ("job_offer", str(int(offer_id)), "job_offers")
            mine = by_person.get(person_id)
            if mine is None:
                mine = by_person[person_id] = ([], [])
            mine[0].append(offer)
            mine[1].append(item)
        links = {"unsubscribe": ["job_offers"]}
        jobs = []
        for person in _records(people):
            offer_list, items = by_person[person["person_id"]]
            event_id = person["last_event_id"]
            jobs.append(
                self._job(
                    spec,
                    result.period,
                    person,
                    spec.template,
                    "bulk",
                    ["job_offers"],
                    {"cadence": spec.cadence, "offers": offer_list},
                    links,
                    consent_event_id=event_id,
                    consents=[("job_offers", event_id)],
                    items=items,
                )
            )
        return jobs, capped

    def _offer_url(self, offer: dict[str, Any]) -> str:
        return self.config.offer_url.format(
            source_system=urllib.parse.quote(_text(offer["source_system"]), safe=""),
            source_job_id=urllib.parse.quote(_text(offer["source_job_id"]), safe=""),
            job_offer_id=int(offer["job_offer_id"]),
        )

    # ------------------------------------------------------------------ content digests
    def _content_jobs(
        self, connection: sa.Connection, spec: Campaign, result: PlanResult, as_of: pd.Timestamp
    ) -> tuple[list[Job], set[int]]:
        audience = self._bulk_audience(connection, spec, result, as_of)
        if audience.empty:
            return [], set()
        (available,) = run_sql(connection, "dispatch/content_available", as_of=db_timestamp(connection, as_of))
        (sent,) = run_sql(connection, "dispatch/content_already_sent")
        chosen = choose_content(
            audience,
            _frame(available),
            _frame(sent),
            purposes=list(spec.purposes),
            items_per_purpose=self.config.items_per_purpose,
            max_items=self.config.max_items,
            segment_weights=self.config.segment_weights,
        )
        people = audience.drop_duplicates("person_id")
        people = people[people["person_id"].isin(chosen["person_id"])]
        capped = self._capped(connection, people["person_id"], as_of)
        people = people[~people["person_id"].isin(capped)]
        consent_ids = {
            (person_id, purpose): event_id
            for person_id, purpose, event_id in zip(
                audience["person_id"], audience["purpose"], audience["last_event_id"], strict=True
            )
        }
        by_person = _grouped(chosen[chosen["person_id"].isin(people["person_id"])], "person_id")
        jobs = []
        for person in _records(people):
            language, person_id = person["language"], person["person_id"]
            mine = by_person[person_id]
            present = {item["purpose"] for item in mine}
            purposes = [p for p in spec.purposes if p in present]
            sections = [
                {
                    "purpose": purpose,
                    "entries": [
                        {
                            "title": _text(item["title"]),
                            "summary": _text(item["summary"]),
                            "url": _text(item["url"]),
                            "date_label": format_date(item["starts_at"], language, with_time=True),
                            "location": _text(item["location"]),
                        }
                        for item in mine
                        if item["purpose"] == purpose
                    ],
                }
                for purpose in purposes
            ]
            context = {"cadence": spec.cadence, "sections": sections}
            jobs.append(
                self._job(
                    spec,
                    result.period,
                    person,
                    spec.template,
                    "bulk",
                    purposes,
                    context,
                    {"unsubscribe": purposes},
                    consent_event_id=consent_ids.get((person_id, purposes[0])),
                    consents=[(p, consent_ids.get((person_id, p))) for p in purposes],
                    items=[("content", str(item["item_id"]), item["purpose"]) for item in mine],
                )
            )
        return jobs, capped

    # ------------------------------------------------------------------ rejection feedback
    def _rejection_jobs(
        self, connection: sa.Connection, spec: Campaign, result: PlanResult, as_of: pd.Timestamp
    ) -> tuple[list[Job], set[int]]:
        since = as_of - pd.Timedelta(days=self.config.rejection_lookback_days)
        (rows,) = run_sql(
            connection,
            "dispatch/rejected_applications",
            since=db_timestamp(connection, since),
            as_of=db_timestamp(connection, as_of),
            include_candidate_side=1 if self.config.include_candidate_side else 0,
        )
        rejected = _frame(rows)
        if rejected.empty:
            return [], set()
        personal = rejected["stage_rank"].fillna(0).astype(int) >= self.config.personal_from_stage_rank
        rejected["template"] = np.where(personal, spec.templates["personal"], spec.templates["short"])
        rejected["language"] = self._language_map(spec.templates["personal"], rejected["language"])
        rejected = self._stage_recipients(connection, rejected)
        jobs = []
        for application in _records(rejected):
            language = application["language"]
            is_personal = application["template"] == spec.templates["personal"]
            advice = self.config.advice.get(language) or self.config.advice.get("en") or {}
            tips = list(advice.get("general", [])) + (list(advice.get("interview", [])) if is_personal else [])
            context = {
                "application": {
                    "job_title": _text(application["job_title"]),
                    "stage": _text(application["stage_name"]),
                    "rejected_on": format_date(application["rejected_at"], language),
                },
                "reasons": _split_reasons(application["rejection_reason"]) if is_personal else [],
                "advice": tips,
                "in_pool": bool(application["in_pool"]),
            }
            period = f"application-{int(application['application_id'])}"
            jobs.append(
                self._job(
                    spec,
                    period,
                    application,
                    application["template"],
                    "application",
                    [],
                    context,
                    {"join": True},
                    items=[("application", str(int(application["application_id"])), None)],
                )
            )
        return jobs, set()

    # ------------------------------------------------------------------ consent renewal
    def _renewal_jobs(
        self, connection: sa.Connection, spec: Campaign, result: PlanResult, as_of: pd.Timestamp
    ) -> tuple[list[Job], set[int]]:
        (rows,) = run_sql(connection, "dispatch/renewal_notices_due", as_of=db_timestamp(connection, as_of))
        notices = _frame(rows)
        if notices.empty:
            return [], set()
        notices["language"] = self._language_map(spec.template, notices["language"])
        notices = self._stage_recipients(connection, notices)
        (active,) = run_sql(connection, "dispatch/active_purposes", as_of=db_timestamp(connection, as_of))
        purposes_of: dict[int, list[str]] = {}
        for person_id, purpose in active:
            purposes_of.setdefault(int(person_id), []).append(purpose)
        jobs = []
        for notice in _records(notices):
            purpose = notice["purpose"] if isinstance(notice["purpose"], str) else None
            purposes = [purpose] if purpose else purposes_of.get(int(notice["person_id"]), [])
            context = {"deadline_label": format_date(notice["deadline"], notice["language"])}
            period = f"notice-{int(notice['notice_id'])}"
            jobs.append(
                self._job(
                    spec,
                    period,
                    notice,
                    spec.template,
                    "renewal",
                    purposes,
                    context,
                    {"renew": True},
                    items=[("retention_notice", str(int(notice["notice_id"])), purpose)],
                )
            )
        return jobs, set()

    # ------------------------------------------------------------------ rendering and writing
    def _render_and_write(
        self,
        connection: sa.Connection,
        spec: Campaign,
        result: PlanResult,
        jobs: list[Job],
        capped: set[int],
        as_of: pd.Timestamp,
    ) -> None:
        self._check_jobs(jobs)
        settings = self.config.planning
        processes = worker_count(len(jobs), settings.workers, settings.parallel_from)
        values = RowValues(db_timestamp(connection, as_of), result.batch_id, spec.is_bulk)
        for chunk in render_in_chunks(
            self.render_settings,
            jobs,
            values,
            processes=processes,
            chunk_size=settings.chunk_size,
            renderer=self.renderer,
            pool=self._pool,
        ):
            result.template_versions.update(chunk.versions)
            write_rendered(connection, chunk.messages, chunk.consents, chunk.items)
            result.planned += len(chunk.messages)
        self._write_skipped(connection, spec, result, capped, as_of)

    def _check_jobs(self, jobs: list[Job]) -> list[str]:
        """Render each (template, language) the jobs need for a synthetic persona first; returns the templates."""
        templates = sorted({job["template"] for job in jobs})
        for template in templates:
            self.check_templates(template, {job["language"] for job in jobs if job["template"] == template})
        return templates

    def _write_skipped(
        self, connection: sa.Connection, spec: Campaign, result: PlanResult, capped: set[int], as_of: pd.Timestamp
    ) -> None:
        """The people at the frequency cap, as ``skipped`` rows of the batch."""
        extra = {"planned_at": as_of, "batch_id": result.batch_id, "is_bulk": spec.is_bulk}
        if capped:
            skipped = [
                {
                    "message_id": make_message_id(spec.name, result.period, person_id, self.config.message_id_domain),
                    "person_id": person_id,
                    "campaign": spec.name,
                    "period": result.period,
                    "template": spec.template,
                    "state": "skipped",
                    "skip_reason": "frequency_cap",
                    "headers": {},
                    **extra,
                }
                for person_id in sorted(capped)
            ]
            write_messages(connection, skipped)
            result.skipped["frequency_cap"] = len(skipped)
