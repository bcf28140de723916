import base64
import email
import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commsintel.ingest.domain.parsing import (
    AttachmentMeta,
    MalformedMessage,
    ParsedMessage,
    Participant,
    parse_message,
)

OWNER = frozenset({"me@acme.example"})


def mail(*headers: str, body: str = "Hello\n") -> bytes:
    """A message from header lines; From and Date are added unless given."""
    names = {line.split(":", 1)[0].lower() for line in headers}
    defaults = [
        line
        for name, line in (
            ("from", "From: Alice <alice@example.com>"),
            ("date", "Date: Tue, 02 Jan 2024 10:00:00 +0000"),
        )
        if name not in names
    ]
    return ("\n".join([*defaults, *headers]) + "\n\n" + body).encode()


def parse(raw: bytes, **kwargs) -> ParsedMessage:
    return parse_message(raw, owner_addresses=kwargs.pop("owner_addresses", OWNER), **kwargs)


# --- participants --------------------------------------------------------------


def test_participants_come_role_by_role_in_header_order_without_duplicates():
    # given a message naming people in every role, one of them twice in To
    raw = mail(
        "Bcc: hidden@example.com",
        "To: Bob <bob@example.com>, carol@example.com, BOB@example.com",
        "Cc: dave@example.com",
        "Reply-To: replies@example.com",
        "Sender: assistant@example.com",
    )

    message = parse(raw)

    # then roles come in the fixed order and Bob is listed once as a recipient
    assert [(p.role, p.address) for p in message.participants] == [
        ("from", "alice@example.com"),
        ("sender", "assistant@example.com"),
        ("reply_to", "replies@example.com"),
        ("to", "bob@example.com"),
        ("to", "carol@example.com"),
        ("cc", "dave@example.com"),
        ("bcc", "hidden@example.com"),
    ]
    assert message.addresses("to", "cc") == (
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
    )


def test_same_person_in_two_roles_is_listed_in_each():
    message = parse(mail("To: alice@example.com", "Cc: Alice <alice@example.com>"))

    assert [p.role for p in message.participants] == ["from", "to", "cc"]
    assert message.addresses() == ("alice@example.com",)


def test_encoded_display_names_read_as_people_wrote_them():
    # given names in RFC 2047 (quoted-printable, base64, split words, quoted)
    raw = mail(
        "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.de>",
        "To: =?iso-8859-1?b?Sm9z6Q==?= <jose@example.es>, "
        '"=?utf-8?q?Zo=C3=AB?=   =?utf-8?q?_Smith?=" <zoe@example.com>',
        "Cc: \"'Quoted   Name'\" <q@example.com>, plain@example.com",
    )

    names = {p.address: p.display_name for p in parse(raw).participants}

    assert names == {
        "joerg@example.de": "Jörg Müller",
        "jose@example.es": "José",
        "zoe@example.com": "Zoë Smith",
        "q@example.com": "Quoted Name",
        "plain@example.com": "",
    }


def test_unknown_charset_in_a_name_does_not_lose_the_message():
    raw = mail("From: =?x-no-such-charset?q?Ann?= <ann@example.com>", "To: me@acme.example")

    assert parse(raw).participants[0] == Participant("from", "ann@example.com", "Ann")


def test_punycode_domain_is_shown_in_unicode():
    message = parse(mail("To: Hans <hans@xn--mnchen-3ya.de>, grete@XN--STRAE-OQA.example"))

    assert message.addresses("to") == ("hans@münchen.de", "grete@straße.example")


def test_addresses_are_lowercased_and_owner_matches_regardless_of_case():
    # given the owner writing from an uppercased address
    raw = mail("From: Me <ME@Acme.Example>", "To: <Bob@Example.COM>")

    message = parse(raw, owner_addresses=frozenset({" Me@ACME.example "}))

    assert message.addresses() == ("me@acme.example", "bob@example.com")
    assert message.direction == "sent"


