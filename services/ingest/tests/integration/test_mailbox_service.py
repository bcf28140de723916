"""MailboxService and ContentService over gRPC, syncing a real Dovecot into the real
Kafka- and MongoDB-protocol servers: connect, backfill, new mail, wrong password,
reconnect, restart mid-backfill, blocklist, content, removal. No mocks."""

from __future__ import annotations

import asyncio
import base64
import imaplib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from pymongo import AsyncMongoClient

from commsintel.contracts import topics
from commsintel.contracts.auth import (
    SERVICE_TOKEN_METADATA,
    Caller,
    issue_service_token,
    issue_token,
)
from commsintel.contracts.events import (
    Event,
    EventSynced,
    MailboxRemoved,
    MessageRetracted,
    MessageSynced,
    SyncProgressed,
)
from commsintel.contracts.proto.ingest.v1 import ingest_pb2 as pb
from commsintel.contracts.proto.ingest.v1 import ingest_pb2_grpc as pb_grpc
from commsintel.ingest import bootstrap as ingest_bootstrap
from commsintel.ingest.adapters.crypto import encode_key, new_key
from commsintel.ingest.config import IngestSettings
from commsintel.pipeline import ensure_topics
from commsintel.replay import ReplayProgress, read_topics
from services.ingest.tests.integration.local_destinations import LOOPBACK_NETWORKS, LoopbackWeb
from services.ingest.tests.integration.radicale_server import PASSWORD as CALDAV_PASSWORD

pytestmark = [pytest.mark.imap, pytest.mark.kafka, pytest.mark.mongo]

PASSWORD = "secret"


def letter(
    n: int,
    *,
    sender: str = "Priya Shah <priya.shah@brightpath.com",
    to: str = "Member <member@northwind.io>",
    thread: str = "",
    body: str = "",
    attachment: bytes | None = None,
) -> bytes:
    headers = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: renewal #{n}\r\n"
        f"Message-ID: <renewal-{n}@brightpath.com>\r\n"
        "Date: Tue, 02 Jan 2024 10:00:00 +0000\r\n"
    )
    if thread:
        headers += f"In-Reply-To: <{thread}>\r\nReferences: <{thread}>\r\n"
    text = body or f"Hi, about the renewal ({n}).\r\n"
    if attachment is None:
        return (headers + "\r\n" + text).encode()
    encoded = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
    return (
        headers + 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n"
        "--b1\r\nContent-Type: application/pdf\r\n"
        'Content-Disposition: attachment; filename="quote.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + encoded + "--b1--\r\n"
    ).encode()


class Ingest:
    """A running ingest service and a member's authenticated stub."""

    def __init__(self, service, channel, workspace: str, signing_key: str) -> None:
        self.service = service
        self.channel = channel
        self.workspace = workspace
        self.signing_key = signing_key
        self.mailboxes = pb_grpc.MailboxServiceStub(channel)
        self.content = pb_grpc.ContentServiceStub(channel)

    def as_member(self, member: str) -> tuple[tuple[str, str], ...]:
        token = issue_token(
            self.signing_key, Caller(self.workspace, member), issued_at=datetime.now(UTC)
        )
        return (("authorization", f"Bearer {token}"),)

    def as_access(self, member: str) -> tuple[tuple[str, str], ...]:
        service = issue_service_token(self.signing_key, "access", issued_at=datetime.now(UTC))
        return (*self.as_member(member), (SERVICE_TOKEN_METADATA, service))

    async def connect(self, username: str, port: int, password: str = PASSWORD, **extra):
        request = pb.ConnectMailboxRequest(
            imap=pb.ImapCredentials(
                host="127.0.0.1",
                port=port,
                security=pb.IMAP_SECURITY_NONE,
                username=username,
                password=password,
            ),
            owner_addresses=["member@northwind.io"],
            **extra,
        )
        answer = await self.mailboxes.ConnectMailbox(request, metadata=self.as_member("m1"))
        return answer.mailbox

    async def status(self, mailbox_id: str, member: str = "m1") -> pb.Mailbox:
        answer = await self.mailboxes.GetMailbox(
            pb.GetMailboxRequest(mailbox_id=mailbox_id), metadata=self.as_member(member)
        )
        return answer.mailbox

    async def wait_for(
        self, mailbox_id: str, done: Callable[[pb.Mailbox], bool], timeout: float = 30.0
    ) -> pb.Mailbox:
        deadline = time.monotonic() + timeout
        while True:
            mailbox = await self.status(mailbox_id)
            if done(mailbox):
                return mailbox
            if time.monotonic() > deadline:
                raise AssertionError(f"mailbox never reached the state; last: {mailbox}")
            await asyncio.sleep(0.2)

    async def events(self, *wanted: type[Event]) -> list[Event]:
        found: list[Event] = []
        async for batch in read_topics(
            self.service.settings.kafka_bootstrap,
            [topics.INGEST_MAILBOXES, topics.INGEST_MESSAGES],
            ReplayProgress(),
        ):
            found += [e for e in batch if e.workspace_id == self.workspace]
        return [e for e in found if isinstance(e, wanted)] if wanted else found

    async def synced_keys(self, mailbox_id: str) -> list[str]:
        return [
            e.message_key for e in await self.events(MessageSynced) if e.mailbox_id == mailbox_id
        ]


