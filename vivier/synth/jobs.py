"""Open job offers in each vendor's shape (the catalogue candidates applied to)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vivier.synth._io import JsonArray, encode, open_binary
from vivier.synth.catalogue import REMOTE, Job
from vivier.synth.timefmt import epoch_millis, iso_millis, iso_seconds
from vivier.synth.vendors import teamtailor_job_resources
from vivier.synth.vocab import COUNTRIES, EMPLOYMENT_TYPES, JOB_FAMILIES

_REQ_HEADING = {"fr": "Profil recherché", "en": "Requirements"}
_NICE_HEADING = {"fr": "Les plus", "en": "Nice to have"}


def _iso(secs: int) -> str:
    return iso_seconds(np.array([secs]))[0]


def _closed_at(job: Job) -> int | None:
    return job.created + 45 * 86_400 if job.status == "closed" else None


def _greenhouse(job: Job) -> dict:
    closed = _closed_at(job)
    dept_id = 50_000 + job.family
    office_id = 60_000 + job.country * 100 + (hash_city(job.city) % 100)
    return {
        "id": job.greenhouse_id,
        "name": job.title,
        "requisition_id": job.reference,
        "notes": job.description,
        "content": job.html + f"<h3>{_REQ_HEADING[job.lang]}</h3>" + job.requirements_html(),
        "confidential": False,
        "status": job.status,
        "created_at": _iso(job.created),
        "opened_at": None if job.status == "draft" else _iso(job.created),
        "closed_at": None if closed is None else _iso(closed),
        "updated_at": _iso(closed or job.created),
        "is_template": False,
        "copied_from_id": None,
        "departments": [
            {"id": dept_id, "name": job.department, "parent_id": None, "child_ids": [], "external_id": None}
        ],
        "offices": [
            {
                "id": office_id,
                "name": job.city,
                "location": {"name": f"{job.city}, {COUNTRIES[job.country][2]}"},
                "primary_contact_user_id": None,
                "parent_id": None,
                "child_ids": [],
                "external_id": None,
            }
        ],
        "custom_fields": {"employment_type": EMPLOYMENT_TYPES[job.employment][1]},
        "keyed_custom_fields": {
            "employment_type": {
                "name": "Employment Type",
                "type": "single_select",
                "value": EMPLOYMENT_TYPES[job.employment][1],
            }
        },
        "openings": [
            {
                "id": job.greenhouse_id * 10 + 1,
                "opening_id": f"{job.reference}-1",
                "status": "closed" if job.status == "closed" else "open",
                "opened_at": _iso(job.created),
                "closed_at": None if closed is None else _iso(closed),
                "application_id": None,
                "close_reason": None,
            }
        ],
    }


def hash_city(city: str) -> int:
    """A small stable number for a city name (ids of offices)."""
    return sum(ord(c) * (i + 1) for i, c in enumerate(city))


def _lever(job: Job) -> dict:
    created = epoch_millis(np.array([job.created]), np.array([0]))[0]
    lists = [{"text": _REQ_HEADING[job.lang], "content": "".join(f"<li>{s}</li>" for s in job.required)}]
    if job.nice:
        lists.append({"text": _NICE_HEADING[job.lang], "content": "".join(f"<li>{s}</li>" for s in job.nice)})
    state = {"open": "published", "closed": "closed", "draft": "draft"}[job.status]
    return {
        "id": job.lever_id,
        "text": job.title,
        "createdAt": created,
        "updatedAt": created,
        "user": None,
        "owner": None,
        "hiringManager": None,
        "confidentiality": "non-confidential",
        "categories": {
            "team": JOB_FAMILIES[job.family].department_en,
            "department": job.department,
            "location": job.city,
            "commitment": EMPLOYMENT_TYPES[job.employment][1],
            "allLocations": [job.city],
        },
        "content": {
            "description": job.intro,
            "descriptionHtml": f"<div>{job.intro}</div>",
            "lists": lists,
            "closing": job.bonus,
            "closingHtml": f"<div>{job.bonus}</div>",
        },
        "country": COUNTRIES[job.country][0],
        "language": job.lang,
        "followers": [],
        "tags": [job.department, EMPLOYMENT_TYPES[job.employment][1], *job.required[:2]],
        "state": state,
        "distributionChannels": ["public", "internal"] if state == "published" else [],
        "reqCode": job.reference,
        "requisitionCodes": [job.reference],
        "workplaceType": REMOTE[job.remote][2],
        "urls": {
            "list": "https://jobs.lever.co/vivier-demo",
            "show": f"https://jobs.lever.co/vivier-demo/{job.lever_id}",
            "apply": f"https://jobs.lever.co/vivier-demo/{job.lever_id}/apply",
        },
    }


def _recruitee(job: Job) -> dict:
    created = iso_millis(np.array([job.created]), np.array([0]))[0]
    status = {"open": "published", "closed": "closed", "draft": "draft"}[job.status]
    return {
        "id": job.recruitee_id,
        "title": job.title,
        "slug": f"{job.reference.lower()}",
        "kind": "job",
        "status": status,
        "department": job.department,
        "city": job.city,
        "country_code": COUNTRIES[job.country][0],
        "location": f"{job.city}, {COUNTRIES[job.country][2]}",
        "remote": job.remote == 2,
        "hybrid": job.remote == 1,
        "employment_type_code": EMPLOYMENT_TYPES[job.employment][2],
        "min_experience_years": job.years_min,
        "language": job.lang,
        "description": job.html,
        "requirements": job.requirements_html()
        + (f"<p>{_NICE_HEADING[job.lang]}</p>" + job.nice_html() if job.nice else ""),
        "tags": [job.department, *job.required[:2]],
        "created_at": created,
        "updated_at": created,
        "published_at": None if status == "draft" else created,
        "careers_url": f"https://vivier-demo.recruitee.com/o/{job.reference.lower()}",
    }


def _workable(job: Job) -> dict:
    state = {"open": "published", "closed": "closed", "draft": "draft"}[job.status]
    country = COUNTRIES[job.country]
    return {
        "id": f"{job.recruitee_id:x}",
        "title": job.title,
        "full_title": f"{job.title} - {job.department}",
        "shortcode": job.workable_shortcode,
        "code": job.reference,
        "state": state,
        "department": job.department,
        "url": f"https://apply.workable.com/vivier-demo/j/{job.workable_shortcode}/",
        "application_url": f"https://apply.workable.com/vivier-demo/j/{job.workable_shortcode}/apply",
        "shortlink": f"https://apply.workable.com/j/{job.workable_shortcode}",
        "location": {
            "location_str": f"{job.city}, {country[2]}",
            "country": country[2],
            "country_code": country[0],
            "region": None,
            "region_code": None,
            "city": job.city,
            "zip_code": None,
            "telecommuting": job.remote == 2,
            "workplace_type": ("on_site", "hybrid", "remote")[job.remote],
        },
        "language": job.lang,
        "employment_type": EMPLOYMENT_TYPES[job.employment][1],
        "created_at": _iso(job.created),
        "description": job.html,
        "requirements": job.requirements_html(),
        "preferred_skills": list(job.nice),
        "benefits": None,
    }


def write_jobs_json(fmt: str, path: Path, jobs: tuple[Job, ...]) -> int:
    """Write the jobs file of ``fmt``; return the number of job records."""
    with open_binary(path) as fh:
        if fmt == "greenhouse":
            arr = JsonArray(fh, "[\n", "\n]\n")
            arr.write([encode(_greenhouse(j)) for j in jobs])
        elif fmt == "lever":
            arr = JsonArray(fh, "[\n", "\n]\n")
            arr.write([encode(_lever(j)) for j in jobs])
        elif fmt == "teamtailor":
            resources, included = teamtailor_job_resources(jobs)
            tail = ",".join(encode(r) for r in included)
            arr = JsonArray(fh, '{"data":[\n', f'\n],"included":[{tail}],"meta":{{"record-count":{len(jobs)}}}}}\n')
            arr.write([encode(r) for r in resources])
        elif fmt == "recruitee":
            arr = JsonArray(fh, '{"offers":[\n', "\n]}\n")
            arr.write([encode(_recruitee(j)) for j in jobs])
        elif fmt == "workable":
            arr = JsonArray(fh, '{"jobs":[\n', '\n],"paging":{}}\n')
            arr.write([encode(_workable(j)) for j in jobs])
        else:
            raise ValueError(f"no JSON job format {fmt!r}")
        arr.close()
    return arr.count
