"""The operator's command line against a running stack, found only through its data
directory (`stack.json`), as a new user finds it after `make run`: import mail and
calendars, get a token the servers accept, see status and lag, check the stack, and read
and redrive dead letters."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from commsintel.cli import main
from commsintel.contracts.proto.access.v1 import access_pb2, access_pb2_grpc
from commsintel.contracts.topics import INGEST_MAILBOXES, dead_letter_topic
from commsintel.ingest.domain.sightings import archive_mailbox
from commsintel.local_stack import LocalStack, write_stack
from commsintel.pipeline import ensure_topics
from commsintel.platform.streaming import DeadLetters, build_broker
from commsintel.platform.telemetry import configure_tracing

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]

MAIL = """From MAILER-DAEMON Thu Jan  1 00:00:00 2026
From: Alice <alice@ours.com>
To: Bob Buyer <bob@acme-buyer.com>
Subject: Proposal
Date: Mon, 03 Nov 2025 10:00:00 +0000
Message-ID: <{id}-1@ours.com>

Here is the proposal.

From MAILER-DAEMON Thu Jan  1 00:00:00 2026
From: Bob Buyer <bob@acme-buyer.com>
To: Alice <alice@ours.com>
Subject: Re: Proposal
Date: Tue, 04 Nov 2025 10:00:00 +0000
Message-ID: <{id}-2@acme-buyer.com>

Thanks, looks good.

