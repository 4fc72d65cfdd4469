"""Benchmark of email dispatch: planning + rendering into the outbox, and SMTP delivery, each beside its floor.

    python bench/bench_dispatch.py [--messages 100000] [--deliver 2000] [--rounds 5] [--db URL]

1. Plan and render ``--messages`` personalised weekly job-offer digests (one per synthetic person:
   audience SQL, suppression, frequency cap, offers, links, sandboxed FR/EN/DE/IT templates,
   outbox rows, consents and items written), timed end to end. Floor: a bare render loop of the
   same sandboxed template (the HTML part) for the same people; the full message (subject, text
   and HTML) is timed too.
2. Deliver ``--deliver`` of those messages to a local aiosmtpd sink (a separate process) over one
   reused connection, with all the outbox bookkeeping (claim, checks again, outcome, counts), in
   ``--rounds`` rounds. Floor: a bare ``smtplib`` loop sending the same messages, prebuilt, to the
   same sink, interleaved with ours so that both see the same load.

Prints throughput, the ratios to the floors and the peak RSS (this process; worker processes
separately).
"""

from __future__ import annotations

import argparse
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vivier.db import make_engine, upgrade  # noqa: E402
from vivier.db.schema import outbox  # noqa: E402
from vivier.dispatch.config import DeliverySettings, default_config  # noqa: E402
from vivier.dispatch.delivery import OUTBOX_FIELDS, deliver, outgoing  # noqa: E402
from vivier.dispatch.links import PreferenceLinks  # noqa: E402
from vivier.dispatch.messages import MessageBuilder  # noqa: E402
from vivier.dispatch.planning import Planner  # noqa: E402
from vivier.dispatch.templating import TemplateCatalogue  # noqa: E402
from vivier.dispatch.transports import SmtpSettings, SmtpTransport  # noqa: E402

AS_OF = pd.Timestamp("2026-12-01 08:00", tz="UTC")
KEY = b"bench-suppression-key-0123456789"
TOKEN_KEYS = ["bench-token-key-0123456789abcdef"]


