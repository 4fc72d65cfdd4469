"""Benchmark of email dispatch: planning + rendering into the outbox, and SMTP delivery, each beside its floor.

    python bench/bench_dispatch.py [--messages 100000] [--deliver 2000] [--rounds 5] [--db URL]

1. Plan and render ``--messages`` personalised weekly job-offer digests (one per synthetic person:
   audience SQL, suppression, frequency cap, offers, links, sandboxed FR/EN/DE/IT templates,
   outbox rows, consents and items written), timed end to end, with the CPU time of the planning
   process and its rendering workers. Floor: a bare render loop of the same template (the HTML
   part) for the same people in Jinja's own ImmutableSandboxedEnvironment set up like the
   project's; the full message (subject, text and HTML) and the project's sandbox (which takes a
   shortcut for dict keys) are timed too.
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


def stock_sandbox(planner: Planner):
    """Jinja's own ImmutableSandboxedEnvironment, set up as the project's (same folder, autoescape,
    undefined, whitespace and globals) but without the project's shortcuts: the issue's "bare
    sandboxed Jinja render"."""
    from jinja2 import StrictUndefined, select_autoescape
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    ours = planner.templates.env
    stock = ImmutableSandboxedEnvironment(
        loader=ours.loader,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    stock.globals = dict(ours.globals)
    return stock


def floor_contexts(engine: sa.Engine, samples: int) -> list[tuple]:
    """The very variables planning is about to render (the same people, offers and languages; the
    links filled in with fixed strings), with their templates compiled by the stock sandbox and by
    the project's."""
    from vivier.dispatch.outbox import PlanResult
    from vivier.dispatch.templating import CompiledTemplate

    planner = make_bench_planner()
    stock = stock_sandbox(planner)
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
    compiled_stock: dict[tuple[str, str], CompiledTemplate] = {}
    for job in jobs[:samples]:
        context = planner.renderer.context(job, links)
        ours = planner.templates.get(job["template"], job["language"])
        key = (ours.name, ours.language)
        if key not in compiled_stock:
            text, html = (stock.get_template(f"{ours.name}/{ours.language}.{part}") for part in ("txt", "html"))
            compiled_stock[key] = CompiledTemplate(ours.name, ours.language, ours.version, text, html)
        contexts.append((compiled_stock[key], ours, context))
    return contexts


def bench_render_floor(contexts: list[tuple]) -> dict[str, float]:
    """Bare render loops, per second: the HTML template alone and the whole message (subject and
    text blocks, HTML), by the stock sandbox and by the project's; and the CPU seconds per HTML
    render of the stock sandbox."""
    rates = {}
    for label, which in (("stock", 0), ("ours", 1)):
        started, cpu = time.perf_counter(), time.process_time()
        for entry in contexts:
            entry[which].html.render(entry[2])
        rates[f"{label}_html"] = len(contexts) / (time.perf_counter() - started)
        if label == "stock":
            rates["stock_html_cpu"] = (time.process_time() - cpu) / len(contexts)
        started = time.perf_counter()
        for entry in contexts:
            entry[which].render(entry[2])
        rates[f"{label}_message"] = len(contexts) / (time.perf_counter() - started)
    return rates


def bench_planning(engine: sa.Engine) -> tuple[int, float, float, int]:
    """(messages planned, seconds, CPU seconds of the planning process and its workers, processes)."""
    from vivier.dispatch.rendering import worker_count

    planner = make_bench_planner()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, cpu = time.perf_counter(), time.process_time()
    result = planner.plan(engine, "weekly_offers", AS_OF, "bench")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    settings = planner.config.planning
    return result.planned, elapsed, cpu, worker_count(result.planned, settings.workers, settings.parallel_from)


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
    before = bench_render_floor(contexts)
    planned, elapsed, cpu, workers = bench_planning(engine)
    after = bench_render_floor(contexts)
    floor = {key: (before[key] + after[key]) / 2 for key in before}
    ours_per_message = elapsed / planned
    print(
        f"plan + render + write: {planned:,} messages in {elapsed:.1f}s "
        f"({planned / elapsed:,.0f} messages/s; rendered in {workers} process(es); "
        f"{cpu:.1f} CPU seconds in all, {cpu / planned * 1e6:,.0f} us per message)"
    )
    print(
        "floor: bare sandboxed Jinja render (jinja2's ImmutableSandboxedEnvironment) of the same HTML template "
        f"with the same variables: {floor['stock_html']:,.0f} renders/s "
        f"(before {before['stock_html']:,.0f}, after {after['stock_html']:,.0f}; "
        f"{floor['stock_html_cpu'] * 1e6:,.1f} CPU us per render)"
    )
    print(f"       the whole message (subject, text, HTML): {floor['stock_message']:,.0f} messages/s")
    print(
        f"       the same in the project's sandbox: HTML {floor['ours_html']:,.0f} renders/s, "
        f"whole message {floor['ours_message']:,.0f} messages/s"
    )
    print(
        f"planning ratio (time per message / bare HTML render): {ours_per_message * floor['stock_html']:.2f}x "
        f"(target: within 4x); vs the whole-message render: {ours_per_message * floor['stock_message']:.2f}x; "
        f"vs the project's sandbox: {ours_per_message * floor['ours_html']:.2f}x (HTML), "
        f"{ours_per_message * floor['ours_message']:.2f}x (whole message)"
    )
    print(
        f"CPU per message of planning / CPU per bare HTML render: {cpu / planned / floor['stock_html_cpu']:.2f}x "
        "(the planning runs on every core: divide by their number for the ratio on an idle machine)"
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
