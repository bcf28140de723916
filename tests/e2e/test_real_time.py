"""Real time through the whole pipeline: a message that lands in a connected IMAP mailbox
(a real Dovecot) shows in the record's attributes and strength while everything keeps
running, with no sync asked for and nothing restarted."""

from __future__ import annotations

import asyncio
import imaplib
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime

import grpc
import pytest

from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.proto.identity.v1 import identity_pb2, identity_pb2_grpc
from commsintel.contracts.proto.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2, intelligence_pb2_grpc
from tests.support.local_dovecot import DovecotFailed, DovecotUnavailable, running_dovecot

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e]
# How long the test waits at most: a failure bound, not a speed target (bench latency).
PATIENCE_SECONDS = 60.0


def _message(message_id: str, sender: str, to: str, when: datetime) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: contract\r\n"
        f"Date: {format_datetime(when)}\r\nMessage-ID: <{message_id}>\r\n\r\nhello\r\n"
    ).encode()


def _append(port: int, user: str, password: str, raw: bytes) -> None:
    imap = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    try:
        imap.login(user, password)
        typ, data = imap.append("INBOX", None, None, raw)
        assert typ == "OK", data
    finally:
        imap.logout()


async def _eventually(probe, patience: float = PATIENCE_SECONDS):
    deadline = time.monotonic() + patience
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen within {patience:.0f} s")
        await asyncio.sleep(0.2)


async def test_a_new_imap_message_reaches_the_attributes_while_running(pipeline, signing_key):
    try:
        dovecot = running_dovecot({"dana": "secret"})
        server = dovecot.__enter__()
    except DovecotUnavailable as missing:
        pytest.skip(str(missing))
    except DovecotFailed as failed:
        pytest.fail(str(failed))
    try:
        workspace = f"ws-{uuid.uuid4().hex[:8]}"
        token = issue_token(signing_key, Caller(workspace, "dana"), issued_at=datetime.now(UTC))
        metadata = (("authorization", f"Bearer {token}"),)
        earlier = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        _append(
            server.port,
            "dana",
            "secret",
            _message("first@rt.test", "dana@ours.io", "Raj <raj@buyer.io>", earlier),
        )
        async with (
            grpc.aio.insecure_channel(pipeline.ingest_target) as ingest_channel,
            grpc.aio.insecure_channel(pipeline.identity_target) as identity_channel,
            grpc.aio.insecure_channel(pipeline.intelligence_target) as intelligence_channel,
        ):
            mailboxes = ingest_pb2_grpc.MailboxServiceStub(ingest_channel)
            identity = identity_pb2_grpc.IdentityServiceStub(identity_channel)
            intelligence = intelligence_pb2_grpc.IntelligenceServiceStub(intelligence_channel)
            await mailboxes.ConnectMailbox(
                ingest_pb2.ConnectMailboxRequest(
                    imap=ingest_pb2.ImapCredentials(
                        host="127.0.0.1",
                        port=server.port,
                        security=ingest_pb2.IMAP_SECURITY_NONE,
                        username="dana",
                        password="secret",
                    ),
                    owner_addresses=["dana@ours.io"],
                ),
                metadata=metadata,
            )

            async def raj_attributes(expected_last: str):
                found = await identity.FindByEmail(
                    identity_pb2.FindByEmailRequest(email_address="raj@buyer.io"),
                    metadata=metadata,
                )
                if not found.HasField("person"):
                    return None  # not a record yet
                try:
                    answer = await intelligence.GetRecordIntelligence(
                        intelligence_pb2.GetRecordIntelligenceRequest(
                            record_id=found.person.person_id
                        ),
                        metadata=metadata,
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() == grpc.StatusCode.NOT_FOUND:
                        return None  # intelligence has not read the new record yet
                    raise
                attributes = answer.intelligence
                last = attributes.last_email_interaction.interaction_key
                return attributes if expected_last in last else None

            # The backfill brings the first message ...
            before = await _eventually(lambda: raj_attributes("first@rt.test"))
            assert before.email_interaction_count == 1
            # ... then a reply arrives while the sync idles: it shows without any request.
            _append(
                server.port,
                "dana",
                "secret",
                _message("reply@rt.test", "Raj <raj@buyer.io>", "dana@ours.io", datetime.now(UTC)),
            )
            after = await _eventually(lambda: raj_attributes("reply@rt.test"))
            assert after.email_interaction_count == 2
            assert (
                after.first_email_interaction.interaction_key
                == before.last_email_interaction.interaction_key
            )
            assert after.connection_strength > before.connection_strength
            assert after.strongest_member_id == "dana"
    finally:
        dovecot.__exit__(None, None, None)
