"""The thin slice: an archive imported with the CLI becomes records, links, interaction
times and strengths, served over real gRPC without leaking a subject."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.proto.access.v1 import access_pb2 as pb
from commsintel.contracts.proto.access.v1 import access_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e]

SECRET_SUBJECT = "Confidential pricing for Acme renewal"


def _message(
    *,
    sender: str,
    to: str,
    subject: str,
    date: str,
    message_id: str,
    cc: str = "",
    extra: str = "",
) -> str:
    lines = [f"From: {sender}", f"To: {to}"]
    if cc:
        lines.append(f"Cc: {cc}")
    lines += [f"Subject: {subject}", f"Date: {date}", f"Message-ID: <{message_id}>"]
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n\nHello,\nbody text stays private.\n"


def write_fixture_mailbox(path: Path) -> None:
    messages = [
        # Alice writes to a customer, a free-mail contact and a colleague.
        _message(
            sender="Alice Owner <alice@ours.com>",
            to="Bob Buyer <Bob@Acme.com>, Carol <carol@gmail.com>",
            cc="Dave Colleague <dave@ours.com>",
            subject=SECRET_SUBJECT,
            date="Sat, 10 Jan 2026 09:00:00 +0000",
            message_id="m1@ours.com",
        ),
        # Bob answers.
        _message(
            sender="Bob Buyer <bob@acme.com>",
            to="alice@ours.com",
            subject=f"Re: {SECRET_SUBJECT}",
            date="Mon, 12 Jan 2026 15:30:00 +0100",
            message_id="m2@acme.com",
            extra="In-Reply-To: <m1@ours.com>",
        ),
        # A newsletter and a cold inbound email: neither creates a record.
        _message(
            sender="Vendor News <news@vendor-news.com>",
            to="alice@ours.com",
            subject="Weekly digest",
            date="Tue, 13 Jan 2026 08:00:00 +0000",
            message_id="n1@vendor-news.com",
            extra="List-Id: <digest.vendor-news.com>\nPrecedence: bulk",
        ),
        _message(
            sender="Eve Cold <eve@startup.io>",
            to="alice@ours.com",
            subject="Quick question",
            date="Wed, 14 Jan 2026 10:00:00 +0000",
            message_id="c1@startup.io",
        ),
        # An older email to a UK contact on a subdomain.
        _message(
            sender="alice@ours.com",
            to="Frank <frank@eu.beta.co.uk>",
            subject="Intro",
            date="Sun, 01 Jun 2025 12:00:00 +0000",
            message_id="m0@ours.com",
        ),
        # Not an email at all: quarantined, and the import goes on.
        "garbage without any header\n\nno from, no date\n",
    ]
    with path.open("w") as mbox:
        for message in messages:
            mbox.write("From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n")
            mbox.write(message.replace("\nFrom ", "\n>From "))
            mbox.write("\n")


def run_import(pipeline, workspace: str, mbox: Path) -> str:
    config = pipeline.config.ingest()
    env = dict(os.environ)
    env.update(
        COMMSINTEL_INGEST_KAFKA_BOOTSTRAP=config.kafka_bootstrap,
        COMMSINTEL_INGEST_MONGO_URI=config.mongo_uri,
        COMMSINTEL_INGEST_MONGO_DATABASE=config.mongo_database,
        COMMSINTEL_INGEST_SIGNING_KEY=config.signing_key,
        COMMSINTEL_INGEST_ENCRYPTION_KEY=config.encryption_key.get_secret_value(),
    )
    command = [
        sys.executable,
        "-m",
        "commsintel.cli",
        "import",
        "--workspace",
        workspace,
        "--member",
        "alice",
        "--owner-address",
        "alice@ours.com",
        str(mbox),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def metadata_for(signing_key: str, workspace: str, member: str):
    token = issue_token(signing_key, Caller(workspace, member), issued_at=datetime.now(UTC))
    return (("authorization", f"Bearer {token}"),)


async def test_imported_archive_becomes_records_strengths_and_redacted_emails(
    pipeline, signing_key: str, tmp_path: Path
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    mbox = tmp_path / "alice.mbox"
    write_fixture_mailbox(mbox)

    # Import through the real command line, into the real broker.
    output = await asyncio.to_thread(run_import, pipeline, workspace, mbox)
    assert "read 6" in output and "published 5" in output and "quarantined 1" in output
    await pipeline.wait_until_caught_up()

    async with grpc.aio.insecure_channel(pipeline.access_target) as channel:
        access = pb_grpc.AccessServiceStub(channel)
        as_alice = metadata_for(signing_key, workspace, "alice")
        as_zoe = metadata_for(signing_key, workspace, "zoe")

        # People only for external addresses Alice wrote to; companies for their domains.
        listed = await access.ListRecords(pb.ListRecordsRequest(), metadata=as_alice)
        people = {r.email_address: r for r in listed.records if r.kind == pb.RECORD_KIND_PERSON}
        companies = {r.domains[0]: r for r in listed.records if r.kind == pb.RECORD_KIND_COMPANY}
        assert set(people) == {"bob@acme.com", "carol@gmail.com", "frank@eu.beta.co.uk"}
        assert set(companies) == {"acme.com", "beta.co.uk"}
        assert people["bob@acme.com"].company_id == companies["acme.com"].record_id
        assert people["frank@eu.beta.co.uk"].company_id == companies["beta.co.uk"].record_id
        assert people["carol@gmail.com"].company_id == ""

        # Bob: first and last email interaction, with when and which member.
        bob = people["bob@acme.com"]
        answer = await access.GetRecord(
            pb.GetRecordRequest(record_id=bob.record_id), metadata=as_alice
        )
        intelligence = answer.intelligence
        assert intelligence.first_email_interaction.at.ToDatetime(UTC) == datetime(
            2026, 1, 10, 9, 0, tzinfo=UTC
        )
        assert intelligence.last_email_interaction.at.ToDatetime(UTC) == datetime(
            2026, 1, 12, 14, 30, tzinfo=UTC
        )
        assert intelligence.first_email_interaction.member_id == "alice"
        assert intelligence.email_interaction_count == 2
        assert intelligence.connection_strength > 0
        assert intelligence.strongest_member_id == "alice"

        # The company rolls up its people: Acme saw the same two emails.
        acme = await access.GetRecord(
            pb.GetRecordRequest(record_id=companies["acme.com"].record_id), metadata=as_alice
        )
        assert acme.intelligence.email_interaction_count == 2

        # Another member sees participants and times, never the subject.
        emails = await access.ListRecordEmails(
            pb.ListRecordEmailsRequest(record_id=bob.record_id), metadata=as_zoe
        )
        assert len(emails.emails) == 2
        for email in emails.emails:
            assert email.visibility == pb.VISIBILITY_LEVEL_METADATA
            assert not email.HasField("subject")
            assert email.can_request_access
            assert {p.address for p in email.participants} >= {"bob@acme.com", "alice@ours.com"}
        assert b"Confidential" not in emails.SerializeToString()
        assert [e.sent_at.ToDatetime(UTC).day for e in emails.emails] == [12, 10]

        # The owner sees her own mail in full.
        own = await access.ListRecordEmails(
            pb.ListRecordEmailsRequest(record_id=bob.record_id), metadata=as_alice
        )
        assert {e.subject for e in own.emails} == {SECRET_SUBJECT, f"Re: {SECRET_SUBJECT}"}
        assert all(e.visibility == pb.VISIBILITY_LEVEL_FULL for e in own.emails)


async def test_reimporting_the_same_archive_duplicates_nothing(
    pipeline, signing_key: str, tmp_path: Path
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    mbox = tmp_path / "alice.mbox"
    write_fixture_mailbox(mbox)
    await asyncio.to_thread(run_import, pipeline, workspace, mbox)

    # The second run finds every message already synced and publishes nothing.
    output = await asyncio.to_thread(run_import, pipeline, workspace, mbox)
    assert "published 0" in output and "already synced 5" in output
    await pipeline.wait_until_caught_up()

    async with grpc.aio.insecure_channel(pipeline.access_target) as channel:
        access = pb_grpc.AccessServiceStub(channel)
        as_alice = metadata_for(signing_key, workspace, "alice")
        listed = await access.ListRecords(pb.ListRecordsRequest(), metadata=as_alice)
        assert len(listed.records) == 5
        bob = next(r for r in listed.records if r.email_address == "bob@acme.com")
        answer = await access.GetRecord(
            pb.GetRecordRequest(record_id=bob.record_id), metadata=as_alice
        )
        assert answer.intelligence.email_interaction_count == 2


async def test_access_refuses_strangers_and_bad_requests_with_clear_statuses(
    pipeline, signing_key: str, tmp_path: Path
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    mbox = tmp_path / "alice.mbox"
    write_fixture_mailbox(mbox)
    await asyncio.to_thread(run_import, pipeline, workspace, mbox)
    await pipeline.wait_until_caught_up()

    async with grpc.aio.insecure_channel(pipeline.access_target) as channel:
        access = pb_grpc.AccessServiceStub(channel)
        as_alice = metadata_for(signing_key, workspace, "alice")
        listed = await access.ListRecords(pb.ListRecordsRequest(), metadata=as_alice)
        record_id = listed.records[0].record_id

        async def status_of(call) -> tuple[grpc.StatusCode, str]:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call
            return refused.value.code(), refused.value.details()

        # No token, a forged token: UNAUTHENTICATED.
        code, _ = await status_of(access.ListRecords(pb.ListRecordsRequest()))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        forged = metadata_for("a-different-signing-key-of-enough-length", workspace, "alice")
        code, _ = await status_of(access.ListRecords(pb.ListRecordsRequest(), metadata=forged))
        assert code == grpc.StatusCode.UNAUTHENTICATED

        # Another workspace cannot tell the record exists.
        outsider = metadata_for(signing_key, "another-workspace", "mallory")
        code, _ = await status_of(
            access.GetRecord(pb.GetRecordRequest(record_id=record_id), metadata=outsider)
        )
        assert code == grpc.StatusCode.NOT_FOUND
        code, _ = await status_of(
            access.ListRecordEmails(
                pb.ListRecordEmailsRequest(record_id=record_id), metadata=outsider
            )
        )
        assert code == grpc.StatusCode.NOT_FOUND
        others = await access.ListRecords(pb.ListRecordsRequest(), metadata=outsider)
        assert list(others.records) == []

        # Bad arguments say what is wrong.
        code, details = await status_of(
            access.ListRecords(pb.ListRecordsRequest(page_size=10_000), metadata=as_alice)
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_size" in details
        code, details = await status_of(
            access.GetRecord(pb.GetRecordRequest(record_id=""), metadata=as_alice)
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "record_id" in details
        code, details = await status_of(
            access.ListRecords(pb.ListRecordsRequest(page_token="%%%"), metadata=as_alice)
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in details

        # Paging walks every record exactly once.
        seen, token = [], ""
        while True:
            page = await access.ListRecords(
                pb.ListRecordsRequest(page_size=2, page_token=token), metadata=as_alice
            )
            seen += [r.record_id for r in page.records]
            token = page.next_page_token
            if not token:
                break
        assert sorted(seen) == sorted(r.record_id for r in listed.records)

        # Health checking and reflection answer without a token.
        health = health_pb2_grpc.HealthStub(channel)
        status = await health.Check(
            health_pb2.HealthCheckRequest(service="commsintel.access.v1.AccessService")
        )
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        async for response in responses:
            names = {s.name for s in response.list_services_response.service}
            assert "commsintel.access.v1.AccessService" in names
            break