def append(account, *messages: bytes, folder: str = "INBOX") -> None:
    """Mail put on the server by another client: plain imaplib."""
    imap = imaplib.IMAP4(account.host, account.port, timeout=10)
    try:
        imap.login(account.username, account.password)
        for raw in messages:
            typ, data = imap.append(folder, None, None, raw)
            assert typ == "OK", data
    finally:
        imap.logout()


def settings_for(
    kafka_bootstrap: str, mongo_uri: str, signing_key: str, database: str, key: str, **overrides
):
    options = dict(
        kafka_bootstrap=kafka_bootstrap,
        mongo_uri=mongo_uri,
        mongo_database=database,
        consumer_group=f"{database}-group",
        grpc_bind="127.0.0.1:0",
        signing_key=signing_key,
        encryption_key=key,
        outbound_allowed_networks=LOOPBACK_NETWORKS,
        poll_interval_seconds=2.0,
        calendar_interval_seconds=1.0,
        idle_slice_seconds=0.5,
        sync_batch_size=7,
        retry_ceiling_seconds=1.0,
    )
    return IngestSettings(**{**options, **overrides})


@asynccontextmanager
async def running_ingest(
    kafka_bootstrap: str, mongo_uri: str, signing_key: str, **overrides
) -> AsyncIterator[Ingest]:
    """An ingest service of its own (database, workspace) with these settings changed."""
    await ensure_topics(kafka_bootstrap)
    database = f"ingest_{uuid.uuid4().hex[:10]}"
    settings = settings_for(
        kafka_bootstrap, mongo_uri, signing_key, database, encode_key(new_key()), **overrides
    )
    service = ingest_bootstrap.build(settings)
    await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    running = Ingest(service, channel, f"ws-{uuid.uuid4().hex[:8]}", signing_key)
    try:
        yield running
    finally:
        await channel.close()
        await running.service.stop()  # a test may have restarted it


@pytest.fixture
async def ingest(kafka_bootstrap, mongo_uri, signing_key) -> AsyncIterator[Ingest]:
    async with running_ingest(kafka_bootstrap, mongo_uri, signing_key) as running:
        yield running


def idle_with(count: int) -> Callable[[pb.Mailbox], bool]:
    return lambda m: m.status.state == pb.SYNC_STATE_IDLE and m.status.messages_done >= count


