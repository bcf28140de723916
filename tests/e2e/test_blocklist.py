"""A mailbox's blocklist across the whole pipeline: a blocklisted correspondent's thread
disappears for that mailbox (access, intelligence), other members' copies stay, and
removing the entry brings it back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.proto.access.v1 import access_pb2 as pb
from commsintel.contracts.proto.access.v1 import access_pb2_grpc as pb_grpc
from commsintel.contracts.proto.ingest.v1 import ingest_pb2 as ingest_pb
from commsintel.contracts.proto.ingest.v1 import ingest_pb2_grpc as ingest_grpc

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e]


def mbox(path: Path, *messages: tuple[str, str, str, str]) -> Path:
    """(sender, to, message id, date) per message."""
    with path.open("w") as out:
        for sender, to, message_id, date in messages:
            out.write("From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n")
            out.write(
                f"From: {sender}\nTo: {to}\nSubject: plans\nDate: {date}\n"
                f"Message-ID: <{message_id}>\n\nhello\n\n"
            )
    return path


async def test_blocklist_hides_for_one_mailbox_and_restores(pipeline, signing_key, tmp_path):
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    shared = (
        "alice@ours.com",
        "Dan <dan@rival.com>, zoe@ours.com",
        "s1@ours.com",
        "Sat, 10 Jan 2026 09:00:00 +0000",
    )
    alice_only = (
        "alice@ours.com",
        "Dan <dan@rival.com>",
        "a1@ours.com",
        "Sun, 11 Jan 2026 09:00:00 +0000",
    )
    await pipeline.ingest.import_archive(
        mbox(tmp_path / "alice.mbox", shared, alice_only),
        workspace_id=workspace,
        member_id="alice",
        owner_address="alice@ours.com",
    )
    await pipeline.ingest.import_archive(
        mbox(tmp_path / "zoe.mbox", shared),
        workspace_id=workspace,
        member_id="zoe",
        owner_address="zoe@ours.com",
    )
    await pipeline.wait_until_caught_up()

    def as_(member: str):
        token = issue_token(signing_key, Caller(workspace, member), issued_at=datetime.now(UTC))
        return (("authorization", f"Bearer {token}"),)

    async with (
        grpc.aio.insecure_channel(pipeline.access_target) as access_channel,
        grpc.aio.insecure_channel(pipeline.ingest_target) as ingest_channel,
    ):
        access = pb_grpc.AccessServiceStub(access_channel)
        mailboxes = ingest_grpc.MailboxServiceStub(ingest_channel)

        async def dan_emails(member: str) -> list[str]:
            found = await access.ListRecords(pb.ListRecordsRequest(), metadata=as_(member))
            dan = next(r for r in found.records if r.email_address == "dan@rival.com")
            emails = await access.ListRecordEmails(
                pb.ListRecordEmailsRequest(record_id=dan.record_id), metadata=as_(member)
            )
            return sorted(e.sent_at.ToDatetime(UTC).day for e in emails.emails)

        assert await dan_emails("alice") == [10, 11]
        listed = await mailboxes.ListMailboxes(
            ingest_pb.ListMailboxesRequest(), metadata=as_("alice")
        )
        (alice_mailbox,) = listed.mailboxes
        assert alice_mailbox.source == "archive"

        answer = await mailboxes.UpdateMailboxSettings(
            ingest_pb.UpdateMailboxSettingsRequest(
                mailbox_id=alice_mailbox.mailbox_id, blocklist=["rival.com"], replace_blocklist=True
            ),
            metadata=as_("alice"),
        )
        assert answer.messages_retracted == 2
        await pipeline.wait_until_caught_up()
        # Alice's own copies are gone; Zoe's copy of the shared message still shows.
        assert await dan_emails("alice") == [10]
        assert await dan_emails("zoe") == [10]

        answer = await mailboxes.UpdateMailboxSettings(
            ingest_pb.UpdateMailboxSettingsRequest(
                mailbox_id=alice_mailbox.mailbox_id, replace_blocklist=True
            ),
            metadata=as_("alice"),
        )
        assert answer.messages_restored == 2
        await pipeline.wait_until_caught_up()
        assert await dan_emails("alice") == [10, 11]
