"""The bundled sample mailboxes: deterministic, parseable, and as mixed as real mail."""

from __future__ import annotations

import email
import mailbox
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from functools import cache
from pathlib import Path

from commsintel.sample_mailboxes import (
    SAMPLE_WORKSPACE,
    SampleMember,
    SampleWorkspace,
    generate_sample_messages,
    write_sample_mailboxes,
)

END = datetime(2026, 11, 1, tzinfo=UTC)
FREE_MAIL = ("gmail.com", "googlemail.com", "yahoo.com", "outlook.com")


@cache
def mailbox_of(member: SampleMember) -> tuple[Message, ...]:
    return tuple(email.message_from_bytes(raw) for raw in generate_sample_messages(member))


def everyone(message: Message) -> list[str]:
    fields = [v for name in ("From", "To", "Cc", "Bcc") for v in message.get_all(name, [])]
    return [address.lower() for _, address in getaddresses(fields)]


def all_messages() -> list[tuple[str, Message]]:
    return [(m.member_id, msg) for m in SAMPLE_WORKSPACE.members for msg in mailbox_of(m)]


def test_same_seed_writes_byte_identical_mailboxes(tmp_path: Path) -> None:
    # One run here, one in a fresh interpreter (other hash seed, nothing cached)
    first = write_sample_mailboxes(tmp_path / "here", seed=7)
    script = (
        "import sys; from pathlib import Path; "
        "from commsintel.sample_mailboxes import write_sample_mailboxes; "
        "write_sample_mailboxes(Path(sys.argv[1]), seed=7)"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "there")], check=True)

    # One mbox per member, identical bytes
    assert set(first) == {m.member_id for m in SAMPLE_WORKSPACE.members}
    for member_id, path in first.items():
        assert path == tmp_path / "here" / f"{member_id}.mbox"
        assert path.read_bytes() == (tmp_path / "there" / f"{member_id}.mbox").read_bytes()


def test_a_different_seed_writes_different_mailboxes(tmp_path: Path) -> None:
    seven = write_sample_mailboxes(tmp_path / "seven", seed=7)
    eight = write_sample_mailboxes(tmp_path / "eight", seed=8)

    assert all(seven[m].read_bytes() != eight[m].read_bytes() for m in seven)


def test_mbox_files_split_back_into_the_generated_messages(tmp_path: Path) -> None:
    paths = write_sample_mailboxes(tmp_path, seed=7)
    for member in SAMPLE_WORKSPACE.members:
        raw = paths[member.member_id].read_bytes()
        generated = mailbox_of(member)

        # The standard library's mbox reader finds every message, in order
        stored = list(mailbox.mbox(paths[member.member_id]))
        assert len(stored) == len(generated)
        assert [m["Message-ID"] for m in stored] == [m["Message-ID"] for m in generated]

        # Every line starting "From " is a separator; body lines were escaped to ">From "
        lines = raw.split(b"\n")
        separators = [i for i, line in enumerate(lines) if line.startswith(b"From ")]
        assert len(separators) == len(generated)
        assert all(i == 0 or lines[i - 1] == b"" for i in separators)
        assert any(line.startswith(b">From ") for line in lines)


def test_every_message_parses_with_the_headers_ingest_needs() -> None:
    for _, message in all_messages():
        for header in ("From", "To", "Date", "Message-ID"):
            assert message[header], f"{header} missing in {message['Message-ID']}"
        assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
        assert not message.defects
        assert parsedate_to_datetime(message["Date"]).tzinfo is not None


def test_each_mailbox_is_oldest_first_and_message_ids_are_unique() -> None:
    for member in SAMPLE_WORKSPACE.members:
        messages = mailbox_of(member)
        dates = [parsedate_to_datetime(m["Date"]) for m in messages]
        assert dates == sorted(dates)
        ids = [m["Message-ID"] for m in messages]
        assert len(ids) == len(set(ids))


