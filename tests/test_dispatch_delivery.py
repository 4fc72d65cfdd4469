"""SMTP delivery against a real SMTP server (aiosmtpd on loopback): exactly-once where it can be
known, ``unknown`` where it cannot, nothing twice on a re-run, throttling, stale claims."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from vivier.db.schema import dispatch_batches, outbox, persons
from vivier.dispatch.config import DeliverySettings
from vivier.dispatch.delivery import deliver
from vivier.dispatch.messages import ONE_CLICK, MessageBuilder, make_message_id
from vivier.dispatch.sink import SinkHandler, start_sink
from vivier.dispatch.transports import (
    FAILED,
    RETRY,
    SENT,
    UNKNOWN,
    Envelope,
    SendResult,
    SmtpSettings,
    SmtpTransport,
    Throttle,
    dot_stuffed,
)

NOW = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
FAST = DeliverySettings(
    messages_per_second=0, chunk_size=50, max_attempts=8, backoff_seconds=0.01, backoff_max_seconds=0.05
)


class FlakyHandler(SinkHandler):
    """A sink that refuses (4xx), rejects (5xx) or drops the connection at random points.

    Permanent refusals depend on the recipient (the same on every attempt); transient faults are
    drawn per command. A connection dropped after the data was received was committed half the
    time, so the sender cannot know (RFC 1047): such messages must end ``unknown``, never resent.
    """

    def __init__(self, seed: int, transient: float = 0.04, drop: float = 0.03, permanent: float = 0.02) -> None:
        super().__init__()
        self.rng = random.Random(seed)
        self.transient, self.drop, self.permanent = transient, drop, permanent

    def _refused_for_good(self, address: str) -> bool:
        return int(hashlib.sha256(address.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < self.permanent

    @staticmethod
    def _hang_up(server) -> None:
        server.transport.close()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd hook
        draw = self.rng.random()
        if draw < self.drop:
            self._hang_up(server)
            return "421 4.3.2 shutting down"
        if draw < self.drop + self.transient:
            return "451 4.3.0 try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if self._refused_for_good(address):
            return "550 5.1.1 no such mailbox"
        draw = self.rng.random()
        if draw < self.drop:
            self._hang_up(server)
            return "421 4.3.2 shutting down"
        if draw < self.drop + self.transient:
            return "450 4.2.1 mailbox busy"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        draw = self.rng.random()
        if draw < self.drop:
            if self.rng.random() < 0.5:
                self.accept(envelope.original_content or envelope.content)  # taken, but the answer is lost
            self._hang_up(server)
            return "250 OK"
        if draw < self.drop + self.transient:
            return "452 4.3.1 insufficient storage"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink():
    handler = SinkHandler()
    controller = start_sink(handler)
    yield handler, controller.port
    controller.stop()


def plant_batch(engine: sa.Engine, count: int, campaign: str = "weekly_offers", period: str = "2026-W48") -> int:
    """A batch of ``count`` planned bulk messages to distinct people (names with accents, line separators)."""
    with engine.begin() as connection:
        connection.execute(
            persons.insert(),
            [
                {"person_id": i, "email": f"p{i}@example.test", "created_at": NOW, "updated_at": NOW}
                for i in range(1, count + 1)
            ],
        )
        batch_id = connection.execute(
            dispatch_batches.insert()
            .values(campaign=campaign, period=period, kind="bulk", planned_at=NOW, finalised_at=NOW)
            .returning(dispatch_batches.c.batch_id)
        ).scalar_one()
        connection.execute(
            outbox.insert(),
            [
                {
                    "message_id": make_message_id(campaign, period, i, "vivier.test"),
                    "person_id": i,
                    "campaign": campaign,
                    "period": period,
                    "template": "job_offers_digest",
                    "language": "fr",
                    "recipient": f"p{i}@example.test",
                    "recipient_name": f"Zoé\u2028Bcc: x@evil.test Martin {i}",
                    "subject": "Vos offres de la semaine",
                    "body_text": f"Bonjour Zoé,\n.\n..ligne {i}\n",
                    "body_html": f"<p>Bonjour Zoé {i}</p>",
                    "headers": {"List-Unsubscribe": f"<https://p.test/u/{i}>", "List-Unsubscribe-Post": ONE_CLICK},
                    "state": "planned",
                    "planned_at": NOW,
                    "batch_id": batch_id,
                    "is_bulk": False,  # no consent rows in this test: checked in the planning tests
                }
                for i in range(1, count + 1)
            ],
        )
    return batch_id


def states(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(outbox.c.message_id, outbox.c.state)).all())


def test_a_thousand_messages_with_faults_are_accepted_at_most_once_and_exactly_once_when_known(crm_engine) -> None:
    handler = FlakyHandler(seed=11)
    controller = start_sink(handler)
    try:
        batch_id = plant_batch(crm_engine, 1000)
        transport = SmtpTransport(SmtpSettings(port=controller.port, timeout=5))
        builder = MessageBuilder("Talent team", "talent@vivier.test")
        report = deliver(crm_engine, [batch_id], transport, builder, FAST)
        final = states(crm_engine)
        by_state = Counter(final.values())
        received = handler.received

        assert by_state["planned"] == 0 and by_state["claimed"] == 0, by_state
        assert by_state["sent"] > 850 and by_state["failed"] > 0 and by_state["unknown"] > 0, by_state
        for message_id, state in final.items():
            if state == "sent":
                assert received[message_id] == 1, (message_id, received[message_id])
            elif state == "unknown":
                assert received[message_id] <= 1
            else:
                assert state == "failed" and received[message_id] == 0
        assert set(received) <= {m for m, s in final.items() if s in ("sent", "unknown")}
        assert report.sent == by_state["sent"] and report.unknown == by_state["unknown"]
        assert report.failed == by_state["failed"] and report.retried > 0
        assert transport.connections_opened > 1, "dropped connections were re-opened"

        # a whole re-run sends nothing new and resends no 'unknown' message
        before = Counter(received)
        again = deliver(crm_engine, [batch_id], SmtpTransport(SmtpSettings(port=controller.port)), builder, FAST)
        assert again.sent == 0 and again.unknown == 0 and Counter(handler.received) == before
        with crm_engine.connect() as connection:
            batch = connection.execute(sa.select(dispatch_batches).where(dispatch_batches.c.batch_id == batch_id)).one()
        assert (batch.sent, batch.failed, batch.unknown, batch.planned) == (
            by_state["sent"],
            by_state["failed"],
            by_state["unknown"],
            0,
        )
    finally:
        controller.stop()


def test_messages_arrive_intact_over_one_reused_connection(crm_engine, sink) -> None:
    import email
    import email.policy

    handler, port = sink
    batch_id = plant_batch(crm_engine, 20)
    transport = SmtpTransport(SmtpSettings(port=port))
    builder = MessageBuilder("Talent team", "talent@vivier.test")
    captured: list[bytes] = []
    original = handler.accept
    handler.accept = lambda data: (captured.append(data), original(data))[1]
    report = deliver(crm_engine, [batch_id], transport, builder, FAST)
    assert report.sent == 20 and transport.connections_opened == 1
    parsed = [email.message_from_bytes(data, policy=email.policy.default) for data in captured]
    for message in parsed:
        assert message["List-Unsubscribe-Post"] == ONE_CLICK
        assert message["List-Unsubscribe"].startswith("<https://p.test/u/")
        assert "Bcc" not in message and message["To"].addresses[0].addr_spec.endswith("@example.test")
        body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert body.startswith("Bonjour Zoé,\n.\n..ligne"), "dot-stuffing is undone by the server"
    assert set(states(crm_engine).values()) == {"sent"}


def test_a_claim_left_by_a_dead_sender_becomes_unknown_and_is_not_resent(crm_engine, sink) -> None:
    handler, port = sink
    batch_id = plant_batch(crm_engine, 5)
    with crm_engine.begin() as connection:
        connection.execute(
            outbox.update()
            .where(outbox.c.person_id == 1)
            .values(state="claimed", claimed_by="dead", claimed_at=NOW - timedelta(hours=2))
        )
    report = deliver(
        crm_engine, [batch_id], SmtpTransport(SmtpSettings(port=port)), MessageBuilder("T", "t@vivier.test"), FAST
    )
    assert report.expired_claims == 1 and report.sent == 4
    final = states(crm_engine)
    assert final[make_message_id("weekly_offers", "2026-W48", 1, "vivier.test")] == "unknown"
    assert sum(handler.received.values()) == 4


def test_suppressed_and_erased_recipients_are_skipped_at_send_time(crm_engine, sink) -> None:
    from vivier.db.schema import suppression_list

    handler, port = sink
    batch_id = plant_batch(crm_engine, 3)
    with crm_engine.begin() as connection:
        connection.execute(outbox.update().where(outbox.c.person_id == 1).values(recipient_hmac="h" * 64))
        connection.execute(suppression_list.insert().values(email_hmac="h" * 64, reason="complaint", created_at=NOW))
        connection.execute(persons.delete().where(persons.c.person_id == 2))  # erasure: outbox.person_id -> NULL
    report = deliver(
        crm_engine, [batch_id], SmtpTransport(SmtpSettings(port=port)), MessageBuilder("T", "t@vivier.test"), FAST
    )
    assert report.sent == 1 and dict(report.skipped) == {"suppressed": 1, "erased": 1}
    assert sum(handler.received.values()) == 1

    def record():
        with crm_engine.connect() as connection:
            where = dispatch_batches.c.batch_id == batch_id
            return connection.execute(sa.select(dispatch_batches).where(where)).one()

    batch = record()
    assert (batch.sent, batch.skipped, batch.skip_reasons) == (1, 2, {"suppressed": 1, "erased": 1})
    with crm_engine.begin() as connection:  # skipped some other way since: the next run counts it too
        connection.execute(outbox.update().where(outbox.c.person_id == 3).values(state="skipped", skip_reason="x"))
    again = deliver(
        crm_engine, [batch_id], SmtpTransport(SmtpSettings(port=port)), MessageBuilder("T", "t@vivier.test"), FAST
    )
    assert again.sent == 0 and not again.skipped
    assert record().skip_reasons == {"suppressed": 1, "erased": 1, "x": 1}


def test_transport_outcomes_for_refusals_and_a_refused_connection(sink) -> None:
    handler, port = sink
    envelope = Envelope("<m@t>", "t@vivier.test", "a@example.test", "c", "p")
    data = b"Message-ID: <m@t>\r\nSubject: x\r\n\r\nbody\r\n"
    transport = SmtpTransport(SmtpSettings(port=port))
    assert transport.send(envelope, data).outcome == SENT
    transport.close()
    closed = SmtpTransport(SmtpSettings(port=1, timeout=1))
    assert closed.send(envelope, data).outcome == RETRY, "nothing was handed over: safe to retry"

    class Refusing(SinkHandler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            return "550 5.1.1 unknown" if address.startswith("gone") else "452 4.2.2 over quota"

    controller = start_sink(Refusing())
    try:
        refusing = SmtpTransport(SmtpSettings(port=controller.port))
        gone = Envelope("<g@t>", "t@vivier.test", "gone@example.test", "c", "p")
        assert refusing.send(gone, data).outcome == FAILED
        result = refusing.send(envelope, data)
        assert result.outcome == RETRY and result.code == 452
        refusing.close()
    finally:
        controller.stop()
    assert UNKNOWN == "unknown"


def test_dot_stuffing_and_line_endings() -> None:
    assert dot_stuffed(b"a\n.b\r\n..c") == b"a\r\n..b\r\n...c\r\n.\r\n"
    assert dot_stuffed(b".a\r\n.\r\n") == b"..a\r\n..\r\n.\r\n"


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=40) | st.lists(st.sampled_from([b".", b"\r", b"\n", b"a", b"\r\n"])).map(b"".join))
def test_dot_stuffing_is_that_of_the_line_by_line_rule(data: bytes) -> None:
    import re

    # every line break made CRLF, then a dot doubled wherever a line starts with one
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    lines = lines if lines.endswith(b"\r\n") else lines + b"\r\n"
    assert dot_stuffed(data) == re.sub(rb"(?m)^\.", b"..", lines) + b".\r\n"


@settings(max_examples=500, deadline=None)
@given(address=st.text(alphabet=st.sampled_from("ab9.+'_-@ \"<>()[],:;\\é"), max_size=16))
def test_envelope_addresses_are_quoted_as_smtplib_quotes_them(address: str) -> None:
    import smtplib

    from vivier.dispatch.transports import quoted_address

    assert quoted_address(address) == smtplib.quoteaddr(address)


class ScriptedTransport:
    """Refuses some recipients before the data (without calling ``meanwhile``), takes the others."""

    def __init__(self, refused: set[str]) -> None:
        self.refused = refused
        self.sent: list[str] = []

    def send(self, envelope, data, meanwhile=None):
        self.sent.append(envelope.message_id)
        if envelope.recipient in self.refused:
            return SendResult(RETRY, "RCPT: 450 busy")
        if meanwhile is not None:
            meanwhile()
        return SendResult(SENT, "250 OK")

    def close(self) -> None:
        pass


def outbox_row(i: int, recipient: str | None = None):
    from types import SimpleNamespace

    return SimpleNamespace(
        message_id=make_message_id("weekly_offers", "2026-W48", i, "vivier.test"),
        campaign="weekly_offers",
        period="2026-W48",
        recipient=recipient or f"p{i}@example.test",
        recipient_name=f"P {i}",
        subject="s",
        body_text="b",
        body_html=None,
        headers=None,
        language="fr",
        attempts=0,
    )


def test_each_message_is_built_ahead_once_and_sent_once_in_order_whatever_the_outcomes() -> None:
    from vivier.dispatch.delivery import send_rows

    rows = [outbox_row(i) for i in range(8)] + [outbox_row(8, "not an address")] + [outbox_row(9)]
    transport = ScriptedTransport(refused={"p2@example.test", "p3@example.test", "p7@example.test"})
    outcomes: list = []
    send_rows(rows, transport, MessageBuilder("T", "t@vivier.test"), Throttle(0), outcomes, clock=lambda: NOW)
    expected = [row.message_id for row in rows if row.recipient != "not an address"]
    assert transport.sent == expected, "every message once, in order, none skipped"
    assert [row.message_id for row, _ in outcomes] == [row.message_id for row in rows]
    assert [result.outcome for _, result in outcomes] == [
        SENT, SENT, RETRY, RETRY, SENT, SENT, SENT, RETRY, FAILED, SENT,
    ]  # fmt: skip


def test_a_failure_while_building_ahead_comes_after_the_outcome_of_the_message_in_flight() -> None:
    from vivier.dispatch.delivery import send_rows

    class Exploding(MessageBuilder):
        def to_bytes(self, message, when):
            if message.recipient == "p2@example.test":
                raise RuntimeError("boom")
            return super().to_bytes(message, when)

    rows = [outbox_row(i) for i in range(4)]
    transport = ScriptedTransport(refused=set())
    outcomes: list = []
    with pytest.raises(RuntimeError, match="boom"):
        send_rows(rows, transport, Exploding("T", "t@vivier.test"), Throttle(0), outcomes, clock=lambda: NOW)
    assert [result.outcome for _, result in outcomes] == [SENT, SENT], "the message in flight is recorded"
    assert transport.sent == [rows[0].message_id, rows[1].message_id]


def test_throttle_spaces_sends_without_bursts() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = Throttle(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        throttle.wait()
    assert now[0] == pytest.approx(0.4) and len(slept) == 4
    now[0] += 5  # idle: no catch-up burst afterwards
    throttle.wait()
    throttle.wait()
    assert slept[-1] == pytest.approx(0.1)
    assert Throttle(0).interval == 0


def test_a_misconfigured_server_fails_the_run_and_leaves_every_message_planned(crm_engine, sink) -> None:
    from vivier.dispatch.transports import TransportFatal

    handler, port = sink
    batch_id = plant_batch(crm_engine, 5)
    needs_tls = SmtpTransport(SmtpSettings(port=port, starttls=True))  # the sink offers no STARTTLS
    with pytest.raises(TransportFatal, match="STARTTLS"):
        deliver(crm_engine, [batch_id], needs_tls, MessageBuilder("T", "t@vivier.test"), FAST)
    assert set(states(crm_engine).values()) == {"planned"}, "claims are released: a later run sends them"
    assert sum(handler.received.values()) == 0