def test_invalid_addresses_are_skipped():
    raw = mail("To: undisclosed-recipients:;, nobody, @example.com, bob@, ok@example.com")

    assert parse(raw).addresses("to") == ("ok@example.com",)


def test_raw_utf8_headers_are_read_as_utf8():
    raw = "From: Jörg <j@example.de>\nDate: Tue, 02 Jan 2024 10:00:00 +0000\nSubject: Grüße\n\nx"

    message = parse(raw.encode())

    assert message.subject == "Grüße"
    assert message.participants[0].display_name == "Jörg"


# --- identity, dates, direction ----------------------------------------------------


def test_message_id_loses_its_angle_brackets():
    assert parse(mail("Message-ID:  <abc.123@mail.example.com> ")).message_id == (
        "abc.123@mail.example.com"
    )


def test_missing_message_id_gives_a_stable_id_from_the_content():
    # given the same message without a Message-ID seen twice, and a different one
    raw = mail("Subject: no id")

    first, again, other = parse(raw), parse(raw), parse(mail("Subject: other"))

    # then the id is derived from the bytes: same bytes, same id
    assert first.message_id == again.message_id == f"hash:{first.content_hash[:32]}"
    assert len(first.content_hash) == 64
    assert other.message_id != first.message_id


def test_date_is_converted_to_utc():
    message = parse(mail("Date: Tue, 02 Jan 2024 11:30:00 +0130"))

    assert message.sent_at == datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
    assert message.sent_at.tzinfo is UTC


def test_date_without_zone_is_taken_as_utc():
    assert parse(mail("Date: Tue, 02 Jan 2024 10:00:00 -0000")).sent_at == datetime(
        2024, 1, 2, 10, 0, tzinfo=UTC
    )


def test_missing_date_falls_back_to_newest_received_header():
    # given no Date but a relay chain, the last hop stamped latest
    raw = mail(
        "Date: not a date",
        "Received: from mx2 by mx3; Wed, 03 Jan 2024 09:00:05 +0100",
        "Received: from mx1 (helo; with; semicolons) by mx2; Wed, 03 Jan 2024 08:00:00 +0000",
        "Received: from somewhere without a date",
    )

    assert parse(raw).sent_at == datetime(2024, 1, 3, 8, 0, 5, tzinfo=UTC)


def test_fallback_time_is_used_when_headers_have_no_date():
    # given the IMAP INTERNALDATE as fallback
    internal_date = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    message = parse(mail("Date: ???"), fallback_time=internal_date)

    assert message.sent_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_message_without_any_date_is_malformed():
    with pytest.raises(MalformedMessage, match="no usable date"):
        parse(mail("Date: someday"))


@pytest.mark.parametrize(
    "raw",
    [b"", b"  \r\n", b"To: bob@example.com\n\nno sender", mail("From: not an address")],
)
def test_message_without_sender_is_malformed(raw):
    with pytest.raises(MalformedMessage) as error:
        parse(raw)
    assert error.value.reason


def test_non_bytes_input_is_malformed():
    with pytest.raises(MalformedMessage):
        parse("From: a@example.com")  # type: ignore[arg-type]


def test_mail_from_the_owner_is_sent_and_other_mail_received():
    sent = parse(mail("From: me@acme.example", "To: bob@example.com"))
    received = parse(mail("From: bob@example.com", "To: me@acme.example"))

    assert (sent.direction, received.direction) == ("sent", "received")


# --- automated mail ---------------------------------------------------------------


def test_personal_mail_is_not_automated():
    message = parse(mail("To: me@acme.example", "Auto-Submitted: no"))

    assert message.automated is False
    assert message.automated_reasons == ()
    assert message.list_id is None