async def test_connect_backfills_then_new_mail_arrives_within_seconds(ingest, dovecot, mailbox):
    mailbox.append("INBOX", *(letter(n) for n in range(1, 16)))
    mailbox.append("Sent", letter(100, sender="Member <member@northwind.io>", to="x@acme.com"))
    mailbox.append("Trash", letter(200))  # never synced

    connected = await ingest.connect(mailbox.account.username, dovecot.port)
    assert connected.imap_host == "127.0.0.1" and connected.source == "imap"
    done = await ingest.wait_for(connected.mailbox_id, idle_with(16))
    assert done.status.messages_total == 16
    assert done.status.HasField("last_success_at")
    keys = await ingest.synced_keys(connected.mailbox_id)
    assert sorted(keys) == sorted([f"renewal-{n}@brightpath.com" for n in [*range(1, 16), 100]])
    progress = [
        e for e in await ingest.events(SyncProgressed) if e.mailbox_id == connected.mailbox_id
    ]
    assert progress[-1].state == "idle" and progress[-1].messages_done == 16
    assert any(e.state == "syncing" and 0 < e.messages_done < 16 for e in progress)

    # Appended afterwards: IDLE reports it and the next pass picks it up.
    started = time.monotonic()
    mailbox.append("INBOX", letter(16))
    deadline = time.monotonic() + 20
    while "renewal-16@brightpath.com" not in await ingest.synced_keys(connected.mailbox_id):
        assert time.monotonic() < deadline, "the new message never arrived"
        await asyncio.sleep(0.3)
    assert time.monotonic() - started < 20
    keys = await ingest.synced_keys(connected.mailbox_id)
    assert len(keys) == len(set(keys)) == 17  # nothing published twice


async def test_wrong_password_is_an_error_status_until_reconnected(
    ingest, dovecot_for_failed_logins
):
    server = dovecot_for_failed_logins
    append(server.account("alice"), letter(1))
    connected = await ingest.connect("alice", server.port, password="not-the-password")
    failed = await ingest.wait_for(
        connected.mailbox_id, lambda m: m.status.state == pb.SYNC_STATE_ERROR
    )
    assert failed.status.error == pb.SYNC_ERROR_AUTH_FAILED
    assert "authentication failed" in failed.status.error_message
    assert "not-the-password" not in failed.status.error_message
    assert not failed.status.HasField("last_success_at")
    assert await ingest.synced_keys(connected.mailbox_id) == []

    reconnected = await ingest.mailboxes.ReconnectMailbox(
        pb.ReconnectMailboxRequest(
            mailbox_id=connected.mailbox_id,
            imap=pb.ImapCredentials(
                host="127.0.0.1",
                port=server.port,
                security=pb.IMAP_SECURITY_NONE,
                username="alice",
                password=PASSWORD,
            ),
        ),
        metadata=ingest.as_member("m1"),
    )
    assert reconnected.mailbox.mailbox_id == connected.mailbox_id
    done = await ingest.wait_for(connected.mailbox_id, idle_with(1))
    assert done.status.error == pb.SYNC_ERROR_UNSPECIFIED and not done.status.error_message
    assert await ingest.synced_keys(connected.mailbox_id) == ["renewal-1@brightpath.com"]


