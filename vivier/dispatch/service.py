"""The dispatch steps as the DAGs (and the demo) run them: plan campaigns, deliver or write .eml
files, read feedback, load the content catalogue, and report the batch record. Counts only come
out of here: nothing personal goes to logs or XCom."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vivier.db.schema import dispatch_batches, outbox, outbox_consents
from vivier.dispatch.config import DispatchConfig, default_config
from vivier.dispatch.delivery import deliver, write_eml_files
from vivier.dispatch.links import PreferenceLinks
from vivier.dispatch.messages import MessageBuilder
from vivier.dispatch.planning import Planner
from vivier.dispatch.templating import TemplateCatalogue
from vivier.dispatch.transports import EmlFolderTransport, SmtpSettings, SmtpTransport


def make_planner(
    base_url: str, keys: Sequence[str], suppression_key: bytes, config: DispatchConfig | None = None
) -> Planner:
    config = config or default_config()
    return Planner(
        config=config,
        templates=TemplateCatalogue(fallback=config.fallback_languages),
        links=PreferenceLinks.of(base_url, keys),
        suppression_key=suppression_key,
    )


def plan_campaigns(
    engine: sa.Engine, planner: Planner, campaigns: Iterable[str], as_of: Any, run_id: str | None = None
) -> list[dict[str, Any]]:
    """Plan each campaign for the period of ``as_of`` (in order: earlier ones count first for the cap)."""
    return [planner.plan(engine, campaign, as_of, run_id).as_dict() for campaign in campaigns]


def stage_campaigns(
    engine: sa.Engine,
    planner: Planner,
    campaigns: Iterable[str],
    as_of: Any,
    run_id: str | None = None,
    parts: int = 1,
) -> list[dict[str, Any]]:
    """Stage each campaign for the period of ``as_of`` in up to ``parts`` parts (in order: earlier
    ones count first for the frequency cap, staged or rendered)."""
    return [planner.stage(engine, campaign, as_of, run_id, parts).as_dict() for campaign in campaigns]


def assign_parts(staged: Sequence[dict[str, Any]], tasks: int) -> list[list[list[int]]]:
    """The staged parts still to render, as ``tasks`` lists of [batch_id, part] (round robin, so
    that each task gets a share of every batch); a list may be empty."""
    pairs = [[int(s["batch_id"]), int(part)] for s in staged if not s["finalised"] for part in s["parts"]]
    tasks = max(1, int(tasks))
    return [pairs[number::tasks] for number in range(tasks)]


def render_staged(engine: sa.Engine, planner: Planner, parts: Iterable[Sequence[int]]) -> list[dict[str, Any]]:
    """Render the given [batch_id, part] pairs (each in its own transaction; a part rendered before
    writes nothing)."""
    return [planner.render_part(engine, int(batch_id), int(part)) for batch_id, part in parts]


def finalise_staged(engine: sa.Engine, planner: Planner, staged: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Close each staged batch (counts, versions, deliverable); one planned before stays as it was.
    The same shape as :func:`plan_campaigns`'s results."""
    return [planner.finalise(engine, int(s["batch_id"])).as_dict() for s in staged]


def send_batches(
    engine: sa.Engine,
    batch_ids: Sequence[int],
    *,
    smtp: SmtpSettings | None = None,
    eml_folder: Path | None = None,
    config: DispatchConfig | None = None,
) -> dict[str, Any]:
    """Deliver the planned messages of the batches over SMTP, or (``eml_folder``) write them as .eml
    files and leave the outbox untouched (dry run)."""
    config = config or default_config()
    sender = (smtp.from_email if smtp and smtp.from_email else None) or config.sender_address
    builder = MessageBuilder(config.sender_name, sender)
    if eml_folder is not None:
        written = write_eml_files(engine, batch_ids, EmlFolderTransport(Path(eml_folder)), builder)
        return {"dry_run": True, "written": written, "folder": str(eml_folder)}
    if smtp is None:
        raise ValueError("either smtp settings or an eml folder is needed")
    report = deliver(engine, batch_ids, SmtpTransport(smtp), builder, config.delivery)
    return {"dry_run": False, "server": smtp.describe(), **report.as_dict()}


def batch_record(engine: sa.Engine, batch_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Per batch: counts by state and skip reason, template versions, and how many messages went out
    under each consent purpose (the ledger events are in ``outbox_consents``)."""
    if not batch_ids:
        return []
    with engine.connect() as connection:
        batches = connection.execute(
            sa.select(dispatch_batches)
            .where(dispatch_batches.c.batch_id.in_(list(batch_ids)))
            .order_by(dispatch_batches.c.batch_id)
        ).mappings()
        records = []
        for batch in batches:
            by_version = connection.execute(
                sa.select(
                    outbox.c.template, outbox.c.language, outbox.c.template_version, outbox.c.state, sa.func.count()
                )
                .where(outbox.c.batch_id == batch["batch_id"])
                .group_by(outbox.c.template, outbox.c.language, outbox.c.template_version, outbox.c.state)
            ).all()
            by_purpose = connection.execute(
                sa.select(outbox_consents.c.purpose, sa.func.count())
                .join(outbox, outbox.c.message_id == outbox_consents.c.message_id)
                .where(outbox.c.batch_id == batch["batch_id"], outbox.c.state == "sent")
                .group_by(outbox_consents.c.purpose)
            ).all()
            records.append(
                {
                    "batch_id": batch["batch_id"],
                    "campaign": batch["campaign"],
                    "period": batch["period"],
                    "messages": batch["messages"],
                    "planned": batch["planned"],
                    "sent": batch["sent"],
                    "failed": batch["failed"],
                    "unknown": batch["unknown"],
                    "skipped": batch["skipped"],
                    "skip_reasons": batch["skip_reasons"] or {},
                    "templates": [
                        {"template": t, "language": lang, "version": v, "state": s, "messages": n}
                        for t, lang, v, s, n in by_version
                    ],
                    "sent_under_consent": {purpose: n for purpose, n in by_purpose},
                }
            )
    return records


def describe_record(record: dict[str, Any]) -> list[str]:
    """Log lines for one batch record (counts, template versions; no person)."""
    lines = [
        f"{record['campaign']} {record['period']}: {record['messages']} message(s): {record['sent']} sent, "
        f"{record['planned']} still planned, {record['failed']} failed, {record['unknown']} unknown, "
        f"{record['skipped']} skipped {record['skip_reasons'] or ''}".rstrip()
    ]
    for row in record["templates"]:
        lines.append(
            f"  {row['template']}/{row['language']} version {row['version']}: {row['messages']} {row['state']}"
        )
    if record["sent_under_consent"]:
        lines.append(f"  sent under consent: {record['sent_under_consent']}")
    if record["unknown"]:
        lines.append(
            f"  {record['unknown']} message(s) in state 'unknown': the server may or may not have taken them; "
            "they are not resent automatically (see the outbox rows of this batch)"
        )
    return lines
