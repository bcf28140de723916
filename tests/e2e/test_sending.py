"""Sending through a member's own mailbox, end to end: a real SMTP server (aiosmtpd with
AUTH), a real Dovecot (the Sent copy), the real broker and store, and identity's records
for personalization."""

from __future__ import annotations

import asyncio
import email
import imaplib
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import grpc
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from commsintel.contracts import topics
from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.events import MessageSynced
from commsintel.contracts.proto.access.v1 import access_pb2, access_pb2_grpc
from commsintel.contracts.proto.ingest.v1 import ingest_pb2 as pb
from commsintel.contracts.proto.ingest.v1 import ingest_pb2_grpc as pb_grpc
from commsintel.replay import ReplayProgress, read_topics
from tests.support.local_dovecot import DovecotFailed, DovecotUnavailable, running_dovecot

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e, pytest.mark.smtp]

SMTP_USER, SMTP_PASSWORD = "alice@ours.com", "smtp-secret"
IMAP_PASSWORD = "imap-secret"
BOUNCING = "gone@acme.com"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage
    at: float  # time.monotonic() when the server accepted it


@dataclass
class SmtpServer:
    port: int
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == BOUNCING:
            return "550 5.1.1 <gone@acme.com>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, time.monotonic())
        )
        return "250 Message accepted"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (SMTP_USER, SMTP_PASSWORD)
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = SmtpServer(port)
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,  # loopback only; production uses STARTTLS or TLS
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def dovecot():
    try:
        with running_dovecot({"alice": IMAP_PASSWORD}) as server:
            yield server
    except DovecotUnavailable as missing:
        pytest.skip(str(missing))
    except DovecotFailed as failed:
        pytest.fail(str(failed))


def imap_messages(server, folder: str) -> list[email.message.EmailMessage]:
    imap = imaplib.IMAP4(server.host, server.port, timeout=10)
    try:
        imap.login("alice", IMAP_PASSWORD)
        imap.select(f'"{folder}"', readonly=True)
        _, data = imap.uid("SEARCH", "ALL")
        found = []
        for uid in data[0].split():
            _, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            found.append(email.message_from_bytes(fetched[0][1], policy=policy.default))
        return found
    finally:
        imap.logout()


