"""Candidate exports in each ATS vendor's JSON shape, written chunk by chunk."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vivier.synth._io import JsonArray, encode, js, jsn, open_binary
from vivier.synth._rng import rng_for, uuids
from vivier.synth.catalogue import Job
from vivier.synth.pools import slugify
from vivier.synth.population import (
    SIDE_COMPANY,
    STATUS_HIRED,
    STATUS_REJECTED,
    Chunk,
    Population,
    huge_text,
)
from vivier.synth.timefmt import DAY, NA, epoch_millis, iso_millis, iso_paris, iso_seconds
from vivier.synth.vocab import (
    COUNTRIES,
    LANGUAGES,
    REASONS,
    SOURCES,
    STAGE_TYPES,
    UNKNOWN_STAGES,
)

CONSENT_DAYS = 730  # consent to be contacted about future jobs is kept two years

# defects that land on the person record in each nested format (others stay on the application)
NESTED_DEFECTS: dict[str, frozenset[str]] = {
    "greenhouse": frozenset({"invalid_email", "missing_email", "formula", "empty_name", "duplicate"}),
    "recruitee": frozenset({"invalid_email", "missing_email", "formula", "empty_name", "duplicate"}),
    "teamtailor": frozenset({"invalid_email", "missing_email", "formula", "empty_name"}),
    "lever": frozenset(),
    "workable": frozenset(),
}

SOURCE_DOMAINS = {
    "LinkedIn": "linkedin.com",
    "Indeed": "indeed.com",
    "Welcome to the Jungle": "welcometothejungle.com",
    "StepStone": "stepstone.de",
    "Monster": "monster.fr",
    "Glassdoor": "glassdoor.com",
    "APEC": "apec.fr",
    "France Travail": "francetravail.fr",
    "Chasse LinkedIn": "linkedin.com",
}


@dataclass
class Written:
    records: int = 0  # top-level records written (duplicates included)
    persons: int = 0
    applications: int = 0


def _applied_text(chunk: Chunk, formatted: list) -> list:
    """Replace the applied-at value by the unparseable text where the defect says so."""
    bad = chunk.bad_date
    for i in np.flatnonzero(bad != None).tolist():  # noqa: E711 - elementwise comparison
        formatted[i] = bad[i]
    return formatted


def _full_name(first: str, last: str) -> str:
    return f"{first} {last}".strip() if (first or last) else ""


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _first_applied(chunk: Chunk) -> np.ndarray:
    return chunk.applied[chunk.starts]


def _person_max(chunk: Chunk, values: np.ndarray) -> np.ndarray:
    return np.maximum.reduceat(values, chunk.starts) if len(values) else values


# ---------------------------------------------------------------------------------------------
# Greenhouse Harvest: a list of candidates with nested applications


def write_greenhouse(path: Path, pop: Population, applications: int, seed: int) -> Written:
    """Greenhouse is the format benchmarks use most, so its records are assembled from pre-encoded
    JSON fragments rather than dicts (about three times faster). The output is exactly what
    ``json.dumps(record, ensure_ascii=False, separators=(",", ":"))`` gives for the same record."""
    rng = rng_for(seed, "vendor", "greenhouse")
    cat = pop.catalogue
    cand_base = 10_000_000 + (seed % 1000) * 1_000
    app_base = 40_000_000 + (seed % 1000) * 1_000
    # fragments that only depend on vocabulary
    sources = [f'{{"id":{1000 + k},"public_name":{js(name)}}}' for k, (name, _) in enumerate(SOURCES)]
    reasons = [
        [
            f'{{"id":{100 + r},"name":{js(words[lang])},"type":'
            + ('{"id":1,"name":"We rejected them"}}' if side == "company" else '{"id":2,"name":"They rejected us"}}')
            for lang in (0, 1)
        ]
        for r, (*words, side) in enumerate(REASONS)
    ]
    jobs = [
        f'[{{"id":{j.greenhouse_id},"name":{js(j.title)}}}],"job_post_id":{j.greenhouse_id + 1_000_000}' for j in cat
    ]
    statuses = ('"rejected"', '"active"', '"hired"')
    languages = [js(lang[2]) for lang in LANGUAGES]
    app_tail = (
        '"answers":[],"prospective_office":null,"prospective_department":null,'
        '"prospect_detail":{"prospect_pool":null,"prospect_stage":null,"prospect_owner":null},'
        '"attachments":[]}'
    )
    out = Written()
    with open_binary(path) as fh:
        arr = JsonArray(fh, "[\n", "\n]\n")
        for chunk in pop.chunks(applications):
            people = chunk.people
            n_p = len(people)
            cand_ids = (cand_base + (chunk.person_offset + np.arange(n_p)) * 3 + rng.integers(0, 3, n_p)).tolist()
            app_ids = (
                app_base + (chunk.app_offset + np.arange(chunk.size)) * 2 + rng.integers(0, 2, chunk.size)
            ).tolist()
            applied = _applied_text(chunk, iso_seconds(chunk.applied))
            decided = iso_seconds(chunk.decided)
            last = iso_seconds(chunk.last_activity)
            created = iso_seconds(_first_applied(chunk))
            updated = iso_seconds(_person_max(chunk, chunk.last_activity))
            huge_person = int(chunk.person[chunk.huge_app]) if chunk.huge_app >= 0 else -1
            person = chunk.person.tolist()
            status = chunk.status.tolist()
            reason = chunk.reason.tolist()
            lang = chunk.lang.tolist()
            job = chunk.job.tolist()
            source = chunk.source.tolist()
            stage_ids = [
                cat[j].greenhouse_id * 10 + (5 + u if u >= 0 else k)
                for j, u, k in zip(job, chunk.unknown_stage.tolist(), chunk.rank.tolist(), strict=True)
            ]
            rejected = [s == STATUS_REJECTED for s in status]
            apps = [
                f'{{"id":{app_ids[i]},"candidate_id":{cand_ids[person[i]]},"prospect":false,'
                f'"applied_at":{jsn(applied[i])},"rejected_at":{jsn(decided[i]) if rejected[i] else "null"},'
                f'"last_activity_at":{jsn(last[i])},"location":null,"source":{sources[source[i]]},"credited_to":null,'
                f'"rejection_reason":{reasons[reason[i]][lang[i]] if rejected[i] and reason[i] >= 0 else "null"},'
                f'"rejection_details":{_GH_DETAILS if rejected[i] else "null"},'
                f'"jobs":{jobs[job[i]]},"status":{statuses[status[i]]},'
                f'"current_stage":{{"id":{stage_ids[i]},"name":{js(pop.stage_label(chunk, i))}}},' + app_tail
                for i in range(chunk.size)
            ]
            records = []
            for p in range(n_p):
                span = chunk.app_slice(p)
                loc = int(people.loc[p])
                skills = js(", ".join(people.skills[p]))
                years = _number(people.years[p])
                email = people.email[p]
                phone = people.phone[p]
                title = huge_text() if p == huge_person else people.headline[p]
                text = (
                    f'{{"id":{cand_ids[p]},"first_name":{js(people.first[p])},"last_name":{js(people.last[p])},'
                    f'"company":{jsn(people.company[p])},"title":{js(title)},"created_at":{jsn(created[p])},'
                    f'"updated_at":{jsn(updated[p])},"last_activity":{jsn(updated[p])},"is_private":false,'
                    f'"photo_url":null,"attachments":[],'
                    f'"application_ids":[{",".join(str(app_ids[i]) for i in span)}],'
                    f'"phone_numbers":{_typed(phone, "mobile")},'
                    f'"addresses":[{{"value":{js(f"{people.city[p]}, {COUNTRIES[loc][2]}")},"type":"home"}}],'
                    f'"email_addresses":{_typed(email, "personal")},'
                    f'"website_addresses":[],"social_media_addresses":[],"recruiter":null,"coordinator":null,'
                    f'"can_email":{"false" if people.unsubscribed[p] else "true"},'
                    f'"tags":[{",".join(map(js, people.tags[p]))}],'
                    f'"applications":[{",".join(apps[i] for i in span)}],"educations":[],"employments":[],'
                    f'"custom_fields":{{"skills":{skills},"years_of_experience":{years!r},'
                    f'"preferred_language":{languages[loc]}}},'
                    f'"keyed_custom_fields":{{"skills":{{"name":"Skills","type":"long_text","value":{skills}}},'
                    f'"years_of_experience":{{"name":"Years of experience","type":"number","value":{years!r}}},'
                    f'"preferred_language":{{"name":"Preferred language","type":"single_select",'
                    f'"value":{languages[loc]}}}}}}}'
                )
                records.append(text)
                if chunk.person_duplicate[p]:
                    records.append(text)
                if len(records) >= 2000:
                    arr.write(records)
                    records = []
            arr.write(records)
            out.persons += n_p
            out.applications += chunk.size
        arr.close()
    out.records = arr.count
    return out


_GH_DETAILS = '{"custom_fields":{},"keyed_custom_fields":{}}'


def _typed(value: str | None, kind: str) -> str:
    """``[{"value": ..., "type": kind}]`` or ``[]``."""
    return "[]" if value is None else f'[{{"value":{js(value)},"type":"{kind}"}}]'


# ---------------------------------------------------------------------------------------------
# Lever: a list of opportunities (one per application), times in epoch milliseconds


def write_lever(path: Path, pop: Population, applications: int, seed: int) -> Written:
    rng = rng_for(seed, "vendor", "lever")
    cat = pop.catalogue
    stage_ids = uuids(rng, 5)
    unknown_ids = uuids(rng, len(UNKNOWN_STAGES))
    users = uuids(rng, 6)
    out = Written()
    with open_binary(path) as fh:
        arr = JsonArray(fh, "[\n", "\n]\n")
        for chunk in pop.chunks(applications):
            people = chunk.people
            n = chunk.size
            contacts = uuids(rng, len(people))
            opp_ids = uuids(rng, n)
            app_ids = uuids(rng, n)
            user_pick = rng.integers(0, len(users), n).tolist()
            applied = _applied_text(chunk, epoch_millis(chunk.applied, chunk.millis))
            applied_ms = epoch_millis(chunk.applied, chunk.millis)
            decided = epoch_millis(chunk.decided, chunk.millis)
            last = epoch_millis(chunk.last_activity, chunk.millis)
            first = chunk.applied[chunk.person]
            expires_ms = ((first + CONSENT_DAYS * DAY) * 1000).tolist()
            records = []
            for i in range(n):
                p = int(chunk.person[i])
                job: Job = cat[chunk.job[i]]
                status = int(chunk.status[i])
                rank = int(chunk.rank[i])
                u = int(chunk.unknown_stage[i])
                src = int(chunk.source[i])
                start = applied_ms[i]
                end = decided[i] if decided[i] is not None else last[i]
                changes = [
                    {
                        "toStageId": unknown_ids[u] if u >= 0 and k == rank else stage_ids[k],
                        "toStageIndex": k,
                        "updatedAt": start + (end - start) * k // max(rank, 1) if k else start,
                        "userId": users[(user_pick[i] + k) % len(users)],
                    }
                    for k in range(rank + 1)
                ]
                if status == STATUS_REJECTED:
                    reason = REASONS[chunk.reason[i]][int(chunk.lang[i])] if chunk.reason[i] >= 0 else None
                    archived = {"archivedAt": decided[i], "reason": reason}
                elif status == STATUS_HIRED:
                    archived = {"archivedAt": decided[i], "reason": "Hired"}
                else:
                    archived = None
                consent = int(people.consent[p])
                if consent < 0:
                    protection = None
                else:
                    protection = {
                        "store": {"allowed": True, "expiresAt": expires_ms[i]},
                        "contact": {"allowed": consent == 1, "expiresAt": expires_ms[i] if consent == 1 else None},
                    }
                email = chunk.a_email[i]
                phone = people.phone[p]
                tags = list(people.tags[p]) + list(people.skills[p][:4])
                record = {
                    "id": opp_ids[i],
                    "name": _full_name(chunk.a_first[i], chunk.a_last[i]),
                    "headline": huge_text() if i == chunk.huge_app else people.headline[p],
                    "contact": contacts[p],
                    "emails": [] if email is None else [email],
                    "phones": [] if phone is None else [{"type": "mobile", "value": phone}],
                    "confidentiality": "non-confidential",
                    "location": people.city[p],
                    "links": [],
                    "createdAt": applied[i],
                    "updatedAt": last[i],
                    "lastInteractionAt": last[i],
                    "lastAdvancedAt": changes[-1]["updatedAt"],
                    "snoozedUntil": None,
                    "archived": archived,
                    "stage": {"id": unknown_ids[u] if u >= 0 else stage_ids[rank], "text": pop.stage_label(chunk, i)},
                    "stageChanges": changes,
                    "tags": tags,
                    "sources": [SOURCES[src][0]],
                    "origin": SOURCES[src][1],
                    "sourcedBy": None,
                    "applications": [
                        {
                            "id": app_ids[i],
                            "opportunityId": opp_ids[i],
                            "candidateId": contacts[p],
                            "createdAt": applied[i],
                            "type": "posting",
                            "posting": {
                                "id": job.lever_id,
                                "text": job.title,
                                "categories": {"department": job.department, "location": job.city},
                            },
                            "user": None,
                        }
                    ],
                    "dataProtection": protection,
                    "isAnonymized": False,
                    "urls": {
                        "list": "https://hire.lever.co/candidates",
                        "show": f"https://hire.lever.co/candidates/{opp_ids[i]}",
                    },
                }
                text = encode(record)
                records.append(text)
                if chunk.duplicate[i]:
                    records.append(text)
            arr.write(records)
            out.persons += len(people)
            out.applications += n
        arr.close()
    out.records = arr.count
    return out


# ---------------------------------------------------------------------------------------------
# Teamtailor: JSON:API document, candidates in data, the rest in included

_HIRED_STAGE = ("Embauché", "Hired")


def _tt_ref(kind: str, ident: str | None) -> dict:
    return {"data": None if ident is None else {"type": kind, "id": ident}}


def write_teamtailor(path: Path, pop: Population, applications: int, seed: int) -> Written:
    rng = rng_for(seed, "vendor", "teamtailor")
    cat = pop.catalogue
    cand_base = 2_000_000 + (seed % 1000) * 1_000
    app_base = 9_000_000 + (seed % 1000) * 1_000
    stage_base = 700_000 + (seed % 1000) * 100
    reason_base = 80_000 + (seed % 1000) * 100
    out = Written()
    with open_binary(path) as fh, tempfile.TemporaryFile(dir=path.parent) as spool:
        data = JsonArray(fh, '{"data":[\n', "")
        included = JsonArray(spool, "", "")
        for chunk in pop.chunks(applications):
            people = chunk.people
            n_p = len(people)
            cand_ids = [str(cand_base + (chunk.person_offset + p) * 3 + 1) for p in range(n_p)]
            app_ids = [str(app_base + (chunk.app_offset + i) * 2 + 1) for i in range(chunk.size)]
            jitter = rng.integers(0, 1000, size=chunk.size)
            applied = _applied_text(chunk, iso_paris(chunk.applied, chunk.millis))
            decided = iso_paris(chunk.decided, jitter)
            last = iso_paris(chunk.last_activity, jitter)
            first = _first_applied(chunk)
            created = iso_paris(first, chunk.millis[chunk.starts])
            updated = iso_paris(_person_max(chunk, chunk.last_activity), jitter[chunk.starts])
            consent_at = iso_paris(first + 5, jitter[chunk.starts])
            pitch_draw = rng.random(n_p).tolist()
            huge_person = int(chunk.person[chunk.huge_app]) if chunk.huge_app >= 0 else -1
            records = []
            for p in range(n_p):
                loc = int(people.loc[p])
                fr = loc == 0
                skills = people.skills[p]
                years = _number(people.years[p])
                headline = people.headline[p]
                if fr:
                    pitch = f"{headline}, {years} ans d'expérience. À l'aise avec {', '.join(skills[:3])}."
                    summary = f"{headline}. Compétences : {', '.join(skills)}."
                else:
                    pitch = f"{headline} with {years} years of experience, comfortable with {', '.join(skills[:3])}."
                    summary = f"{headline}. Skills: {', '.join(skills)}."
                first_src = SOURCES[int(chunk.source[chunk.starts[p]])]
                apps = list(chunk.app_slice(p))
                record = {
                    "id": cand_ids[p],
                    "type": "candidates",
                    "links": {"self": f"https://api.teamtailor.com/v1/candidates/{cand_ids[p]}"},
                    "attributes": {
                        "first-name": people.first[p],
                        "last-name": people.last[p],
                        "email": people.email[p],
                        "phone": people.phone[p],
                        "tags": list(people.tags[p]),
                        "sourced": first_src[1] == "sourced",
                        "connected": bool(people.consent[p] == 1 and pitch_draw[p] < 0.3),
                        "unsubscribed": bool(people.unsubscribed[p]),
                        "consent-future-jobs-at": consent_at[p] if people.consent[p] == 1 else None,
                        "referring-site": first_src[0] if first_src[1] == "applied" else None,
                        "linkedin-url": None,
                        "pitch": huge_text() if p == huge_person else (pitch if pitch_draw[p] < 0.5 else None),
                        "resume-summary": summary if pitch_draw[p] < 0.75 else None,
                        "created-at": created[p],
                        "updated-at": updated[p],
                        "restricted-at": None,
                    },
                    "relationships": {
                        "job-applications": {"data": [{"type": "job-applications", "id": app_ids[i]} for i in apps]},
                    },
                }
                records.append(encode(record))
            data.write(records)
            inc = []
            for i in range(chunk.size):
                p = int(chunk.person[i])
                job: Job = cat[chunk.job[i]]
                status = int(chunk.status[i])
                lang = int(chunk.lang[i])
                u = int(chunk.unknown_stage[i])
                if u >= 0:
                    stage = str(stage_base + 50 + u)
                elif status == STATUS_HIRED:
                    stage = str(stage_base + 40 + lang)
                else:
                    stage = str(stage_base + int(chunk.rank[i]) * 2 + lang)
                r = int(chunk.reason[i])
                reason = str(reason_base + r * 2 + lang) if status == STATUS_REJECTED and r >= 0 else None
                record = {
                    "id": app_ids[i],
                    "type": "job-applications",
                    "attributes": {
                        "created-at": applied[i],
                        "updated-at": last[i],
                        "rejected-at": decided[i] if status == STATUS_REJECTED else None,
                        "changed-stage-at": last[i],
                        "sourced": SOURCES[int(chunk.source[i])][1] == "sourced",
                        "cover-letter": None,
                    },
                    "relationships": {
                        "candidate": _tt_ref("candidates", cand_ids[p]),
                        "job": _tt_ref("jobs", job.teamtailor_id),
                        "stage": _tt_ref("stages", stage),
                        "reject-reason": _tt_ref("reject-reasons", reason),
                    },
                }
                text = encode(record)
                inc.append(text)
                if chunk.duplicate[i]:
                    inc.append(text)
            included.write(inc)
            out.persons += n_p
            out.applications += chunk.size
        # reference resources first, then the spooled job applications
        refs = []
        for rank, (fr, en) in enumerate(pop.stages.labels):
            for lang, name in enumerate((fr, en)):
                refs.append(
                    {
                        "id": str(stage_base + rank * 2 + lang),
                        "type": "stages",
                        "attributes": {"name": name, "stage-type": STAGE_TYPES[rank], "row-order": rank},
                    }
                )
        for lang, name in enumerate(_HIRED_STAGE):
            refs.append(
                {
                    "id": str(stage_base + 40 + lang),
                    "type": "stages",
                    "attributes": {"name": name, "stage-type": "hired", "row-order": 5},
                }
            )
        for u, name in enumerate(UNKNOWN_STAGES):
            refs.append(
                {
                    "id": str(stage_base + 50 + u),
                    "type": "stages",
                    "attributes": {"name": name, "stage-type": "in_process", "row-order": 9},
                }
            )
        for r, (fr, en, side) in enumerate(REASONS):
            for lang, text in enumerate((fr, en)):
                refs.append(
                    {
                        "id": str(reason_base + r * 2 + lang),
                        "type": "reject-reasons",
                        "attributes": {"reason": text, "rejected-by-company": side == "company"},
                    }
                )
        job_resources, job_refs = teamtailor_job_resources(cat)
        refs.extend(job_resources)
        refs.extend(job_refs)
        fh.write(b'\n],"included":[\n')
        fh.write(",\n".join(encode(r) for r in refs).encode("utf-8"))
        if included.count:
            fh.write(b",\n")
            spool.seek(0)
            shutil.copyfileobj(spool, fh, 1 << 20)
        fh.write(b"\n]}\n")
    out.records = data.count
    return out


def _tt_department_id(job: Job) -> str:
    return str(40_000 + job.family * 2 + (0 if job.lang == "fr" else 1))


def _tt_location_key(job: Job) -> tuple[str, int]:
    return job.city, job.country


def teamtailor_job_resource(job: Job, location_ids: dict[tuple[str, int], str]) -> dict:
    return {
        "id": job.teamtailor_id,
        "type": "jobs",
        "links": {"careersite-job-url": f"https://vivier-demo.teamtailor.com/jobs/{job.teamtailor_id}"},
        "attributes": {
            "title": job.title,
            "status": {"open": "open", "closed": "archived", "draft": "draft"}[job.status],
            "body": job.html,
            "pitch": job.intro,
            "tags": [job.department, *job.required[:2]],
            "remote-status": ("none", "hybrid", "fully")[job.remote],
            "language-code": job.lang,
            "created-at": iso_paris(np.array([job.created]), np.array([0]))[0],
            "employment-type": ("fulltime", "temporary", "apprenticeship", "internship", "freelance", "parttime")[
                job.employment
            ],
        },
        "relationships": {
            "department": _tt_ref("departments", _tt_department_id(job)),
            "locations": {"data": [{"type": "locations", "id": location_ids[_tt_location_key(job)]}]},
        },
    }


def teamtailor_job_resources(jobs: tuple[Job, ...]) -> tuple[list[dict], list[dict]]:
    """Job resources, and the department and location resources they refer to."""
    location_ids: dict[tuple[str, int], str] = {}
    for job in jobs:
        location_ids.setdefault(_tt_location_key(job), str(90_000 + len(location_ids)))
    departments: dict[str, dict] = {}
    for job in jobs:
        dept = _tt_department_id(job)
        departments.setdefault(dept, {"id": dept, "type": "departments", "attributes": {"name": job.department}})
    locations = [
        {
            "id": ident,
            "type": "locations",
            "attributes": {"name": f"{city}, {COUNTRIES[country][2]}", "city": city, "country": COUNTRIES[country][0]},
        }
        for (city, country), ident in location_ids.items()
    ]
    return [teamtailor_job_resource(j, location_ids) for j in jobs], [*departments.values(), *locations]


# ---------------------------------------------------------------------------------------------
# Recruitee: {"candidates": [...]} with placements


def _gdpr(consent: int, given: int, as_of: int) -> tuple[str, int | None, bool, int | None]:
    if consent == 1:
        expires = given + CONSENT_DAYS * DAY
        return ("valid" if expires > as_of else "expired"), expires, True, expires + 30 * DAY
    if consent == 0:
        return "no_consent", None, False, given + 180 * DAY
    return "pending", None, False, None


def write_recruitee(path: Path, pop: Population, applications: int, seed: int) -> Written:
    rng = rng_for(seed, "vendor", "recruitee")
    cat = pop.catalogue
    cand_base = 30_000_000 + (seed % 1000) * 1_000
    place_base = 80_000_000 + (seed % 1000) * 1_000
    stage_base = 500_000 + (seed % 1000) * 100
    out = Written()
    with open_binary(path) as fh:
        arr = JsonArray(fh, '{"candidates":[\n', "\n]}\n")
        for chunk in pop.chunks(applications):
            people = chunk.people
            n_p = len(people)
            cand_ids = (cand_base + (chunk.person_offset + np.arange(n_p)) * 2 + rng.integers(0, 2, n_p)).tolist()
            place_ids = (place_base + (chunk.app_offset + np.arange(chunk.size)) * 3).tolist()
            applied = _applied_text(chunk, iso_millis(chunk.applied, chunk.millis))
            decided = iso_millis(chunk.decided, chunk.millis)
            last = iso_millis(chunk.last_activity, chunk.millis)
            first = _first_applied(chunk)
            created = iso_millis(first, chunk.millis[chunk.starts])
            updated = iso_millis(_person_max(chunk, chunk.last_activity), chunk.millis[chunk.starts])
            huge_person = int(chunk.person[chunk.huge_app]) if chunk.huge_app >= 0 else -1
            records = []
            for p in range(n_p):
                placements = []
                for i in chunk.app_slice(p):
                    job: Job = cat[chunk.job[i]]
                    status = int(chunk.status[i])
                    rank = int(chunk.rank[i])
                    u = int(chunk.unknown_stage[i])
                    lang = int(chunk.lang[i])
                    r = int(chunk.reason[i])
                    rejected = status == STATUS_REJECTED
                    placements.append(
                        {
                            "id": place_ids[i],
                            "candidate_id": cand_ids[p],
                            "offer_id": job.recruitee_id,
                            "offer": {
                                "id": job.recruitee_id,
                                "kind": "job",
                                "slug": _slug(job),
                                "status": _recruitee_status(job),
                                "title": job.title,
                            },
                            "stage": {
                                "id": stage_base + (60 + u if u >= 0 else rank * 2 + lang),
                                "name": pop.stage_label(chunk, i),
                                "category": "other"
                                if u >= 0
                                else ("apply", "phone_screen", "interview", "interview", "offer")[rank],
                            },
                            "disqualified": rejected,
                            "disqualified_at": decided[i] if rejected else None,
                            "disqualify_kind": (
                                ("company" if int(chunk.side[i]) == SIDE_COMPANY else "candidate") if rejected else None
                            ),
                            "disqualify_reason": REASONS[r][lang] if rejected and r >= 0 else None,
                            "hired_at": decided[i] if status == STATUS_HIRED else None,
                            "created_at": applied[i],
                            "updated_at": last[i],
                            "language": ("fr", "en")[lang],
                        }
                    )
                loc = int(people.loc[p])
                status_, expires, ever, delete_at = _gdpr(int(people.consent[p]), int(first[p]), pop.as_of)
                email = people.email[p]
                phone = people.phone[p]
                gdpr_times = iso_millis(
                    np.array([expires if expires else NA, delete_at if delete_at else NA]), np.zeros(2, dtype=np.int64)
                )
                record = {
                    "id": cand_ids[p],
                    "name": _full_name(people.first[p], people.last[p]),
                    "emails": [] if email is None else [email],
                    "phones": [] if phone is None else [phone],
                    "photo_thumb_url": None,
                    "source": SOURCES[int(chunk.source[chunk.starts[p]])][0],
                    "tags": list(people.tags[p]) + list(people.skills[p][:2]),
                    "created_at": created[p],
                    "updated_at": updated[p],
                    "last_activity_at": updated[p],
                    "cover_letter": huge_text() if p == huge_person else None,
                    "fields": [
                        {
                            "id": 1,
                            "kind": "skills",
                            "name": "Compétences" if loc == 0 else "Skills",
                            "values": list(people.skills[p]),
                        },
                        {
                            "id": 2,
                            "kind": "address",
                            "name": "Address",
                            "values": [f"{people.city[p]}, {COUNTRIES[loc][2]}"],
                        },
                        {"id": 3, "kind": "language", "name": "Language", "values": [LANGUAGES[loc][0]]},
                    ],
                    "placements": placements,
                    "gdpr_status": status_,
                    "gdpr_expires_at": gdpr_times[0],
                    "gdpr_consent_ever_given": ever,
                    "gdpr_scheduled_to_delete_at": gdpr_times[1],
                }
                text = encode(record)
                records.append(text)
                if chunk.person_duplicate[p]:
                    records.append(text)
            arr.write(records)
            out.persons += n_p
            out.applications += chunk.size
        arr.close()
    out.records = arr.count
    return out


def _slug(job: Job) -> str:
    words = [slugify(w) for w in job.title.replace("/", " ").split()]
    return "-".join(w for w in words if w) + f"-{job.index + 1}"


def _recruitee_status(job: Job) -> str:
    return {"open": "published", "closed": "closed", "draft": "draft"}[job.status]


# ---------------------------------------------------------------------------------------------
# Workable: {"candidates": [...]}, one record per job applied to


def write_workable(path: Path, pop: Population, applications: int, seed: int) -> Written:
    cat = pop.catalogue
    mix = (seed * 2_654_435_761 + 12_345) % 2**32
    out = Written()
    with open_binary(path) as fh:
        arr = JsonArray(fh, '{"candidates":[\n', "\n]}\n")
        for chunk in pop.chunks(applications):
            people = chunk.people
            n = chunk.size
            applied = _applied_text(chunk, iso_seconds(chunk.applied))
            decided = iso_seconds(chunk.decided)
            last = iso_seconds(chunk.last_activity)
            records = []
            for i in range(n):
                p = int(chunk.person[i])
                job: Job = cat[chunk.job[i]]
                status = int(chunk.status[i])
                loc = int(people.loc[p])
                src = SOURCES[int(chunk.source[i])]
                # an odd multiplier is a bijection modulo 2**32: ids are unique
                ident = f"{((chunk.app_offset + i) * 2_246_822_519 + mix) % 2**32:08x}"
                first, last_name = chunk.a_first[i], chunk.a_last[i]
                r = int(chunk.reason[i])
                rejected = status == STATUS_REJECTED
                record = {
                    "id": ident,
                    "name": _full_name(first, last_name),
                    "firstname": first,
                    "lastname": last_name,
                    "headline": huge_text() if i == chunk.huge_app else people.headline[p],
                    "account": {"subdomain": "vivier-demo", "name": "Vivier Demo"},
                    "job": {"shortcode": job.workable_shortcode, "title": job.title},
                    "stage": pop.stage_label(chunk, i),
                    "disqualified": rejected,
                    "disqualification_reason": REASONS[r][int(chunk.lang[i])] if rejected and r >= 0 else None,
                    "disqualified_at": decided[i] if rejected else None,
                    "hired_at": decided[i] if status == STATUS_HIRED else None,
                    "sourced": src[1] == "sourced",
                    "profile_url": f"https://vivier-demo.workable.com/app/candidates/{ident}",
                    "address": f"{people.city[p]}, {COUNTRIES[loc][2]}",
                    "phone": people.phone[p],
                    "email": chunk.a_email[i],
                    "domain": SOURCE_DOMAINS.get(src[0]),
                    "created_at": applied[i],
                    "updated_at": last[i],
                    "skills": list(people.skills[p]),
                    "tags": list(people.tags[p]),
                }
                text = encode(record)
                records.append(text)
                if chunk.duplicate[i]:
                    records.append(text)
            arr.write(records)
            out.persons += len(people)
            out.applications += n
        arr.close()
    out.records = arr.count
    return out


JSON_WRITERS = {
    "greenhouse": write_greenhouse,
    "lever": write_lever,
    "teamtailor": write_teamtailor,
    "recruitee": write_recruitee,
    "workable": write_workable,
}