def test_about_three_thousand_messages_over_the_two_years_before_end() -> None:
    counts = {m.member_id: len(mailbox_of(m)) for m in SAMPLE_WORKSPACE.members}
    assert 2_000 <= sum(counts.values()) <= 4_000
    assert all(500 <= count <= 1_000 for count in counts.values()), counts

    dates = [parsedate_to_datetime(m["Date"]) for _, m in all_messages()]
    assert min(dates) >= END - timedelta(days=731)
    assert min(dates) <= END - timedelta(days=700)
    assert END - timedelta(days=14) <= max(dates) < END

    # An earlier `end` moves the whole window
    earlier = datetime(2025, 6, 1, tzinfo=UTC)
    alice = SAMPLE_WORKSPACE.members[0]
    dates = [
        parsedate_to_datetime(email.message_from_bytes(raw)["Date"])
        for raw in generate_sample_messages(alice, end=earlier)
    ]
    assert earlier - timedelta(days=731) <= min(dates) and max(dates) < earlier


def test_mail_comes_in_realistic_timezones() -> None:
    offsets = Counter(parsedate_to_datetime(m["Date"]).utcoffset() for _, m in all_messages())
    hours = {offset.total_seconds() / 3600 for offset in offsets if offset is not None}
    # London winter and summer, Berlin, New York, Sydney at least
    assert {0, 1, 2, -5, -4, 10, 11} <= hours


def test_the_mix_has_newsletters_notifications_and_bounces() -> None:
    messages = [m for _, m in all_messages()]
    newsletters = [m for m in messages if m["List-Id"]]
    assert newsletters
    assert all(m["List-Unsubscribe"] and m["Precedence"] == "bulk" for m in newsletters)

    senders = [getaddresses([m["From"]])[0][1].lower() for m in messages]
    assert any(s.startswith("noreply@") for s in senders)
    assert any(s.startswith("notifications@") for s in senders)
    bounces = [m for m in messages if m["From"].lower().count("mailer-daemon@")]
    assert bounces and all(m.get_content_type() == "multipart/report" for m in bounces)

    automated = len(newsletters) + sum(
        1 for m in messages if m["Auto-Submitted"] and not m["List-Id"]
    )
    assert 0.10 <= automated / len(messages) <= 0.20


def test_free_mail_correspondents_include_provider_aliases_and_case_variants() -> None:
    addresses = {a for _, m in all_messages() for a in everyone(m)}
    domains = {a.split("@")[1] for a in addresses}
    assert set(FREE_MAIL) <= domains

    raw_from = {m["From"] for _, m in all_messages()}
    # The same person under gmail.com and googlemail.com, and in two spellings of case
    assert any("sam.patel@gmail.com" in f for f in raw_from)
    assert any("Sam.Patel@googlemail.com" in f for f in raw_from)
    assert any("Laura.Chen@Outlook.com" in f for f in raw_from)


def test_some_people_only_ever_wrote_in() -> None:
    # Everyone a member wrote to, and every person (not a machine) who wrote in
    members = {m.address for m in SAMPLE_WORKSPACE.members}
    written_to, wrote_in = set(), set()
    for _, message in all_messages():
        sender = getaddresses([message["From"]])[0][1].lower()
        if sender in members:
            written_to |= set(everyone(message))
        elif not (message["List-Id"] or message["Auto-Submitted"]):
            wrote_in.add(sender)

    only_wrote_in = wrote_in - written_to
    assert "jake@growthleadsagency.com" in only_wrote_in
    assert len(only_wrote_in) >= 8


def test_internal_mail_has_only_workspace_addresses() -> None:
    domain = "@" + SAMPLE_WORKSPACE.own_domain
    internal = [m for _, m in all_messages() if all(a.endswith(domain) for a in everyone(m))]
    assert len(internal) >= 100