"""
MEETING = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//commsintel tests//EN
BEGIN:VEVENT
UID:{id}-kickoff@ours.com
DTSTAMP:20261101T100000Z
DTSTART:20261110T150000Z
DTEND:20261110T160000Z
SUMMARY:Kickoff
ORGANIZER:mailto:alice@ours.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@acme-buyer.com
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def no_environment(monkeypatch) -> None:
    """A new user's shell: nothing of commsintel in the environment."""
    for name in list(os.environ):
        if name.startswith("COMMSINTEL_") and not name.startswith("COMMSINTEL_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def data_dir(pipeline, tmp_path: Path, no_environment) -> Path:
    """What `commsintel run` leaves in its data directory for the running pipeline."""
    directory = tmp_path / "data"
    directory.mkdir()
    (directory / "dev-signing-key").write_text(pipeline.config.signing_key)
    (directory / "dev-encryption-key").write_text(pipeline.config.encryption_key)
    write_stack(
        directory,
        LocalStack(
            kafka_bootstrap=pipeline.config.kafka_bootstrap,
            mongo_uri=pipeline.config.mongo_uri,
            grpc={
                "access": pipeline.access_target,
                "intelligence": pipeline.intelligence_target,
                "identity-resolution": pipeline.identity_target,
                "ingest": pipeline.ingest_target,
            },
            signing_key_file=str(directory / "dev-signing-key"),
            encryption_key_file=str(directory / "dev-encryption-key"),
            name=pipeline.config.name,
        ),
    )
    return directory


async def commsintel(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_a_new_user_imports_mail_and_calendar_gets_a_token_and_sees_lag(
    pipeline, data_dir: Path, tmp_path: Path, capsys
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    who = ("--workspace", workspace, "--member", "alice", "--owner-address", "alice@ours.com")
    mbox = tmp_path / "alice.mbox"
    mbox.write_text(MAIL.format(id=workspace))
    calendars = tmp_path / "calendars"
    calendars.mkdir()
    (calendars / "work.ics").write_text(MEETING.format(id=workspace))
    (calendars / "broken.ics").write_text("not a calendar at all\n")

    # An mbox, then a directory of .ics files with one that is not iCalendar.
    assert await commsintel("import", *who, str(mbox), "--data-dir", str(data_dir)) == 0
    assert "read 2  published 2  already synced 0" in capsys.readouterr().out
    assert await commsintel("import", *who, str(calendars), "--data-dir", str(data_dir)) == 0
    assert "calendar files 2  events read 1  published 1  cancelled 0  quarantined 1" in (
        capsys.readouterr().out
    )
    # Importing the calendars again publishes nothing; the broken file waits in
    # quarantine with its reason.
    assert await commsintel("import", *who, str(calendars), "--data-dir", str(data_dir)) == 0
    assert "events read 0  published 0" in capsys.readouterr().out
    mailbox = archive_mailbox(workspace, "alice", "alice@ours.com")
    quarantined = await pipeline.ingest.calendars.quarantined(mailbox.mailbox_id)
    assert [(q["href"], q["reason"][:14]) for q in quarantined] == [
        ("broken.ics", "not iCalendar:")
    ]
    await pipeline.wait_until_caught_up()

    # The token is signed with the run's key: the servers accept it.
    assert await commsintel("token", "--workspace", workspace, "--member", "alice",
                            "--data-dir", str(data_dir)) == 0  # fmt: skip
    token = capsys.readouterr().out.strip()
    async with grpc.aio.insecure_channel(pipeline.access_target) as channel:
        records = await access_pb2_grpc.AccessServiceStub(channel).ListRecords(
            access_pb2.ListRecordsRequest(page_size=10),
            metadata=(("authorization", f"Bearer {token}"),),
        )
    assert any(r.email_address == "bob@acme-buyer.com" for r in records.records)

    # Status: topics, every group caught up, the archive mailbox.
    assert await commsintel("status", "--data-dir", str(data_dir)) == 0
    status = capsys.readouterr().out
    assert f"{pipeline.config.name}-intelligence" in status
    assert "total lag 0  (caught up)" in status
    assert "archive" in status

    # Doctor: Kafka, MongoDB, four gRPC servers, two keys.
    assert await commsintel("doctor", "--data-dir", str(data_dir)) == 0
    checks = capsys.readouterr().out
    assert checks.count("ok ") == 8 and "everything answers" in checks


async def test_without_a_running_stack_every_command_says_what_to_set_in_one_line(
    tmp_path: Path, no_environment, capsys
) -> None:
    empty = tmp_path / "nothing-here"
    for argv in (
        ("import", "--workspace", "w", "--member", "m", "--owner-address", "m@x.io",
         str(tmp_path)),
        ("status",),
        ("dlq", "list", "ingest.messages"),
        ("replay", "intelligence"),
        ("serve", "access"),
        ("token", "--workspace", "w", "--member", "m"),
        ("workspace", "create", "--workspace", "w", "--admin", "m", "--address", "m@x.io"),
    ):  # fmt: skip
        assert await commsintel(*argv, "--data-dir", str(empty)) == 2, argv
        errors = capsys.readouterr().err.strip()
        assert errors.count("\n") == 0 and "Traceback" not in errors, errors
        assert "COMMSINTEL_" in errors and errors.startswith(f"commsintel {argv[0]}: "), errors
    # No command invented a key: a token signed with one would be refused anyway.
    assert not empty.exists() or not any(empty.iterdir())


async def test_a_half_set_environment_names_the_missing_variable(
    tmp_path: Path, no_environment, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("COMMSINTEL_INGEST_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    argv = ("import", "--workspace", "w", "--member", "m", "--owner-address", "m@x.io")
    assert await commsintel(*argv, str(tmp_path), "--data-dir", str(tmp_path)) == 2
    errors = capsys.readouterr().err
    assert "COMMSINTEL_INGEST_ENCRYPTION_KEY is not set" in errors
    assert "COMMSINTEL_INGEST_SIGNING_KEY is not set" in errors
    assert "Traceback" not in errors


async def _dead_letter(bootstrap: str, workspace: str, reason: str) -> None:
    """A record dead-lettered the way every consumer does it (contracts' DeadLetters)."""
    broker = build_broker(bootstrap, configure_tracing("dlq-test"), "dlq-test")
    await broker.start()
    try:
        record = SimpleNamespace(
            topic=INGEST_MAILBOXES,
            partition=0,
            offset=41,
            key=workspace.encode(),
            value=b'{"not": "an event"}',
            headers=[("ce_type", b"commsintel.ingest.Broken.v1"), ("ce_id", workspace.encode())],
        )
        await DeadLetters(broker).send(record, reason)
    finally:
        await broker.stop()


async def _records_with_key(bootstrap: str, topic: str, key: bytes) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found = []
        while any([await consumer.position(p) < ends[p] for p in partitions]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [r for r in records if r.key == key]
        return found
    finally:
        await consumer.stop()


async def test_a_dead_letter_is_shown_with_its_reason_and_redriven_once(
    kafka_bootstrap: str, mongo_uri: str, tmp_path: Path, no_environment, capsys
) -> None:
    await ensure_topics(kafka_bootstrap)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    write_stack(
        data_dir,
        LocalStack(kafka_bootstrap, mongo_uri, {}, "unused", "unused", name="dlq-test"),
    )
    workspace = f"ws-{secrets.token_hex(4)}"
    await _dead_letter(kafka_bootstrap, workspace, f"cannot decode ({workspace})")
    dlq = ("--data-dir", str(data_dir))

    # list names it by partition:offset with its source and reason.
    assert await commsintel("dlq", "list", INGEST_MAILBOXES, *dlq) == 0
    line = next(
        row for row in capsys.readouterr().out.splitlines() if f"cannot decode ({workspace})" in row
    )
    letters = [d for d in await _dead_letters(kafka_bootstrap) if d.key == workspace.encode()]
    assert len(letters) == 1 and line
    ref = letters[0].ref

    # show: the reason, the source offset and the original headers.
    assert await commsintel("dlq", "show", dead_letter_topic(INGEST_MAILBOXES), "--offset", ref,
                            *dlq) == 0  # fmt: skip
    shown = capsys.readouterr().out
    assert f"{INGEST_MAILBOXES}[0]@41" in shown
    assert "header   ce_type: commsintel.ingest.Broken.v1" in shown
    assert "dlq_reason" not in shown.split("reason", 1)[1]

    # redrive needs a choice; then sends the original record back, once.
    assert await commsintel("dlq", "redrive", INGEST_MAILBOXES, *dlq) == 2
    assert "--all" in capsys.readouterr().err
    assert await commsintel("dlq", "redrive", INGEST_MAILBOXES, "--offset", ref, *dlq) == 0
    assert f"redriven {ref} -> {INGEST_MAILBOXES}" in capsys.readouterr().out
    assert await commsintel("dlq", "redrive", INGEST_MAILBOXES, "--offset", ref, *dlq) == 0
    assert f"skipped  {ref}: redriven before" in capsys.readouterr().out

    resent = await _records_with_key(kafka_bootstrap, INGEST_MAILBOXES, workspace.encode())
    assert len(resent) == 1
    assert resent[0].value == b'{"not": "an event"}'
    headers = dict(resent[0].headers)
    assert headers["ce_type"] == b"commsintel.ingest.Broken.v1"
    assert headers["ce_id"] == workspace.encode()
    assert not any(name.startswith("dlq_") for name in headers)
    # list marks it as redriven.
    assert await commsintel("dlq", "list", INGEST_MAILBOXES, *dlq) == 0
    assert any(ref in row and "redriven" in row for row in capsys.readouterr().out.splitlines())


async def _dead_letters(bootstrap: str):
    from commsintel.dead_letter_admin import read_dead_letters

    return await read_dead_letters(bootstrap, INGEST_MAILBOXES)


async def test_a_stack_whose_servers_are_gone_is_one_line_naming_its_file(
    tmp_path: Path, no_environment, capsys
) -> None:
    from commsintel.embedded import free_port

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "dev-signing-key").write_text("k")
    (data_dir / "dev-encryption-key").write_text("k")
    dead = f"127.0.0.1:{free_port()}"
    write_stack(
        data_dir,
        LocalStack(
            dead,
            f"mongodb://{dead}/",
            {"ingest": dead, "identity-resolution": dead},
            str(data_dir / "dev-signing-key"),
            str(data_dir / "dev-encryption-key"),
        ),
    )
    for argv in (
        ("import", "--workspace", "w", "--member", "m", "--owner-address", "m@x.io",
         str(tmp_path)),
        ("status",),
        ("dlq", "show", "ingest.messages"),
        ("replay", "access"),
    ):  # fmt: skip
        assert await commsintel(*argv, "--data-dir", str(data_dir)) == 2, argv
        errors = capsys.readouterr().err.strip()
        assert (
            errors
            == f"commsintel {argv[0]}: cannot reach Kafka at {dead} (from "
            + str(data_dir / "stack.json")
            + ")"
        ), errors

    # doctor names each part that does not answer, and fails.
    assert await commsintel("doctor", "--data-dir", str(data_dir)) == 1
    checks = capsys.readouterr().out
    assert f"FIX  Kafka {dead}: no answer" in checks
    assert f"FIX  gRPC ingest {dead}" in checks and "ok   signing key" in checks
