"""For ``make demo``: a local SMTP sink in a subprocess, and a summary of what each kind of person
received and where the ``.eml`` files are (the sink names each file after its Message-ID)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import sqlalchemy as sa

from vivier.db.schema import outbox, persons
from vivier.dispatch.transports import eml_name

CAMPAIGN_LABELS = {
    "rejection_feedback": "rejection email",
    "consent_renewal": "consent renewal request",
    "weekly_offers": "weekly job offers",
    "monthly_offers": "monthly job offers",
    "quarterly_offers": "quarterly job offers",
    "monthly_content": "monthly news",
    "quarterly_content": "quarterly news",
}


def start_sink(folder: Path, port: int = 8025, timeout: float = 15.0) -> subprocess.Popen:
    """``python -m vivier.dispatch.sink`` on 127.0.0.1:``port`` writing to ``folder``; waits until it listens."""
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "vivier.dispatch.sink", "--folder", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if process.poll() is not None:
            raise RuntimeError(f"the SMTP sink exited (is port {port} already taken?)")
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"the SMTP sink did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def stop_sink(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def summary_lines(engine: sa.Engine, sink_folder: Path, top: int = 8) -> list[str]:
    """Each kind of mail with an example file, the most common combinations per person, the outbox states."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                outbox.c.person_id,
                outbox.c.campaign,
                outbox.c.template,
                outbox.c.language,
                outbox.c.state,
                outbox.c.skip_reason,
                outbox.c.message_id,
            )
        ).all()
        people = connection.execute(sa.select(sa.func.count()).select_from(persons)).scalar_one()
    if not rows:
        return ["no email was planned (no consent, no rejection, or no matching offer yet)"]
    states: Counter = Counter()
    examples: dict[tuple[str, str], list] = defaultdict(list)
    received: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        states[(row.campaign, row.state, row.skip_reason)] += 1
        if row.state == "sent":
            examples[(row.campaign, row.template)].append(row)
            received[row.person_id].add(CAMPAIGN_LABELS.get(row.campaign, row.campaign))
    lines = ["Each kind of mail (an example you can open in a mail client):"]
    for (campaign, template), sent in sorted(examples.items()):
        languages = Counter(m.language for m in sent)
        path = sink_folder / eml_name(sent[0].message_id)
        lines.append(f"  {len(sent):>5} x {CAMPAIGN_LABELS.get(campaign, campaign)} [{template}] {dict(languages)}")
        lines.append(f"          {path if path.exists() else str(path) + ' (not in the sink folder)'}")
    combinations = Counter(" + ".join(sorted(labels)) for labels in received.values())
    lines.append(f"What each kind of person received ({len(received)} of {people} people got mail):")
    for combination, count in combinations.most_common(top):
        lines.append(f"  {count:>5} people: {combination}")
    if len(combinations) > top:
        lines.append(f"  ... and {len(combinations) - top} rarer combinations")
    lines.append(f"  {people - len(received):>5} people: nothing (no consent, frequency, suppressed, or nothing new)")
    lines.append("Outbox by campaign and state:")
    for (campaign, state, reason), count in sorted(states.items(), key=lambda item: (item[0][0], item[0][1])):
        lines.append(f"  {campaign:<18} {state:<8} {count:>6}" + (f"  ({reason})" if reason else ""))
    return lines
