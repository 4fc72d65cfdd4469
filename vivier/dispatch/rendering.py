"""Rendering planned messages: links, template context, sandboxed render, frozen outbox row.

Planning prepares one *job* per message (plain data: the person, the template variables, which
links it needs); a :class:`Renderer` turns jobs into outbox rows. Large batches are rendered by
worker processes (``spawn``: safe inside an Airflow task), chunk by chunk, while the parent
writes the previous chunk to the database.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vivier.dispatch.links import PreferenceLinks, unsubscribe_purpose
from vivier.dispatch.messages import ONE_CLICK, make_message_id
from vivier.dispatch.templating import TemplateCatalogue


@dataclass(frozen=True)
class RenderSettings:
    """Everything a renderer needs, picklable (sent once to each worker process)."""

    templates_dir: Path
    fallback_languages: tuple[str, ...]
    links_base_url: str
    links_keys: tuple[str, ...]
    message_id_domain: str
    company: dict[str, str]
    sender_name: str


class Renderer:
    """Turns message jobs into outbox rows (one per process: templates compiled once)."""

    def __init__(self, settings: RenderSettings) -> None:
        self.settings = settings
        self.templates = TemplateCatalogue(settings.templates_dir, settings.fallback_languages)
        self.links = PreferenceLinks(settings.links_base_url, settings.links_keys)

    def _links(self, job: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        person_id, wanted = job["person_id"], job["links"]
        links: dict[str, Any] = {"preferences": self.links.preferences(person_id)}
        headers: dict[str, str] = {}
        if wanted.get("join"):
            links["join"] = self.links.join(person_id)
        if wanted.get("renew"):
            links["renew"] = links["preferences"]
        purposes = wanted.get("unsubscribe")
        if purposes:
            links["unsubscribe"] = self.links.unsubscribe(person_id, unsubscribe_purpose(purposes))
            headers = {"List-Unsubscribe": f"<{links['unsubscribe']}>", "List-Unsubscribe-Post": ONE_CLICK}
            sections = job["context"].get("sections")
            if sections:
                for section in sections:
                    section["unsubscribe"] = (
                        self.links.unsubscribe(person_id, section["purpose"])
                        if len(purposes) > 1
                        else links["unsubscribe"]
                    )
        return links, headers

    def render(self, job: dict[str, Any]) -> dict[str, Any]:
        """The outbox row of one job (the person's language, or the template's fallback)."""
        links, headers = self._links(job)
        language = job["language"]
        context = {
            "person": {
                "first_name": job["first_name"],
                "full_name": job["full_name"] or job["first_name"],
                "language": language,
            },
            "company": self.settings.company,
            "sender_name": self.settings.sender_name,
            "mail_kind": job["mail_kind"],
            "bulk": job["mail_kind"] == "bulk",
            "purposes": job["purpose_labels"],
            "links": links,
            **job["context"],
        }
        compiled = self.templates.get(job["template"], language)
        rendered = compiled.render(context)
        return {
            "message_id": make_message_id(
                job["campaign"], job["period"], job["person_id"], self.settings.message_id_domain
            ),
            "person_id": job["person_id"],
            "campaign": job["campaign"],
            "period": job["period"],
            "template": job["template"],
            "template_version": compiled.version,
            "language": compiled.language,
            "consent_event_id": job.get("consent_event_id"),
            "recipient": job["email"],
            "recipient_name": job["full_name"] or None,
            "recipient_hmac": job["email_hmac"],
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "headers": headers,
            "state": "planned",
        }

    def render_many(self, jobs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.render(job) for job in jobs]


_WORKER: Renderer | None = None


def _start_worker(settings: RenderSettings) -> None:
    global _WORKER
    _WORKER = Renderer(settings)


def _render_chunk(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert _WORKER is not None
    return _WORKER.render_many(jobs)


def worker_count(messages: int, workers: int, parallel_from: int) -> int:
    """How many processes to render ``messages`` with (1: in this process)."""
    if workers <= 1 or messages < parallel_from:
        return 1
    return max(1, min(workers, os.cpu_count() or 1))


def render_in_chunks(
    settings: RenderSettings,
    jobs: Sequence[dict[str, Any]],
    *,
    processes: int = 1,
    chunk_size: int = 2000,
    renderer: Renderer | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Rendered rows, chunk by chunk, in the order of ``jobs``."""
    chunks = [list(jobs[start : start + chunk_size]) for start in range(0, len(jobs), chunk_size)]
    if processes <= 1:
        local = renderer or Renderer(settings)
        for chunk in chunks:
            yield local.render_many(chunk)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_start_worker, initargs=(settings,)) as pool:
        yield from pool.imap(_render_chunk, chunks)
