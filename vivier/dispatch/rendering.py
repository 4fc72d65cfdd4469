"""Rendering planned messages: links, template context, sandboxed render, frozen outbox row.

Planning prepares one *job* per message (plain data: the person, the template variables, which
links it needs, the consents and items it carries); a :class:`Renderer` turns jobs into rows ready
to be written (outbox, outbox_consents, outbox_items), so that the planning process only writes.
Large batches are rendered by worker processes (:class:`RenderPool`: fresh interpreters running
``vivier.dispatch.render_worker``, safe inside an Airflow task), chunk by chunk, while the parent
writes the previous chunks to the database.

Jobs are cheap to send to a worker: the variables many messages share (an offer shown to many
people, in one language, with the same score) are one object, which pickle sends once per chunk.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class RowValues:
    """The outbox values common to every message of a batch (``planned_at`` as the engine binds it)."""

    planned_at: Any
    batch_id: int
    is_bulk: bool


@dataclass
class RenderedChunk:
    """Rows of a chunk of jobs, in the column order of ``OUTBOX_COLUMNS``, ``CONSENT_COLUMNS`` and
    ``ITEM_COLUMNS``, and the version of each (template/language) used."""

    messages: list[tuple] = field(default_factory=list)
    consents: list[tuple] = field(default_factory=list)
    items: list[tuple] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)


# the order Renderer.render_rows writes an outbox row in (that of outbox.OUTBOX_COLUMNS, which
# imports the database layer: checked by the planning module, which imports both)
ROW_COLUMNS = (
    "message_id",
    "person_id",
    "campaign",
    "period",
    "template",
    "template_version",
    "language",
    "consent_event_id",
    "recipient",
    "recipient_name",
    "recipient_hmac",
    "subject",
    "body_text",
    "body_html",
    "headers",
    "state",
    "skip_reason",
    "attempts",
    "planned_at",
    "batch_id",
    "is_bulk",
)


class Renderer:
    """Turns message jobs into outbox rows (one per process: templates compiled once)."""

    def __init__(self, settings: RenderSettings, templates: TemplateCatalogue | None = None) -> None:
        self.settings = settings
        self.templates = templates or TemplateCatalogue(settings.templates_dir, settings.fallback_languages)
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

    def context(self, job: dict[str, Any], links: dict[str, Any]) -> dict[str, Any]:
        """The variables the template of ``job`` sees."""
        return {
            "person": {
                "first_name": job["first_name"],
                "full_name": job["full_name"] or job["first_name"],
                "language": job["language"],
            },
            "company": self.settings.company,
            "sender_name": self.settings.sender_name,
            "mail_kind": job["mail_kind"],
            "bulk": job["mail_kind"] == "bulk",
            "purposes": job["purpose_labels"],
            "links": links,
            **job["context"],
        }

    def render_rows(self, jobs: Iterable[dict[str, Any]], values: RowValues) -> RenderedChunk:
        """Rows ready to be written for ``jobs`` (in the person's language, or the template's
        fallback). A job's values are plain Python values (int, text, None); its ``consents`` are
        (purpose, consent_event_id) and its ``items`` (kind, item_ref, purpose)."""
        chunk = RenderedChunk()
        domain = self.settings.message_id_domain
        for job in jobs:
            links, headers = self._links(job)
            compiled = self.templates.get(job["template"], job["language"])
            rendered = compiled.render(self.context(job, links))
            message_id = make_message_id(job["campaign"], job["period"], job["person_id"], domain)
            chunk.versions[f"{compiled.name}/{compiled.language}"] = compiled.version
            chunk.messages.append(
                (
                    message_id,
                    job["person_id"],
                    job["campaign"],
                    job["period"],
                    job["template"],
                    compiled.version,
                    compiled.language,
                    job.get("consent_event_id"),
                    job["email"],
                    job["full_name"] or None,
                    job["email_hmac"],
                    rendered.subject,
                    rendered.text,
                    rendered.html,
                    json.dumps(headers, ensure_ascii=False, sort_keys=True) if headers else None,
                    "planned",
                    None,  # skip_reason
                    0,  # attempts
                    values.planned_at,
                    values.batch_id,
                    values.is_bulk,
                )
            )
            chunk.consents.extend((message_id, purpose, event_id) for purpose, event_id in job["consents"])
            chunk.items.extend(
                (message_id, position, kind, ref, purpose) for position, (kind, ref, purpose) in enumerate(job["items"])
            )
        return chunk


def worker_count(messages: int, workers: int, parallel_from: int) -> int:
    """How many processes to render ``messages`` with (1: in this process)."""
    if workers <= 1 or messages < parallel_from:
        return 1
    return max(1, min(workers, os.cpu_count() or 1))


_Task = tuple[list[dict[str, Any]], RowValues]
_STOP = object()


class _Worker:
    """One ``vivier.dispatch.render_worker`` process, fed and read by two threads of this process so
    that it never waits for the planning process, which is busy writing rows meanwhile."""

    def __init__(self, settings: RenderSettings, templates: Sequence[str]) -> None:
        from vivier.dispatch import render_worker

        self._frames = render_worker
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vivier.dispatch.render_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.replies: queue.Queue = queue.Queue(maxsize=2)  # rendered chunks waiting to be written
        self._stopping = False
        self.tasks.put((settings, tuple(templates)))
        self._threads = [
            threading.Thread(target=self._feed, name="render-feed", daemon=True),
            threading.Thread(target=self._read, name="render-read", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _feed(self) -> None:
        try:
            while True:
                task = self.tasks.get()
                if task is _STOP:
                    self._frames.write_frame(self.process.stdin, None)
                    return
                self._frames.write_frame(self.process.stdin, task)
        except (OSError, ValueError):
            return  # the worker is gone: the reader reports it
        except Exception as error:  # a task that cannot be sent: the planning fails with it
            self._stopping_reply(("error", error))

    def _stopping_reply(self, reply: tuple[str, Any]) -> None:
        """Hand ``reply`` to the planning process (unless the worker is being stopped)."""
        while not self._stopping:
            try:
                self.replies.put(reply, timeout=0.1)
                return
            except queue.Full:
                continue

    def _read(self) -> None:
        while not self._stopping:
            try:
                reply = self._frames.read_frame(self.process.stdout)
            except (EOFError, OSError, ValueError):
                reply = ("error", RuntimeError("a rendering worker process stopped"))
            self._stopping_reply(reply)
            if reply[0] != "ok":
                return

    def result(self) -> RenderedChunk:
        kind, payload = self.replies.get()
        if kind != "ok":
            raise payload
        return payload

    def stop(self, *, wait: bool) -> None:
        """Let the worker finish what it was given (``wait``), or stop it at once."""
        if wait:
            self.tasks.put(_STOP)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        self._stopping = True
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.tasks.put(_STOP)  # a feeder waiting for work ends; one writing fails on the closed pipe
        for thread in self._threads:
            thread.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


class RenderPool:
    """Rendering worker processes, started as soon as a large batch is in sight so that they start
    and compile the templates while the planning process still selects the audience.

    Each worker is ``python -m vivier.dispatch.render_worker`` (a new interpreter, as with the
    ``spawn`` start method, safe inside an Airflow task, but importing only what rendering needs);
    chunks go to the workers in turn and come back in order."""

    def __init__(self, settings: RenderSettings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._workers: list[_Worker] = []

    @property
    def started(self) -> bool:
        return bool(self._workers)

    def start(self, templates: Sequence[str] = ()) -> None:
        if not self._workers and self.processes > 1:
            self._workers = [_Worker(self.settings, templates) for _ in range(self.processes)]

    def imap(self, tasks: Iterable[_Task]) -> Iterator[RenderedChunk]:
        """The rendered chunks of ``tasks``, in order, with at most two chunks per worker in flight."""
        self.start()
        workers = self._workers
        in_flight: deque[_Worker] = deque()  # the worker of each chunk not yet returned, in order
        for number, task in enumerate(tasks):
            worker = workers[number % len(workers)]
            worker.tasks.put(task)
            in_flight.append(worker)
            if len(in_flight) > 2 * len(workers):
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()

    def close(self, *, wait: bool = False) -> None:
        """Stop the workers (``wait``: let them finish what they were given)."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop(wait=wait)

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_in_chunks(
    settings: RenderSettings,
    jobs: Sequence[dict[str, Any]],
    values: RowValues,
    *,
    processes: int = 1,
    chunk_size: int = 2000,
    renderer: Renderer | None = None,
    pool: RenderPool | None = None,
) -> Iterator[RenderedChunk]:
    """Rendered rows, chunk by chunk, in the order of ``jobs`` (in ``processes`` worker processes,
    those of ``pool`` when given, or in this process)."""
    tasks = ((list(jobs[start : start + chunk_size]), values) for start in range(0, len(jobs), chunk_size))
    if processes <= 1:
        local = renderer or Renderer(settings)
        for chunk, chunk_values in tasks:
            yield local.render_rows(chunk, chunk_values)
        return
    if pool is not None and pool.processes == processes:
        yield from pool.imap(tasks)
        return
    with RenderPool(settings, processes) as own:
        yield from own.imap(tasks)