def test_mailing_list_mail_is_automated_with_its_reasons():
    raw = mail(
        "List-Id: Python announcements <Python-Announce.python.org>",
        "List-Unsubscribe: <mailto:leave@python.org>",
        "Precedence: Bulk",
        "Auto-Submitted: auto-generated; type=digest",
    )

    message = parse(raw)

    assert message.automated
    assert message.automated_reasons == (
        "list-id",
        "list-unsubscribe",
        "precedence:bulk",
        "auto-submitted:auto-generated",
    )
    assert message.list_id == "python-announce.python.org"


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("noreply@example.com", "role-sender:noreply"),
        ("No-Reply@example.com", "role-sender:noreply"),
        ("no_reply-billing@example.com", "role-sender:noreply"),
        ("do-not-reply@example.com", "role-sender:donotreply"),
        ("MAILER-DAEMON@mx.example.com", "role-sender:mailer-daemon"),
        ("postmaster@example.com", "role-sender:postmaster"),
        ("notifications@github.com", "role-sender:notifications"),
        ("bounces+12345@mail.example.com", "role-sender:bounce"),
    ],
)
def test_machine_senders_are_automated(sender, reason):
    assert parse(mail(f"From: {sender}")).automated_reasons == (reason,)


def test_people_whose_names_look_like_roles_are_not_automated():
    assert not parse(mail("From: noreen.replyson@example.com")).automated


# --- threads --------------------------------------------------------------------


def test_thread_id_is_the_first_reference():
    raw = mail(
        "Message-ID: <c@example.com>",
        "In-Reply-To: <b@example.com> (Bob's message)",
        "References: <a@example.com>\n <b@example.com> <a@example.com>",
    )

    message = parse(raw)

    assert message.references == ("a@example.com", "b@example.com")
    assert message.in_reply_to == "b@example.com"
    assert message.thread_id == "a@example.com"


def test_thread_id_falls_back_to_in_reply_to_then_own_id():
    reply = parse(mail("Message-ID: <c@example.com>", "In-Reply-To: <b@example.com>"))
    first = parse(mail("Message-ID: <c@example.com>", "In-Reply-To: your message of Monday"))

    assert reply.thread_id == "b@example.com"
    assert (first.in_reply_to, first.thread_id) == (None, "c@example.com")


# --- subject, bodies, attachments ------------------------------------------------


def test_folded_encoded_subject_reads_as_one_line():
    raw = mail("Subject: =?utf-8?b?R3LDvMOfZQ==?=\n =?utf-8?q?_aus_K=C3=B6ln?= and\n\tmore")

    assert parse(raw).subject == "Grüße aus Köln and more"


def test_message_without_subject_has_empty_subject():
    assert parse(mail()).subject == ""


MULTIPART = """\
From: Alice <alice@example.com>
To: me@acme.example
Date: Tue, 02 Jan 2024 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe
--inner
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

<p>Gr=FC=DFe</p>
--inner--
--outer
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment; filename*=utf-8''R%C3%A9sum%C3%A9.txt

12345
--outer
Content-Type: application/pdf; name="=?utf-8?q?Angebot_=C3=BC.pdf?="
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: image/png
Content-Disposition: inline
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--outer
Content-Type: text/plain; charset=utf-8

footer added by the list
--outer--
"""


def test_multipart_mail_gives_first_plain_and_html_bodies():
    message = parse(MULTIPART.encode())

    assert message.text_body is not None and message.text_body.strip() == "Grüße"
    assert message.html_body is not None and message.html_body.strip() == "<p>Grüße</p>"


def test_attachments_report_name_type_and_decoded_size():
    message = parse(MULTIPART.encode())

    assert message.attachments == (
        AttachmentMeta("Résumé.txt", "text/plain", 5),
        AttachmentMeta("Angebot ü.pdf", "application/pdf", 9),
        AttachmentMeta("", "image/png", 8),
    )


def test_attached_message_is_one_attachment_and_not_the_body():
    raw = mail(
        "Content-Type: multipart/mixed; boundary=b",
        body="--b\nContent-Type: text/plain\n\nsee below\n"
        "--b\nContent-Type: message/rfc822\n\nFrom: x@example.com\n\ninner body\n--b--\n",
    )

    message = parse(raw)

    assert message.text_body == "see below"
    assert [(a.content_type, a.size > 0) for a in message.attachments] == [("message/rfc822", True)]


