"""A member cannot aim the server at its own files or network (server-side request
forgery): file paths, loopback, private and link-local addresses, names resolving to
loopback and redirects there are refused, and nothing is fetched. The operator's allow
setting lets on-premises servers (here the local Dovecot and Radicale) through."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from commsintel.contracts.proto.ingest.v1 import ingest_pb2 as pb
from commsintel.ingest.adapters import destinations
from commsintel.ingest.adapters.caldav_source import CalDavAccount, CalDavSource
from commsintel.ingest.adapters.calendar_source import CalendarSourceError, CalendarUnavailable
from commsintel.ingest.adapters.destinations import PUBLIC_ONLY
from commsintel.ingest.adapters.ics_source import IcsFeed, IcsSource
from commsintel.ingest.adapters.imap import ImapAccount, ImapSession, ImapUnavailable
from commsintel.ingest.adapters.smtp import SmtpAccount, SmtpUnavailable, submit
from commsintel.ingest.domain.destinations import DestinationPolicy
from services.ingest.tests.integration.local_destinations import LoopbackWeb
from services.ingest.tests.integration.radicale_server import PASSWORD as CALDAV_PASSWORD
from services.ingest.tests.integration.test_mailbox_service import (
    PASSWORD,
    Ingest,
    running_ingest,
)

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]

PUBLIC_HOST = "93.184.216.34"  # never contacted: the requests below are refused first


@pytest.fixture
async def strict_ingest(kafka_bootstrap, mongo_uri, signing_key) -> AsyncIterator[Ingest]:
    """Ingest as deployed by default: no allowed hosts or networks."""
    async with running_ingest(
        kafka_bootstrap, mongo_uri, signing_key, outbound_allowed_networks=""
    ) as running:
        yield running


def imap(host: str, port: int = 993, **secret: str) -> pb.ImapCredentials:
    return pb.ImapCredentials(
        host=host,
        port=port,
        security=pb.IMAP_SECURITY_NONE,
        username="member@northwind.io",
        **(secret or {"password": PASSWORD}),
    )


async def refused(ingest: Ingest, **request) -> str:
    """Connect with this request; the INVALID_ARGUMENT message it must get."""
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await ingest.mailboxes.ConnectMailbox(
            pb.ConnectMailboxRequest(**request), metadata=ingest.as_member("m1")
        )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT, failure.value.details()
    return failure.value.details() or ""


async def test_imap_and_smtp_hosts_on_this_server_or_its_network_are_refused(
    strict_ingest, dovecot
):
    # the local Dovecot, by address and by a name resolving to loopback
    assert "loopback" in await refused(strict_ingest, imap=imap("127.0.0.1", dovecot.port))
    assert "loopback" in await refused(strict_ingest, imap=imap("localhost", dovecot.port))
    assert "loopback" in await refused(strict_ingest, imap=imap("::1"))
    # private, link-local (the cloud metadata address) and unspecified addresses
    assert "private" in await refused(strict_ingest, imap=imap("10.0.0.7"))
    assert "private" in await refused(strict_ingest, imap=imap("192.168.1.20"))
    assert "link-local" in await refused(strict_ingest, imap=imap("169.254.169.254", 80))
    assert "unspecified" in await refused(strict_ingest, imap=imap("0.0.0.0"))
    # an SMTP server on loopback next to a public IMAP host
    message = await refused(
        strict_ingest,
        imap=imap(PUBLIC_HOST),
        smtp=pb.SmtpSettings(host="127.0.0.1", port=25),
    )
    assert message.startswith("smtp.host") and "loopback" in message
    # nothing was stored
    listed = await strict_ingest.mailboxes.ListMailboxes(
        pb.ListMailboxesRequest(), metadata=strict_ingest.as_member("m1")
    )
    assert list(listed.mailboxes) == []


async def test_calendar_files_and_local_urls_are_refused_without_saying_what_exists(
    strict_ingest, radicale, tmp_path
):
    key_file = tmp_path / "signing.key"
    key_file.write_text("not for members")
    web = LoopbackWeb()
    web.pages["/calendar.ics"] = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    try:
        # files: the same answer whether the file exists or not
        answers = {
            await refused(
                strict_ingest,
                imap=imap(PUBLIC_HOST),
                calendar=pb.CalendarSource(ics_url=location),
            )
            for location in (
                "/etc/passwd",
                str(key_file),
                str(tmp_path / "missing.ics"),
                f"file://{key_file}",
            )
        }
        assert answers == {"the calendar URL must be an http(s) or webcal URL"}
        # a feed and a CalDAV server on loopback
        feed = await refused(
            strict_ingest,
            imap=imap(PUBLIC_HOST),
            calendar=pb.CalendarSource(ics_url=web.url("/calendar.ics")),
        )
        owner = radicale.new_member()
        caldav = await refused(
            strict_ingest,
            imap=imap(PUBLIC_HOST),
            calendar=pb.CalendarSource(
                caldav=pb.CaldavCalendar(
                    url=owner.url, username=owner.username, password=CALDAV_PASSWORD
                )
            ),
        )
    finally:
        web.close()
    assert "loopback" in feed and "loopback" in caldav
    assert web.hits == []  # nothing was fetched


async def test_a_name_allowed_by_the_operator_reaches_the_local_dovecot(
    kafka_bootstrap, mongo_uri, signing_key, dovecot, mailbox
):
    # given an operator who allows one on-premises host by name, and no network
    async with running_ingest(
        kafka_bootstrap,
        mongo_uri,
        signing_key,
        outbound_allowed_networks="",
        outbound_allowed_hosts="localhost",
    ) as ingest:
        # then that name syncs, while the same server by address stays refused
        request = pb.ConnectMailboxRequest(
            imap=pb.ImapCredentials(
                host="localhost",
                port=dovecot.port,
                security=pb.IMAP_SECURITY_NONE,
                username=mailbox.account.username,
                password=mailbox.account.password,
            ),
            owner_addresses=["member@northwind.io"],
        )
        connected = (
            await ingest.mailboxes.ConnectMailbox(request, metadata=ingest.as_member("m1"))
        ).mailbox
        synced = await ingest.wait_for(
            connected.mailbox_id, lambda m: m.status.HasField("last_success_at")
        )
        assert synced.status.error == pb.SYNC_ERROR_UNSPECIFIED
        assert "loopback" in await refused(ingest, imap=imap("127.0.0.1", dovecot.port))


async def test_a_feed_redirecting_to_loopback_is_not_followed(
    kafka_bootstrap, mongo_uri, signing_key, dovecot, mailbox
):
    # given a feed server the operator allows, which redirects to another local port
    inner, outer = LoopbackWeb(), LoopbackWeb()
    inner.pages["/secret.ics"] = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    outer.redirects["/feed.ics"] = inner.url("/secret.ics")
    try:
        async with running_ingest(
            kafka_bootstrap,
            mongo_uri,
            signing_key,
            outbound_allowed_networks="",
            outbound_allowed_hosts=f"127.0.0.1:{outer.port},127.0.0.1:{dovecot.port}",
        ) as ingest:
            connected = await ingest.connect(
                mailbox.account.username,
                dovecot.port,
                calendar=pb.CalendarSource(ics_url=outer.url("/feed.ics")),
            )
            # when the calendar syncs, then the redirect is refused and reported
            failed = await ingest.wait_for(
                connected.mailbox_id,
                lambda m: m.calendar_status.state == pb.SYNC_STATE_ERROR,
            )
    finally:
        inner.close()
        outer.close()
    assert failed.calendar_status.error == pb.SYNC_ERROR_UNREACHABLE
    assert "loopback" in failed.calendar_status.error_message
    assert outer.hits and inner.hits == []  # the redirect target was never asked


async def test_a_caldav_redirect_to_loopback_is_not_followed():
    inner, outer = LoopbackWeb(), LoopbackWeb()
    outer.redirects["/dav/"] = inner.url("/dav/")
    policy = DestinationPolicy.parse(hosts=f"127.0.0.1:{outer.port}")
    source = CalDavSource(CalDavAccount(outer.url("/dav/"), "x", "pw-x", 5, policy))
    try:
        with pytest.raises(CalendarUnavailable, match="loopback"):
            await source.calendars()
    finally:
        await source.aclose()
        inner.close()
        outer.close()
    assert outer.hits and inner.hits == []


REBINDING = "calendar.rebinding.test"
FEED = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
    b"UID:pinned-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\n"
    b"SUMMARY:From the checked address\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def rebinding(monkeypatch) -> Iterator[tuple[LoopbackWeb, LoopbackWeb]]:
    """A name whose answer changes between the check and the connection: the check's
    lookup gets 127.0.0.2 (allowed), any other lookup gets 127.0.0.1 (refused). Yields
    (allowed, evil): one server on each address, on the same port."""
    allowed = LoopbackWeb("127.0.0.2")
    evil = None
    for _attempt in range(5):
        try:
            evil = LoopbackWeb("127.0.0.1", allowed.port)
            break
        except OSError:  # that port is taken on 127.0.0.1: another pair
            allowed.close()
            allowed = LoopbackWeb("127.0.0.2")
    assert evil is not None
    real_resolve, real_getaddrinfo = destinations.resolve, socket.getaddrinfo

    def checked_lookup(host: str, port: int) -> list[str]:
        return ["127.0.0.2"] if host == REBINDING else real_resolve(host, port)

    def other_lookup(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        return real_getaddrinfo("127.0.0.1" if name == REBINDING else host, port, *args, **kwargs)

    monkeypatch.setattr(destinations, "resolve", checked_lookup)
    monkeypatch.setattr(socket, "getaddrinfo", other_lookup)
    try:
        yield allowed, evil
    finally:
        allowed.close()
        evil.close()


async def test_a_feed_connects_to_the_address_checked_not_to_a_second_lookup(rebinding):
    # given a feed under a rebinding name, which redirects once, and an operator who
    # allows only 127.0.0.2
    allowed, evil = rebinding
    base = f"http://{REBINDING}:{allowed.port}"
    for web in rebinding:
        web.redirects["/feed.ics"] = f"{base}/moved.ics"
        web.pages["/moved.ics"] = FEED
    policy = DestinationPolicy.parse(networks="127.0.0.2/32")
    # when it is read, then both requests went to the address that was checked
    source = IcsSource(IcsFeed(f"{base}/feed.ics", timeout=5, destinations=policy))
    [calendar] = await source.calendars()
    changes = await source.changes(calendar, None, {})
    assert [c.href for c in changes.changed] == ["pinned-1"]
    assert allowed.hits == ["/feed.ics", "/moved.ics"]
    assert evil.hits == []


async def test_caldav_connects_to_the_address_checked_not_to_a_second_lookup(rebinding):
    allowed, evil = rebinding
    policy = DestinationPolicy.parse(networks="127.0.0.2/32")
    url = f"http://{REBINDING}:{allowed.port}/dav/"
    source = CalDavSource(CalDavAccount(url, "x", "pw-x", 5, policy))
    try:
        with contextlib.suppress(CalendarSourceError):  # not a CalDAV server: only who is asked
            await source.calendars()
    finally:
        await source.aclose()
    assert allowed.hits and evil.hits == []


async def test_connections_check_the_resolved_address_not_the_name_given():
    # a server on loopback that counts who connects
    connections = 0

    async def count(reader, writer) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    server = await asyncio.start_server(count, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        # an IMAP and an SMTP account named "localhost", under the default policy
        account = ImapAccount("localhost", port, "m", password="pw-1234", security="none")
        assert account.destinations == PUBLIC_ONLY
        with pytest.raises(ImapUnavailable, match="loopback"):
            async with ImapSession(account):
                pass
        smtp = SmtpAccount("localhost", port, "m", password="pw-1234", security="none")
        with pytest.raises(SmtpUnavailable, match="loopback"):
            await submit(smtp, "m@example.com", ["x@example.com"], b"Subject: x\r\n\r\nx")
    finally:
        server.close()
        await server.wait_closed()
    assert connections == 0
    assert socket.getaddrinfo("localhost", port)  # the name does resolve: it was refused


async def test_tls_connections_go_through_the_same_check():
    # a plain server on loopback: a TLS client fails its handshake there
    async def hang_up(reader, writer) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    allowed = DestinationPolicy.parse(networks="127.0.0.0/8")
    try:
        for policy, expected in ((PUBLIC_ONLY, "loopback"), (allowed, "cannot reach")):
            imap_tls = ImapAccount(
                "127.0.0.1", port, "m", password="pw-1234", security="tls", destinations=policy
            )
            with pytest.raises(ImapUnavailable, match=expected):
                async with ImapSession(imap_tls):
                    pass
            smtp_tls = SmtpAccount(
                "127.0.0.1", port, "m", password="pw-1234", security="tls", destinations=policy
            )
            with pytest.raises(SmtpUnavailable, match=expected.split()[0]):
                await submit(smtp_tls, "m@example.com", ["x@example.com"], b"Subject: x\r\n\r\nx")
    finally:
        server.close()
        await server.wait_closed()


async def test_reconnecting_cannot_move_a_mailbox_onto_a_refused_host(
    kafka_bootstrap, mongo_uri, signing_key, dovecot, mailbox
):
    # given a mailbox on the allowed local Dovecot
    async with running_ingest(kafka_bootstrap, mongo_uri, signing_key) as ingest:
        connected = await ingest.connect(mailbox.account.username, dovecot.port)
        # when it is reconnected with an SMTP server or a feed on the metadata address
        for extra in (
            {"smtp": pb.SmtpSettings(host="169.254.169.254", port=25)},
            {"calendar": pb.CalendarSource(ics_url="http://169.254.169.254/latest/")},
            {"calendar": pb.CalendarSource(ics_url="/etc/passwd")},
        ):
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await ingest.mailboxes.ReconnectMailbox(
                    pb.ReconnectMailboxRequest(
                        mailbox_id=connected.mailbox_id,
                        imap=pb.ImapCredentials(
                            host="127.0.0.1",
                            port=dovecot.port,
                            security=pb.IMAP_SECURITY_NONE,
                            username=mailbox.account.username,
                            password=mailbox.account.password,
                        ),
                        **extra,
                    ),
                    metadata=ingest.as_member("m1"),
                )
            # then it is refused, and the mailbox keeps what it had
            assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        kept = await ingest.status(connected.mailbox_id)
        assert kept.smtp_host == "" and kept.calendar_url == ""
