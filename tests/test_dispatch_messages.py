"""Messages built from outbox rows: deterministic Message-IDs, RFC 8058 headers kept whole, no header
injection whatever the name or the subject holds (property test), serialisation the stock
generator agrees with."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vivier.dispatch.messages import (
    ONE_CLICK,
    InvalidMessage,
    MessageBuilder,
    OutgoingMessage,
    clean_display_name,
    make_message_id,
)

WHEN = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
BUILDER = MessageBuilder("Talent team", "talent@vivier.test")
EXPECTED_HEADERS = {
    "message-id",
    "date",
    "from",
    "to",
    "subject",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "content-language",
    "auto-submitted",
    "mime-version",
    "content-type",
}
UNSUBSCRIBE = "<https://talent.example.com/preferences/unsubscribe/" + "eyJwIjo0MiwidSI6ImpvYl9vZmZlcnMifQ." * 3 + ">"


def message(name: str | None = "Zoé Martin", subject: str = "Vos offres", headers=None) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=make_message_id("weekly_offers", "2026-W48", 42, "vivier.test"),
        recipient="zoe@example.test",
        recipient_name=name,
        subject=subject,
        body_text="Bonjour Zoé,\nligne 2\n",
        body_html="<p>Bonjour Zoé</p>",
        language="fr",
        headers=headers or {"List-Unsubscribe": UNSUBSCRIBE, "List-Unsubscribe-Post": ONE_CLICK},
    )


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_message_ids_are_deterministic_and_distinct_per_person_campaign_and_period() -> None:
    first = make_message_id("weekly_offers", "2026-W48", 42, "vivier.test")
    assert first == make_message_id("weekly_offers", "2026-W48", 42, "vivier.test")
    others = {
        make_message_id("weekly_offers", "2026-W49", 42, "vivier.test"),
        make_message_id("monthly_content", "2026-W48", 42, "vivier.test"),
        make_message_id("weekly_offers", "2026-W48", 43, "vivier.test"),
    }
    assert first not in others and len(others) == 3
    assert first.startswith("<") and first.endswith("@vivier.test>") and "42" not in first


def test_a_message_has_both_parts_the_one_click_headers_and_nothing_else() -> None:
    parsed = parse(BUILDER.to_bytes(message(), WHEN))
    assert {key.lower() for key in parsed.keys()} == EXPECTED_HEADERS
    assert parsed["List-Unsubscribe"] == UNSUBSCRIBE, "a long one-click URL is never folded into encoded words"
    assert parsed["List-Unsubscribe-Post"] == ONE_CLICK
    assert parsed["To"].addresses[0].display_name == "Zoé Martin"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Bonjour Zoé,\nligne 2\n"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Bonjour Zoé</p>"
    assert parsed["Date"].datetime == WHEN


def test_the_bytes_are_those_the_stock_generator_writes() -> None:
    built = BUILDER.build(message(), WHEN)
    assert BUILDER.to_bytes(message(), WHEN) == built.as_bytes()


def test_a_text_only_message_and_a_malformed_address() -> None:
    text_only = OutgoingMessage(message_id="<a@vivier.test>", recipient="a@example.test", subject="s", body_text="b")
    parsed = parse(BUILDER.to_bytes(text_only, WHEN))
    assert parsed.get_content_type() == "text/plain" and parsed.get_content().strip() == "b"
    for bad in ("not an address", "a@b.test, c@d.test", "a@b.test>\r\nBcc: c@d.test", "zoé@exämple.test"):
        with pytest.raises(InvalidMessage):
            BUILDER.to_bytes(OutgoingMessage("<x@vivier.test>", bad, "s", "b"), WHEN)
    with pytest.raises(InvalidMessage):
        BUILDER.to_bytes(message(headers={"List-Unsubscribe": "<https://x>\r\nBcc: e@evil.test"}), WHEN)


def test_known_injection_attempts_in_names_and_subjects() -> None:
    for evil in ["Zoé\r\nBcc: evil@x.test", "A\u2028Bcc: e@x.test", "0\x0c\x80", "x\nSubject: hi", "\x85Cc: e@x.test"]:
        parsed = parse(BUILDER.to_bytes(message(name=evil, subject=evil), WHEN))
        assert {key.lower() for key in parsed.keys()} == EXPECTED_HEADERS
        assert parsed["To"].addresses[0].addr_spec == "zoe@example.test"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.one_of(st.none(), st.text(max_size=80)), subject=st.text(max_size=200))
def test_no_name_or_subject_can_add_a_header_or_change_the_recipient(name: str | None, subject: str) -> None:
    data = BUILDER.to_bytes(message(name=name, subject=subject), WHEN)
    head = data.split(b"\r\n\r\n", 1)[0]
    assert all(line.isascii() for line in head.split(b"\r\n")), "headers are plain ASCII"
    parsed = parse(data)
    assert {key.lower() for key in parsed.keys()} == EXPECTED_HEADERS
    addresses = parsed["To"].addresses
    assert len(addresses) == 1 and addresses[0].addr_spec == "zoe@example.test"
    assert addresses[0].display_name == clean_display_name(name)[:64].strip()
    assert parsed["Subject"] == clean_display_name(subject)
    assert parsed["List-Unsubscribe"] == UNSUBSCRIBE


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.one_of(st.none(), st.text(max_size=80)),
    subject=st.text(max_size=1200),
    text=st.text(alphabet=st.sampled_from("ab .=\t\r\n\u00e9\u2028\u00a0<>&"), max_size=300),
    html=st.one_of(st.none(), st.text(alphabet=st.sampled_from("ab .=\t\r\n\u00e9<>&"), max_size=300)),
    language=st.sampled_from([None, "fr", "de"]),
    unsubscribe=st.booleans(),
)
def test_the_direct_serialisation_is_byte_for_byte_the_stock_generator_s(
    name: str | None, subject: str, text: str, html: str | None, language: str | None, unsubscribe: bool
) -> None:
    outgoing = OutgoingMessage(
        message_id=make_message_id("weekly_offers", "2026-W48", 42, "vivier.test"),
        recipient="zoe@example.test",
        recipient_name=name,
        subject=subject,
        body_text=text,
        body_html=html,
        language=language,
        headers={"List-Unsubscribe": UNSUBSCRIBE, "List-Unsubscribe-Post": ONE_CLICK} if unsubscribe else {},
    )
    assert BUILDER.to_bytes(outgoing, WHEN) == BUILDER.build(outgoing, WHEN).as_bytes()


def test_plain_addresses_skip_the_parser_and_others_are_parsed_as_before() -> None:
    from email.headerregistry import Address

    from vivier.dispatch.messages import addr_spec

    for address in ["a@b.test", "first.last+tag@sub.example.test", "o'neil@x.test", "x_y-z@a-b.c"]:
        assert addr_spec(address) == Address(addr_spec=address).addr_spec == address
    assert addr_spec('"a b"@x.test') == Address(addr_spec='"a b"@x.test').addr_spec
    for bad in ("a..b@x.test", "a@b@c", "not an address"):
        with pytest.raises(InvalidMessage):
            addr_spec(bad)