def mbox(path: Path, *messages: str) -> Path:
    with path.open("w") as out:
        for message in messages:
            out.write("From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + message + "\n")
    return path


def letter(sender: str, to: str, message_id: str, date: str = "Sat, 10 Jan 2026 09:00:00 +0000"):
    return (
        f"From: {sender}\nTo: {to}\nSubject: hello\nDate: {date}\n"
        f"Message-ID: <{message_id}>\n\nhello\n"
    )


async def synced(bootstrap: str, workspace: str) -> list[MessageSynced]:
    found: list[MessageSynced] = []
    async for batch in read_topics(bootstrap, [topics.INGEST_MESSAGES], ReplayProgress()):
        found += [e for e in batch if isinstance(e, MessageSynced) and e.workspace_id == workspace]
    return found


async def test_send_reply_and_personalized_mass_send(
    pipeline, signing_key, tmp_path, smtp_server, dovecot
):
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    # Alice's history makes the records: people she wrote to, with their names.
    await pipeline.ingest.import_archive(
        mbox(
            tmp_path / "alice.mbox",
            letter("Alice <alice@ours.com>", "Bob Buyer <bob@acme.com>", "h1@ours.com"),
            letter("Alice <alice@ours.com>", "Carol Chen <carol@beta.io>", "h2@ours.com"),
            letter("Alice <alice@ours.com>", "dan@gamma.io", "h3@ours.com"),  # no name
            letter("Alice <alice@ours.com>", "Gus Gone <gone@acme.com>", "h4@ours.com"),
        ),
        workspace_id=workspace,
        member_id="alice",
        owner_address="alice@ours.com",
    )
    # Bob wrote to Alice's real mailbox: the message she will answer.
    append = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=10)
    append.login("alice", IMAP_PASSWORD)
    append.append(
        "INBOX",
        None,
        None,
        (
            b"From: Bob Buyer <bob@acme.com>\r\nTo: alice@ours.com\r\nSubject: quote?\r\n"
            b"Message-ID: <q2@acme.com>\r\nIn-Reply-To: <q1@ours.com>\r\n"
            b"References: <q1@ours.com>\r\nDate: Mon, 12 Jan 2026 10:00:00 +0000\r\n\r\nPrice?\r\n"
        ),
    )
    append.logout()

    token = issue_token(signing_key, Caller(workspace, "alice"), issued_at=datetime.now(UTC))
    as_alice = (("authorization", f"Bearer {token}"),)
    async with (
        grpc.aio.insecure_channel(pipeline.ingest_target) as channel,
        grpc.aio.insecure_channel(pipeline.access_target) as access_channel,
    ):
        mailboxes = pb_grpc.MailboxServiceStub(channel)
        send = pb_grpc.SendServiceStub(channel)
        connected = (
            await mailboxes.ConnectMailbox(
                pb.ConnectMailboxRequest(
                    imap=pb.ImapCredentials(
                        host=dovecot.host,
                        port=dovecot.port,
                        security=pb.IMAP_SECURITY_NONE,
                        username="alice",
                        password=IMAP_PASSWORD,
                    ),
                    owner_addresses=["alice@ours.com"],
                    smtp=pb.SmtpSettings(
                        host="127.0.0.1",
                        port=smtp_server.port,
                        security=pb.IMAP_SECURITY_NONE,
                        username=SMTP_USER,
                        password=SMTP_PASSWORD,
                    ),
                    sender_name="Alice Owner",
                ),
                metadata=as_alice,
            )
        ).mailbox
        assert connected.smtp_host == "127.0.0.1" and connected.sender_name == "Alice Owner"
        mailbox_id = connected.mailbox_id
        deadline = time.monotonic() + 30
        while (
            await mailboxes.GetMailbox(
                pb.GetMailboxRequest(mailbox_id=mailbox_id), metadata=as_alice
            )
        ).mailbox.status.state != pb.SYNC_STATE_IDLE:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        await pipeline.wait_until_caught_up()

        # --- one email: a reply with cc, bcc and an attachment ---------------------
        request = pb.SendEmailRequest(
            mailbox_id=mailbox_id,
            idempotency_key="reply-1",
            to=["Bob Buyer <bob@acme.com>"],
            cc=["carol@beta.io"],
            bcc=["boss@ours.com"],
            subject="Re: quote?",
            text_body="Here it is.",
            html_body="<p>Here it is.</p>",
            attachments=[pb.OutgoingAttachment(filename="quote.pdf", content=b"%PDF-1.4 q")],
            in_reply_to_message_key="q2@acme.com",
        )
        sent = await send.SendEmail(request, metadata=as_alice)
        assert sent.state == pb.DELIVERY_STATE_SENT and not sent.refused
        (delivered,) = smtp_server.received
        assert delivered.sender == "alice@ours.com"
        assert sorted(delivered.recipients) == ["bob@acme.com", "boss@ours.com", "carol@beta.io"]
        message = delivered.message
        assert message["From"] == "Alice Owner <alice@ours.com>"
        assert message["Bcc"] is None
        assert message["In-Reply-To"] == "<q2@acme.com>"
        assert message["References"] == "<q1@ours.com> <q2@acme.com>"
        assert message["Message-ID"] == f"<{sent.message_key}>"
        attachment = next(message.iter_attachments())
        assert (attachment.get_filename(), attachment.get_content_type()) == (
            "quote.pdf",
            "application/pdf",
        )
        # The same request again: the same answer, nothing sent twice.
        again = await send.SendEmail(request, metadata=as_alice)
        assert (again.state, again.message_key) == (sent.state, sent.message_key)
        assert len(smtp_server.received) == 1

        # Recorded: a copy in Sent, and MessageSynced (sent) at once; the next IMAP pass
        # finds the copy and publishes nothing twice.
        assert [m["Message-ID"] for m in imap_messages(dovecot, "Sent")] == [message["Message-ID"]]
        await mailboxes.SyncMailboxNow(
            pb.SyncMailboxNowRequest(mailbox_id=mailbox_id), metadata=as_alice
        )
        await asyncio.sleep(1.5)
        await pipeline.wait_until_caught_up()
        published = [
            e
            for e in await synced(pipeline.config.kafka_bootstrap, workspace)
            if e.message_key == sent.message_key
        ]
        assert len(published) == 1 and published[0].direction == "sent"
        assert published[0].mailbox_id == mailbox_id

        # --- mass send -------------------------------------------------------------
        access = access_pb2_grpc.AccessServiceStub(access_channel)
        records = await access.ListRecords(access_pb2.ListRecordsRequest(), metadata=as_alice)
        person = {r.email_address: r.record_id for r in records.records if r.email_address}
        template = pb.MessageTemplate(
            subject="Renewal for {{ company.name }}",
            text_body="Hi {{ person.first_name }},\nthe renewal is due.\n{{ sender.name }}",
        )
        preview = await send.PreviewMassSend(
            pb.PreviewMassSendRequest(
                mailbox_id=mailbox_id, template=template, person_id=person["bob@acme.com"]
            ),
            metadata=as_alice,
        )
        assert preview.address == "bob@acme.com" and not preview.failure
        assert preview.text_body.startswith("Hi Bob,") and preview.text_body.endswith("Alice Owner")
        preview = await send.PreviewMassSend(
            pb.PreviewMassSendRequest(
                mailbox_id=mailbox_id, template=template, person_id=person["dan@gamma.io"]
            ),
            metadata=as_alice,
        )
        assert "missing variable" in preview.failure and "first_name" in preview.failure

        people = [person[a] for a in ("bob@acme.com", "carol@beta.io", "dan@gamma.io", BOUNCING)]
        start = pb.StartMassSendRequest(
            mailbox_id=mailbox_id,
            idempotency_key="renewals-1",
            template=template,
            person_ids=people,
        )
        started = (await send.StartMassSend(start, metadata=as_alice)).mass_send
        by_address = {r.address: r for r in started.recipients}
        assert by_address["dan@gamma.io"].state == pb.DELIVERY_STATE_FAILED
        assert "first_name" in by_address["dan@gamma.io"].reason
        deadline = time.monotonic() + 30
        while True:
            state = (
                await send.GetMassSend(
                    pb.GetMassSendRequest(mass_send_id=started.mass_send_id), metadata=as_alice
                )
            ).mass_send
            if all(r.state != pb.DELIVERY_STATE_QUEUED for r in state.recipients):
                break
            assert time.monotonic() < deadline, state
            await asyncio.sleep(0.3)
        outcome = {r.address: (r.state, r.reason) for r in state.recipients}
        assert outcome["bob@acme.com"] == (pb.DELIVERY_STATE_SENT, "")
        assert outcome["carol@beta.io"] == (pb.DELIVERY_STATE_SENT, "")
        assert outcome[BOUNCING][0] == pb.DELIVERY_STATE_FAILED
        assert outcome[BOUNCING][1].startswith("550")
        texts = {
            r.recipients[0]: r.message.get_body(("plain",)).get_content()
            for r in smtp_server.received[1:]
        }
        assert set(texts) == {"bob@acme.com", "carol@beta.io"}  # never a blank for Dan
        assert texts["bob@acme.com"].startswith("Hi Bob,")
        assert texts["carol@beta.io"].startswith("Hi Carol,")
        # Paced: the mailbox sends at most 30 a minute (the default), one per 2 s.
        mass = smtp_server.received[1:]
        assert mass[1].at - mass[0].at >= 1.9

        # A retried start is the same mass send and sends nothing more.
        retried = (await send.StartMassSend(start, metadata=as_alice)).mass_send
        assert retried.mass_send_id == started.mass_send_id
        await asyncio.sleep(1)
        assert len(smtp_server.received) == 3

        # A template that cannot parse is refused before anything is sent.
        broken = pb.StartMassSendRequest(
            mailbox_id=mailbox_id,
            idempotency_key="broken",
            template=pb.MessageTemplate(subject="x", text_body="Hi {{ person.first_name"),
            person_ids=people,
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await send.StartMassSend(broken, metadata=as_alice)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert len(smtp_server.received) == 3