def test_body_in_unknown_charset_is_still_readable():
    raw = mail("Content-Type: text/plain; charset=x-made-up", body="caf\u00e9 ok")

    assert parse(raw).text_body == "café ok"


def test_single_part_html_mail_has_no_text_body():
    message = parse(mail("Content-Type: text/html; charset=utf-8", body="<b>hi</b>"))

    assert (message.text_body, message.html_body) == (None, "<b>hi</b>")


def test_deeply_nested_parts_are_malformed_not_a_crash():
    # given two thousand multiparts, each the only part of the one before
    nesting = "".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(2000)
    )
    raw = f"From: a@example.com\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n{nesting}"

    with pytest.raises(MalformedMessage, match="nested"):
        parse(raw.encode())


# --- any bytes at all -------------------------------------------------------------

REAL_MESSAGE = MULTIPART.replace(
    "MIME-Version",
    "Cc: =?utf-8?q?Zo=C3=AB?= <zoe@xn--mnchen-3ya.de>\n"
    "Subject: =?utf-8?b?R3LDvMOfZQ==?=\n"
    "Message-ID: <m@example.com>\nReferences: <r@example.com>\n"
    "List-Unsubscribe: <mailto:x@example.com>\nMIME-Version",
).encode()

TRICKY_BYTES = [b"=?", b"?=", b"?b?", b"<", b">", b'"', b",", b";", b"\n", b"\n ", b"\xff", b"*0*="]


@st.composite
def mutated_messages(draw) -> bytes:
    data = bytearray(REAL_MESSAGE)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(TRICKY_BYTES) | st.binary(max_size=8))
        else:
            del data[at : at + draw(st.integers(1, 16))]
    return bytes(data)


def parses_or_is_malformed(raw: bytes) -> None:
    try:
        result = parse_message(raw, owner_addresses=OWNER)
    except MalformedMessage as error:
        assert error.reason
    else:
        assert isinstance(result, ParsedMessage)
        assert result.sent_at.tzinfo is UTC
        assert result.addresses("from")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_are_malformed(raw):
    parses_or_is_malformed(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_messages())
def test_damaged_real_message_parses_or_is_malformed(raw):
    parses_or_is_malformed(raw)


# --- attachment sizes, MIME parameters and repeated headers (issue 8) ------------------