async def test_credentials_and_bodies_are_never_stored_or_sent_in_clear(
    ingest, dovecot, mailbox, mongo_uri
):
    secret_body = "the confidential pricing is 41,337 per seat"
    mailbox.append("INBOX", letter(1, body=secret_body, attachment=b"%PDF-1.4 quote 99"))
    connected = await ingest.connect(mailbox.account.username, dovecot.port)
    await ingest.wait_for(connected.mailbox_id, idle_with(1))

    # Not in any response...
    listed = await ingest.mailboxes.ListMailboxes(
        pb.ListMailboxesRequest(), metadata=ingest.as_member("m1")
    )
    assert PASSWORD.encode() not in listed.SerializeToString()
    # ...not in MongoDB, not on Kafka.
    client = AsyncMongoClient(mongo_uri)
    try:
        database = client[ingest.service.settings.mongo_database]
        for name in await database.list_collection_names():
            async for document in database[name].find({}):
                dumped = repr(document).encode()
                assert b"confidential pricing" not in dumped, name
                assert f"'{PASSWORD}'".encode() not in dumped, name
                assert b"quote 99" not in dumped, name
    finally:
        await client.close()
    for event in await ingest.events():
        assert "confidential pricing" not in event.model_dump_json()

    # The access service reads it back through ContentService; a member cannot.
    key = "renewal-1@brightpath.com"
    content = await ingest.content.GetMessageContent(
        pb.GetMessageContentRequest(message_key=key), metadata=ingest.as_access("m1")
    )
    assert secret_body in content.text_body
    assert [(a.filename, a.content_type) for a in content.attachments] == [
        ("quote.pdf", "application/pdf")
    ]
    attachment = await ingest.content.GetAttachment(
        pb.GetAttachmentRequest(message_key=key, mailbox_id=connected.mailbox_id, index=0),
        metadata=ingest.as_access("m1"),
    )
    assert attachment.content == b"%PDF-1.4 quote 99"
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await ingest.content.GetMessageContent(
            pb.GetMessageContentRequest(message_key=key), metadata=ingest.as_member("m1")
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_blocklist_hides_threads_retracts_and_restores(ingest, dovecot, mailbox):
    rival = "Rival CEO <ceo@mail.rival.com>"
    mailbox.append(
        "INBOX",
        letter(1),  # thread A, harmless
        letter(2, thread="renewal-1@brightpath.com", sender=rival),  # thread A: rival joins
        letter(3, sender="Sam <sam@other.org>"),  # thread B
    )
    connected = await ingest.connect(
        mailbox.account.username, dovecot.port, blocklist=["rival.com"]
    )
    mailbox_id = connected.mailbox_id
    await ingest.wait_for(mailbox_id, idle_with(3))
    assert list(connected.blocklist) == ["rival.com"]
    # The whole thread with the rival in it is hidden, the other thread is not.
    assert await ingest.synced_keys(mailbox_id) == ["renewal-3@brightpath.com"]

    # A new entry hides an already published thread: it is retracted.
    answer = await ingest.mailboxes.UpdateMailboxSettings(
        pb.UpdateMailboxSettingsRequest(
            mailbox_id=mailbox_id, blocklist=["rival.com", "sam@other.org"], replace_blocklist=True
        ),
        metadata=ingest.as_member("m1"),
    )
    assert answer.messages_retracted == 1
    retracted = await ingest.events(MessageRetracted)
    assert [(e.message_key, e.reason) for e in retracted] == [
        ("renewal-3@brightpath.com", "blocklisted: sam@other.org")
    ]

    # Removing every entry brings the correspondence back, with new event ids.
    answer = await ingest.mailboxes.UpdateMailboxSettings(
        pb.UpdateMailboxSettingsRequest(mailbox_id=mailbox_id, replace_blocklist=True),
        metadata=ingest.as_member("m1"),
    )
    assert answer.messages_restored == 3
    synced = [e for e in await ingest.events(MessageSynced) if e.mailbox_id == mailbox_id]
    assert sorted({e.message_key for e in synced}) == [
        f"renewal-{n}@brightpath.com" for n in (1, 2, 3)
    ]
    assert len({e.event_id for e in synced}) == len(synced) == 4  # 3 once, 3 again


async def test_restart_mid_backfill_gives_the_same_final_set(
    ingest, dovecot, mailbox, kafka_bootstrap, mongo_uri, signing_key
):
    mailbox.append("INBOX", *(letter(n) for n in range(1, 61)))
    connected = await ingest.connect(mailbox.account.username, dovecot.port)
    await ingest.wait_for(connected.mailbox_id, lambda m: m.status.messages_done >= 14, timeout=30)
    settings = ingest.service.settings
    await ingest.service.stop()  # mid-backfill: 7 per batch, 60 to go
    restarted = ingest_bootstrap.build(settings)
    await restarted.start()
    try:
        ingest.service = restarted
        ingest.mailboxes = pb_grpc.MailboxServiceStub(
            grpc.aio.insecure_channel(f"127.0.0.1:{restarted.grpc_port}")
        )
        await ingest.wait_for(
            connected.mailbox_id,
            lambda m: m.status.state == pb.SYNC_STATE_IDLE and m.status.HasField("last_success_at"),
        )
        keys = await ingest.synced_keys(connected.mailbox_id)
        assert set(keys) == {f"renewal-{n}@brightpath.com" for n in range(1, 61)}
        # Duplicates on the topic could only be the batch in flight at the stop, with
        # the same event ids; consumers drop those. Nothing new was invented.
        synced = [e for e in await ingest.events(MessageSynced)]
        assert len({e.event_id for e in synced}) == 60
    finally:
        ingest.service = restarted


async def test_remove_deletes_content_and_announces(ingest, dovecot, mailbox, mongo_uri):
    mailbox.append("INBOX", letter(1, attachment=b"%PDF-1.4 private"))
    connected = await ingest.connect(mailbox.account.username, dovecot.port)
    await ingest.wait_for(connected.mailbox_id, idle_with(1))
    client = AsyncMongoClient(mongo_uri)
    database = client[ingest.service.settings.mongo_database]
    kept = {
        "content_keys": {"_id": connected.mailbox_id},
        "contents": {"mailbox_id": connected.mailbox_id},
        "attachments.files": {"metadata.mailbox_id": connected.mailbox_id},
        "folder_cursors": {"mailbox_id": connected.mailbox_id},
        "sightings": {"mailbox_id": connected.mailbox_id},
        "mailboxes": {"_id": connected.mailbox_id},
    }
    for name, query in kept.items():
        assert await database[name].count_documents(query) > 0, name
    await ingest.mailboxes.RemoveMailbox(
        pb.RemoveMailboxRequest(mailbox_id=connected.mailbox_id), metadata=ingest.as_member("m1")
    )
    removed = await ingest.events(MailboxRemoved)
    assert [e.mailbox_id for e in removed] == [connected.mailbox_id]
    for call, request in (
        (ingest.mailboxes.GetMailbox, pb.GetMailboxRequest(mailbox_id=connected.mailbox_id)),
        (
            ingest.content.GetMessageContent,
            pb.GetMessageContentRequest(message_key="renewal-1@brightpath.com"),
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await call(request, metadata=ingest.as_access("m1"))
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    try:  # the key (crypto-shredding), the content, cursors and credentials are gone
        for name, query in kept.items():
            assert await database[name].count_documents(query) == 0, name
        assert await database["attachments.chunks"].count_documents({}) == 0
    finally:
        await client.close()


async def test_bad_requests_and_other_members(ingest, dovecot, mailbox):
    cases = [
        pb.ConnectMailboxRequest(),
        pb.ConnectMailboxRequest(imap=pb.ImapCredentials(host="h", port=993, username="u")),
        pb.ConnectMailboxRequest(
            imap=pb.ImapCredentials(host="h", port=0, username="u@x.com", password="p")
        ),
        pb.ConnectMailboxRequest(
            imap=pb.ImapCredentials(host="h", port=993, username="u", password="p")
        ),
        pb.ConnectMailboxRequest(
            imap=pb.ImapCredentials(host="h", port=993, username="u@x.com", password="p"),
            blocklist=["not a domain"],
        ),
    ]
    for request in cases:
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await ingest.mailboxes.ConnectMailbox(request, metadata=ingest.as_member("m1"))
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request
        assert bad.value.details()

    connected = await ingest.connect(mailbox.account.username, dovecot.port)
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await ingest.connect(mailbox.account.username, dovecot.port)
    assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as other:
        await ingest.status(connected.mailbox_id, member="m2")
    assert other.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await ingest.mailboxes.ListMailboxes(
        pb.ListMailboxesRequest(), metadata=ingest.as_member("m2")
    )
    assert list(listed.mailboxes) == []


class CuttableProxy:
    """A TCP proxy in front of Dovecot whose connections can be cut, like a network drop."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.accepting = True
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def _serve(self, reader, writer) -> None:
        if not self.accepting:
            writer.transport.abort()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self.writers += [writer, upstream_writer]

        async def pump(source, sink) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


async def test_network_drop_mid_backfill_resumes_without_loss_or_duplicates(
    ingest, dovecot, mailbox
):
    mailbox.append("INBOX", *(letter(n) for n in range(1, 81)))
    proxy = CuttableProxy(dovecot.port)
    port = await proxy.start()
    try:
        connected = await ingest.connect(mailbox.account.username, port)
        await ingest.wait_for(connected.mailbox_id, lambda m: m.status.messages_done >= 14)
        proxy.accepting = False
        proxy.cut()
        failed = await ingest.wait_for(
            connected.mailbox_id, lambda m: m.status.state == pb.SYNC_STATE_ERROR
        )
        assert failed.status.error == pb.SYNC_ERROR_UNREACHABLE
        assert failed.status.error_message
        proxy.accepting = True  # the network is back: the retry with backoff resumes
        await ingest.wait_for(
            connected.mailbox_id,
            lambda m: m.status.state == pb.SYNC_STATE_IDLE and m.status.HasField("last_success_at"),
        )
    finally:
        await proxy.stop()
    synced = [e for e in await ingest.events(MessageSynced) if e.mailbox_id == connected.mailbox_id]
    assert {e.message_key for e in synced} == {f"renewal-{n}@brightpath.com" for n in range(1, 81)}
    assert len({e.event_id for e in synced}) == 80


def meeting(uid: str, starts: datetime, partstat: str = "ACCEPTED") -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//commsintel//tests//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:Renewal call\r\n"
        f"DTSTART:{starts.strftime(stamp)}\r\n"
        f"DTEND:{(starts + timedelta(hours=1)).strftime(stamp)}\r\n"
        "ORGANIZER:mailto:member@northwind.io\r\n"
        f"ATTENDEE;PARTSTAT={partstat}:mailto:priya.shah@brightpath.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


async def calendar_events(ingest: Ingest, mailbox_id: str) -> list[Event]:
    found: list[Event] = []
    async for batch in read_topics(
        ingest.service.settings.kafka_bootstrap, [topics.INGEST_CALENDAR], ReplayProgress()
    ):
        found += [e for e in batch if getattr(e, "mailbox_id", "") == mailbox_id]
    return found


@pytest.mark.caldav
async def test_a_connected_caldav_calendar_syncs_and_can_be_turned_off(
    ingest, dovecot, mailbox, radicale
):
    owner = radicale.new_member()
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    owner.put(meeting("renewal-call@brightpath.com", soon))
    connected = await ingest.connect(
        mailbox.account.username,
        dovecot.port,
        calendar=pb.CalendarSource(
            caldav=pb.CaldavCalendar(
                url=owner.url, username=owner.username, password=CALDAV_PASSWORD
            )
        ),
    )
    assert connected.calendar_kind == "caldav" and connected.calendar_enabled
    done = await ingest.wait_for(
        connected.mailbox_id,
        lambda m: (
            m.calendar_status.state == pb.SYNC_STATE_IDLE
            and m.calendar_status.HasField("last_success_at")
        ),
    )
    assert CALDAV_PASSWORD.encode() not in done.SerializeToString()
    (synced,) = await calendar_events(ingest, connected.mailbox_id)
    assert isinstance(synced, EventSynced)
    assert synced.calendar_event_key == "renewal-call@brightpath.com"
    assert synced.starts_at == soon
    assert [(a.address, a.rsvp) for a in synced.attendees] == [
        ("priya.shah@brightpath.com", "accepted")
    ]

    # Turned off, a change on the server is not synced; turned on again, it is.
    await ingest.mailboxes.UpdateMailboxSettings(
        pb.UpdateMailboxSettingsRequest(mailbox_id=connected.mailbox_id, calendar_enabled=False),
        metadata=ingest.as_member("m1"),
    )
    owner.replace(
        "renewal-call@brightpath.com", meeting("renewal-call@brightpath.com", soon, "DECLINED")
    )
    await ingest.mailboxes.SyncMailboxNow(
        pb.SyncMailboxNowRequest(mailbox_id=connected.mailbox_id), metadata=ingest.as_member("m1")
    )
    await asyncio.sleep(2)
    assert len(await calendar_events(ingest, connected.mailbox_id)) == 1
    await ingest.mailboxes.UpdateMailboxSettings(
        pb.UpdateMailboxSettingsRequest(mailbox_id=connected.mailbox_id, calendar_enabled=True),
        metadata=ingest.as_member("m1"),
    )
    deadline = time.monotonic() + 20
    while len(events := await calendar_events(ingest, connected.mailbox_id)) < 2:
        assert time.monotonic() < deadline, "the calendar never synced again"
        await asyncio.sleep(0.3)
    update = events[-1]
    assert update.calendar_event_key == synced.calendar_event_key  # updated, not duplicated
    assert [a.rsvp for a in update.attendees] == ["declined"]


async def test_an_ics_feed_calendar_is_imported_with_the_mailbox(ingest, dovecot, mailbox):
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    web = LoopbackWeb()
    try:
        # a private feed: its token is in the path and the query
        path = "/feeds/private-7f3a9c2e51b8d4a6/basic.ics?key=s3cr3t-feed-key"
        web.pages[path] = meeting("kickoff@brightpath.com", soon).encode()
        connected = await ingest.connect(
            mailbox.account.username,
            dovecot.port,
            calendar=pb.CalendarSource(ics_url=web.url(path)),
        )
        done = await ingest.wait_for(
            connected.mailbox_id, lambda m: m.calendar_status.HasField("last_success_at")
        )
    finally:
        web.close()
    events = await calendar_events(ingest, connected.mailbox_id)
    assert [e.calendar_event_key for e in events] == ["kickoff@brightpath.com"]
    # only the redacted URL is shown; the feed's token is sealed with the credentials
    assert done.calendar_url == web.url("/feeds/***/basic.ics?key=***")
    assert b"7f3a9c2e51b8d4a6" not in done.SerializeToString()
    assert b"s3cr3t-feed-key" not in done.SerializeToString()


async def test_unparseable_mail_is_quarantined_visibly_and_the_sync_goes_on(
    ingest, dovecot, mailbox
):
    mailbox.append("INBOX", letter(1), b"\x00\x01 not a message at all", letter(2))
    connected = await ingest.connect(mailbox.account.username, dovecot.port)
    await ingest.wait_for(connected.mailbox_id, idle_with(3))
    assert sorted(await ingest.synced_keys(connected.mailbox_id)) == [
        "renewal-1@brightpath.com",
        "renewal-2@brightpath.com",
    ]
    listed = await ingest.mailboxes.ListQuarantinedMessages(
        pb.ListQuarantinedMessagesRequest(mailbox_id=connected.mailbox_id),
        metadata=ingest.as_member("m1"),
    )
    (held,) = listed.messages
    assert held.source.startswith("imap:INBOX/") and held.reason and held.size > 0
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await ingest.mailboxes.ListQuarantinedMessages(
            pb.ListQuarantinedMessagesRequest(mailbox_id=connected.mailbox_id, page_token="@@"),
            metadata=ingest.as_member("m1"),
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_recreated_folder_is_read_again_without_duplicates(ingest, dovecot, mailbox):
    mailbox.create("Projects")
    mailbox.append("Projects", letter(1), letter(2))
    connected = await ingest.connect(mailbox.account.username, dovecot.port)
    await ingest.wait_for(connected.mailbox_id, idle_with(2))
    # The folder is deleted and made again: a new UIDVALIDITY, every old UID void.
    mailbox.delete("Projects")
    mailbox.create("Projects")
    mailbox.append("Projects", letter(1), letter(2), letter(3))
    await ingest.mailboxes.SyncMailboxNow(
        pb.SyncMailboxNowRequest(mailbox_id=connected.mailbox_id), metadata=ingest.as_member("m1")
    )
    deadline = time.monotonic() + 20
    while len(keys := await ingest.synced_keys(connected.mailbox_id)) < 3:
        assert time.monotonic() < deadline, "the recreated folder was never read again"
        await asyncio.sleep(0.3)
    await asyncio.sleep(1)  # a late duplicate would show up here
    keys = await ingest.synced_keys(connected.mailbox_id)
    assert sorted(keys) == [f"renewal-{n}@brightpath.com" for n in (1, 2, 3)]