def peak_rss_mb() -> tuple[float, float]:
    """(this process, the largest child); a spawned child's figure includes the parent's pages at fork."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_bench_planner() -> Planner:
    config = default_config()
    return Planner(
        config,
        TemplateCatalogue(fallback=config.fallback_languages),
        PreferenceLinks.of("https://talent.example.com/p", TOKEN_KEYS),
        KEY,
    )


def seed(engine: sa.Engine, people: int) -> None:
    from vivier.dispatch.synthetic import seed_population

    started = time.perf_counter()
    seed_population(
        engine,
        people,
        as_of=AS_OF,
        job_offers_share=1.0,
        content_share=0.0,
        rejected_share=0.0,
        suppressed_share=0.0,
        frequency_choices=False,
        min_match_score=0.35,
    )
    print(f"seeded {people:,} people in {time.perf_counter() - started:.1f}s")


def floor_contexts(engine: sa.Engine, samples: int) -> list[tuple]:
    """The very variables planning is about to render (the same people, offers and languages; the
    links filled in with fixed strings), with their compiled templates."""
    from vivier.dispatch.outbox import PlanResult

    planner = make_bench_planner()
    spec = planner.config.campaign("weekly_offers")
    with engine.connect() as connection, connection.begin() as transaction:
        result = PlanResult(spec.name, "floor", batch_id=0, created=True)
        jobs, _ = planner._jobs_for(spec)(connection, spec, result, AS_OF)
        transaction.rollback()
    links = {
        "preferences": "https://talent.example.com/p/manage/TOKEN",
        "unsubscribe": "https://talent.example.com/p/u/T",
    }
    contexts = []
    for job in jobs[:samples]:
        data = job.data
        context = {
            "person": {"first_name": data["first_name"], "full_name": data["full_name"], "language": data["language"]},
            "company": planner.config.company,
            "sender_name": planner.config.sender_name,
            "mail_kind": "bulk",
            "bulk": True,
            "purposes": data["purpose_labels"],
            "links": links,
            **data["context"],
        }
        contexts.append((planner.templates.get(data["template"], data["language"]), context))
    return contexts


def bench_render_floor(contexts: list[tuple]) -> tuple[float, float]:
    """Bare sandboxed render loops: the HTML template alone, and the whole message (subject and
    text blocks, HTML)."""
    started = time.perf_counter()
    for compiled, context in contexts:
        compiled.html.render(context)
    html_rate = len(contexts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for compiled, context in contexts:
        compiled.render(context)
    message_rate = len(contexts) / (time.perf_counter() - started)
    return html_rate, message_rate


def bench_planning(engine: sa.Engine) -> tuple[int, float, int]:
    from vivier.dispatch.rendering import worker_count

    planner = make_bench_planner()
    started = time.perf_counter()
    result = planner.plan(engine, "weekly_offers", AS_OF, "bench")
    elapsed = time.perf_counter() - started
    settings = planner.config.planning
    return result.planned, elapsed, worker_count(result.planned, settings.workers, settings.parallel_from)


def bench_delivery(engine: sa.Engine, count: int, rounds: int) -> list[tuple[float, float]]:
    """(ours, bare) messages/s per round; each round sends ``count`` messages both ways, interleaved
    so that both see the same machine load."""
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "vivier.dispatch.sink", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    sink.stdout.readline()
    config = default_config()
    builder = MessageBuilder(config.sender_name, config.sender_address)
    settings = DeliverySettings(messages_per_second=0, chunk_size=200, max_wait_seconds=5)
    results = []
    try:
        with engine.begin() as connection:
            keep = (
                connection.execute(sa.select(outbox.c.message_id).order_by(outbox.c.message_id).limit(count))
                .scalars()
                .all()
            )
            others = outbox.update().where(outbox.c.message_id.not_in(keep))
            connection.execute(others.values(state="skipped", skip_reason="bench"))
            rows = connection.execute(sa.select(*OUTBOX_FIELDS).where(outbox.c.message_id.in_(keep))).all()
            batch_id = connection.execute(sa.select(outbox.c.batch_id).limit(1)).scalar_one()
        prebuilt = [(builder.to_bytes(outgoing(row), AS_OF.to_pydatetime()), row.recipient) for row in rows]
        for _ in range(rounds):
            with engine.begin() as connection:
                again = outbox.update().where(outbox.c.message_id.in_(keep))
                connection.execute(again.values(state="planned", sent_at=None, claimed_by=None, attempts=0))
            smtp = smtplib.SMTP("127.0.0.1", port)
            started = time.perf_counter()
            for data, recipient in prebuilt:
                smtp.sendmail(config.sender_address, [recipient], data)
            bare = len(prebuilt) / (time.perf_counter() - started)
            smtp.quit()
            started = time.perf_counter()
            report = deliver(engine, [batch_id], SmtpTransport(SmtpSettings(port=port)), builder, settings)
            ours = report.sent / (time.perf_counter() - started)
            assert report.sent == len(keep)
            results.append((ours, bare))
        return results
    finally:
        sink.terminate()
        sink.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--deliver", type=int, default=2_000, help="messages per delivery round")
    parser.add_argument("--rounds", type=int, default=5, help="delivery rounds (ours and the floor, interleaved)")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL of an EMPTY database (default: a temp SQLite file)")
    args = parser.parse_args(argv)
    if args.db:
        return run(args, args.db)
    with tempfile.TemporaryDirectory(prefix="vivier-bench-dispatch-") as folder:
        return run(args, f"sqlite:///{folder}/crm.sqlite")


def run(args: argparse.Namespace, url: str) -> int:
    engine = make_engine(url)
    upgrade(engine)
    print(f"database: {engine.url.render_as_string(hide_password=True)}")

    seed(engine, args.messages)
    contexts = floor_contexts(engine, min(args.messages, 20_000))
    html_before, message_before = bench_render_floor(contexts)
    planned, elapsed, workers = bench_planning(engine)
    html_after, message_after = bench_render_floor(contexts)
    html_rate, message_rate = (html_before + html_after) / 2, (message_before + message_after) / 2
    ours_per_message = elapsed / planned
    print(
        f"plan + render + write: {planned:,} messages in {elapsed:.1f}s "
        f"({planned / elapsed:,.0f} messages/s; rendered in {workers} process(es))"
    )
    print(
        f"floor: bare sandboxed render of the same HTML template with the same variables: {html_rate:,.0f} renders/s "
        f"(before {html_before:,.0f}, after {html_after:,.0f})"
    )
    print(f"       bare render of the whole message (subject, text, HTML): {message_rate:,.0f} messages/s")
    print(
        f"planning ratio (time per message / bare HTML render): {ours_per_message * html_rate:.2f}x "
        f"(target: within 4x); vs the whole-message render: {ours_per_message * message_rate:.2f}x"
    )
    own, _ = peak_rss_mb()
    print(f"peak RSS of the planning process: {own:,.0f} MB")

    rounds = bench_delivery(engine, args.deliver, args.rounds)
    for number, (ours, bare) in enumerate(rounds, start=1):
        print(f"delivery round {number}: {ours:,.0f} messages/s with the outbox bookkeeping, bare smtplib {bare:,.0f}")
    ratios = sorted(ours / bare for ours, bare in rounds)
    median_ours = sorted(ours for ours, _ in rounds)[len(rounds) // 2]
    median_bare = sorted(bare for _, bare in rounds)[len(rounds) // 2]
    print(
        f"delivery (median of {len(rounds)} rounds of {args.deliver:,} messages, one connection each): "
        f"{median_ours:,.0f} messages/s; floor (bare smtplib loop to the same sink): {median_bare:,.0f} messages/s"
    )
    print(
        f"delivery ratio: median {ratios[len(ratios) // 2]:.2f}x of the bare loop (best {ratios[-1]:.2f}x) "
        "(target: 0.6x or better; 300 messages/s or more)"
    )
    own, _ = peak_rss_mb()
    print(f"peak RSS: {own:,.0f} MB")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