@st.composite
def base64_attachments(draw) -> tuple[bytes, bytes]:
    """A message with one base64 attachment, wrapped at any width, padding kept or
    dropped, sometimes damaged; and the attachment's bytes."""
    content = draw(st.binary(max_size=600))
    encoded = base64.b64encode(content).decode()
    if draw(st.booleans()):
        encoded = encoded.rstrip("=")
    width = draw(st.sampled_from([76, 64, 7, 4, 1, 10_000]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(encoded[i : i + width] for i in range(0, len(encoded), width))
    damage = draw(st.sampled_from(["", "", "=", "==", "===", "!", " ", "\t", "A", "AB=", "\xe9"]))
    at = draw(st.integers(0, len(text)))
    text = text[:at] + damage + text[at:]
    raw = mail(
        "Content-Type: multipart/mixed; boundary=b",
        body="--b\nContent-Type: text/plain\n\nhello\n"
        "--b\nContent-Type: application/pdf; name=a.pdf\n"
        f"Content-Transfer-Encoding: base64\n\n{text}\n--b--\n",
    )
    return raw, content


@settings(max_examples=300, deadline=None)
@given(base64_attachments())
def test_attachment_size_is_what_decoding_the_attachment_gives(case):
    raw, content = case

    [attachment] = parse(raw).attachments

    # then the size is that of the stdlib's decoding, damaged or not; intact, the content's
    decoded = email.message_from_bytes(raw).get_payload()[1].get_payload(decode=True)
    assert attachment.size == len(decoded)
    if decoded == content:
        assert attachment.size == len(content)


def test_attachment_size_agrees_with_decoding_on_every_short_base64_text():
    # given every text of up to five characters from base64 letters, padding, line
    # breaks and a character base64 does not have
    texts = ["".join(t) for n in range(6) for t in itertools.product("Q/=\n!", repeat=n)]

    for text in texts:
        raw = mail(
            "Content-Type: multipart/mixed; boundary=b",
            body="--b\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n"
            f"AAAA{text}\n--b--\n",
        )

        # then each attachment's size is what the stdlib's decoding gives
        decoded = email.message_from_bytes(raw).get_payload()[0].get_payload(decode=True)
        assert parse(raw).attachments[0].size == len(decoded), text


PARAMETERS = [
    "",
    "; charset=iso-8859-1",
    '; charset="UTF-8"; name="report.txt"',
    "; charset*=utf-8''iso-8859-1",
    "; charset*=x-no-such''utf-8",
    "; name*=utf-8''R%C3%A9sum%C3%A9.txt",
    "; name*0=part; name*1=two.txt",
    "; name*=utf-8''a; name*0*=b",  # numbered and unnumbered sections of one name
    "; charset*=utf-8''a; charset*0=b",
]
DISPOSITIONS = ["", "inline", "attachment", 'attachment; filename="a b.txt"', "inline; filename*=x"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(PARAMETERS), st.sampled_from(DISPOSITIONS), st.sampled_from(["plain", "html"])
)
def test_text_parts_read_name_and_charset_as_the_stdlib_does(parameters, disposition, subtype):
    headers = [f"Content-Type: text/{subtype}{parameters}"]
    if disposition:
        headers.append(f"Content-Disposition: {disposition}")
    raw = mail(*headers, body="caf\u00e9")

    message = parse(raw)

    # then a part the stdlib finds a filename on (or cannot read one on) is an
    # attachment, any other is the body, decoded in the charset the stdlib reads
    part = email.message_from_bytes(raw)
    try:
        filename = part.get_filename()
        charset = part.get_content_charset()
    except (ValueError, LookupError, UnicodeError, TypeError):
        filename = charset = "unreadable"
    if filename is not None or disposition.startswith("attachment"):
        assert [a.content_type for a in message.attachments] == [f"text/{subtype}"]
        assert (message.text_body, message.html_body) == (None, None)
    else:
        body = message.text_body if subtype == "plain" else message.html_body
        assert message.attachments == ()
        assert body in {"caf\u00e9", "caf\u00c3\u00a9", "caf\ufffd\ufffd"}
        if charset in (None, "utf-8", "unreadable"):
            assert body == "caf\u00e9"


def test_boundary_in_contradicting_sections_is_malformed_not_a_crash():
    raw = mail("Content-Type: multipart/mixed; boundary*=a; boundary*0=b", body="--a\n")

    with pytest.raises(MalformedMessage, match="boundary"):
        parse(raw)


def test_same_address_lines_in_many_messages_read_the_same_every_time():
    # given one To line in a hundred messages, and a To line too long to be remembered
    line = "To: =?utf-8?q?Zo=C3=AB?= <ZOE@xn--mnchen-3ya.de>, bob@example.com"
    crowd = "To: " + ", ".join(f"Person {i} <p{i}@example.com>" for i in range(300))

    messages = [parse(mail(line, f"Subject: {i}")) for i in range(100)]
    crowded = parse(mail(crowd))

    assert {m.participants for m in messages} == {
        (
            Participant("from", "alice@example.com", "Alice"),
            Participant("to", "zoe@münchen.de", "Zoë"),
            Participant("to", "bob@example.com", ""),
        )
    }
    assert len(crowded.addresses("to")) == 300
    assert crowded.participants[-1] == Participant("to", "p299@example.com", "Person 299")