def test_shared_accounts_put_the_same_message_in_two_mailboxes() -> None:
    holders: dict[str, set[str]] = {}
    for member_id, message in all_messages():
        holders.setdefault(message["Message-ID"], set()).add(member_id)
    shared = [mid for mid, who in holders.items() if len(who) >= 2]

    # Beyond internal mail, customer threads are seen by two members under one Message-ID
    by_id = {m["Message-ID"]: m for _, m in all_messages()}
    domain = "@" + SAMPLE_WORKSPACE.own_domain
    external_shared = [
        mid for mid in shared if not all(a.endswith(domain) for a in everyone(by_id[mid]))
    ]
    assert len(external_shared) >= 100
    assert any("kestrel-analytics.io" in " ".join(everyone(by_id[mid])) for mid in external_shared)


def test_bcc_shows_only_in_the_senders_copy() -> None:
    bcc_of: dict[str, set[str]] = {}
    for member in SAMPLE_WORKSPACE.members:
        for message in mailbox_of(member):
            if message["Bcc"]:
                assert getaddresses([message["From"]])[0][1] == member.address
                bcc_of[message["Message-ID"]] = {
                    a.lower() for _, a in getaddresses([message["Bcc"]])
                }
    assert bcc_of

    # A colleague on bcc holds the message too, without the Bcc header or their address
    received = [
        message
        for member in SAMPLE_WORKSPACE.members
        for message in mailbox_of(member)
        if member.address in bcc_of.get(message["Message-ID"], ())
    ]
    assert received
    for message in received:
        assert not message["Bcc"]
        assert not set(everyone(message)) & bcc_of[message["Message-ID"]]


def test_replies_thread_with_in_reply_to_and_references() -> None:
    messages = [m for _, m in all_messages()]
    known = {m["Message-ID"] for m in messages}
    replies = [m for m in messages if m["In-Reply-To"]]
    assert len(replies) >= 500
    for reply in replies:
        assert reply["In-Reply-To"] in known
        assert reply["In-Reply-To"] in reply["References"].split()
    assert any(m["Subject"].startswith("Re: ") for m in replies)
    assert any(m["Subject"].startswith("RE: ") for m in replies)


def test_names_signatures_html_and_attachments_look_like_real_mail() -> None:
    messages = [m for _, m in all_messages()]
    # RFC 2047 display names decode to the real names
    names = {str(make_header(decode_header(m["From"]))) for m in messages}
    assert any("Jürgen Müller" in name for name in names)

    # Customer signatures carry a title, a phone number and a LinkedIn profile
    bodies = [
        part.get_payload(decode=True).decode()
        for message in messages
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    ]
    assert any("+44 20 7946 0" in b and "linkedin.com/in/" in b for b in bodies)

    types = Counter(m.get_content_type() for m in messages)
    assert types["multipart/alternative"] >= 50
    assert 10 <= types["multipart/mixed"] <= 200
    assert types["text/plain"] > len(messages) / 2


def test_connection_rhythms_differ_between_accounts() -> None:
    def days_before_end(contact: str) -> list[int]:
        return [
            (END - parsedate_to_datetime(m["Date"])).days
            for _, m in all_messages()
            if contact in everyone(m)
        ]

    # Weekly lately, busy about a year ago, a burst nearly two years ago
    assert sum(d <= 60 for d in days_before_end("juergen.mueller@eu.acme-logistics.co.uk")) >= 6
    assert all(320 <= d <= 490 for d in days_before_end("markus.hoffmann@vireo-energy.de"))
    assert all(d >= 650 for d in days_before_end("rhale@bluefincapital.com"))


def test_a_five_member_workspace_generates_in_well_under_three_seconds() -> None:
    zoe = SampleMember("zoe", "Zoe Quinn", "zoe@northwind.io")
    workspace = SampleWorkspace("northwind", "northwind.io", (*SAMPLE_WORKSPACE.members, zoe))
    started = time.perf_counter()
    total = sum(
        sum(1 for _ in generate_sample_messages(m, workspace, seed=99)) for m in workspace.members
    )
    assert total > 2_000
    assert time.perf_counter() - started < 3
