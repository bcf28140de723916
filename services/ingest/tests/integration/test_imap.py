"""The IMAP side of mailbox sync against a real Dovecot (see conftest.py): no mocks."""

from __future__ import annotations

import asyncio
import email
import socket
import time
from contextlib import aclosing
from dataclasses import replace

import pytest

from commsintel.ingest.adapters.imap import (
    FetchedMessage,
    ImapAccount,
    ImapAuthFailed,
    ImapSession,
    ImapUnavailable,
    UidValidityChanged,
)
from commsintel.ingest.domain.folder_sync import (
    FolderCursor,
    advance,
    folders_to_sync,
    plan_folder_sync,
)
from services.ingest.tests.integration.local_destinations import LOOPBACK_ALLOWED

pytestmark = pytest.mark.imap


def letter(n: int, topic: str = "renewal") -> bytes:
    return (
        "From: Priya Shah <priya.shah@brightpath.com>\r\n"
        "To: Alice Martin <alice@northwind.io>\r\n"
        f"Subject: {topic} #{n}\r\n"
        f"Message-ID: <{topic}-{n}@brightpath.com>\r\n"
        "Date: Tue, 02 Jan 2024 10:00:00 +0000\r\n"
        "\r\n"
        f"Hi Alice, about the {topic} ({n}).\r\n"
    ).encode()


def message_ids(messages: list[FetchedMessage]) -> list[str]:
    return [email.message_from_bytes(m.raw)["Message-ID"] for m in messages]


def ids_of(*letters: bytes) -> set[str]:
    return {email.message_from_bytes(raw)["Message-ID"] for raw in letters}


async def sync_folder(
    imap: ImapSession, folder: str, cursor: FolderCursor | None, batch_size: int = 200
) -> tuple[list[list[FetchedMessage]], FolderCursor | None]:
    """What the sync loop does for one folder: plan, fetch batch by batch, advance."""
    status = await imap.status(folder)
    plan = plan_folder_sync(cursor, status)
    if plan is None:
        return [], cursor
    if plan.full_resync:
        cursor = None
    batches = []
    async with aclosing(
        imap.fetch_from(folder, plan.first_uid, batch_size, uidvalidity=status.uidvalidity)
    ) as fetched:
        async for batch in fetched:
            batches.append(batch)
            cursor = advance(cursor, folder, status.uidvalidity, [m.uid for m in batch])
    return batches, cursor


async def test_backfill_brings_every_message_of_inbox_and_sent_in_small_batches(mailbox):
    # given a mailbox with received mail, sent mail, and mail in the trash
    received = [letter(n, "received") for n in range(5)]
    sent = [letter(n, "sent") for n in range(3)]
    mailbox.append("INBOX", *received)
    mailbox.append("Sent", *sent)
    mailbox.append("Trash", letter(1, "deleted"))

    async with ImapSession(mailbox.account) as imap:
        # when the folders to sync are chosen from the server's LIST
        folders = await imap.folders()
        chosen = folders_to_sync(folders)
        # and each is backfilled in batches of two
        synced = {}
        for folder in chosen:
            batches, cursor = await sync_folder(imap, folder, None, batch_size=2)
            synced[folder] = (batches, cursor)

    # then INBOX and the \Sent folder (found by its special-use flag) are synced, not Trash
    assert "\\Sent" in dict(folders)["Sent"]
    assert chosen == ["INBOX", "Sent"]
    inbox_batches, inbox_cursor = synced["INBOX"]
    sent_batches, _ = synced["Sent"]
    # and every message came, in batches smaller than the folder
    assert set(message_ids([m for b in inbox_batches for m in b])) == ids_of(*received)
    assert set(message_ids([m for b in sent_batches for m in b])) == ids_of(*sent)
    assert [len(b) for b in inbox_batches] == [2, 2, 1]
    assert inbox_cursor is not None and inbox_cursor.last_uid == 5
    # and the raw bytes are the message as appended
    assert inbox_batches[0][0].raw.replace(b"\r\n", b"\n") == received[0].replace(b"\r\n", b"\n")


async def test_message_appended_after_backfill_is_the_only_one_the_next_sync_fetches(mailbox):
    # given a backfilled INBOX
    mailbox.append("INBOX", letter(1), letter(2))
    async with ImapSession(mailbox.account) as imap:
        _, cursor = await sync_folder(imap, "INBOX", None)

    # when one more message arrives and the next sync runs from the saved cursor
    mailbox.append("INBOX", letter(3))
    async with ImapSession(mailbox.account) as imap:
        status = await imap.status("INBOX")
        plan = plan_folder_sync(cursor, status)
        batches, cursor = await sync_folder(imap, "INBOX", cursor)
        # and once more with nothing new
        again, _ = await sync_folder(imap, "INBOX", cursor)

    # then the plan is incremental and only the new message is fetched
    assert plan is not None and plan.reason == "incremental" and plan.first_uid == 3
    assert message_ids([m for b in batches for m in b]) == ["<renewal-3@brightpath.com>"]
    assert again == []


async def test_wrong_password_is_reported_as_auth_failure_without_revealing_it(
    dovecot_for_failed_logins,
):
    # given alice's account with a wrong password
    server = dovecot_for_failed_logins
    account = replace(server.account("alice"), password="Tr0ub4dor&3-wrong")

    # when she connects, then authentication fails with a message safe to show and log
    with pytest.raises(ImapAuthFailed) as failure:
        async with ImapSession(account):
            pass
    assert "authentication failed for alice" in str(failure.value)
    assert "Tr0ub4dor" not in str(failure.value)
    assert "Tr0ub4dor" not in repr(failure.value)
    assert "Tr0ub4dor" not in repr(account)


async def test_oauth2_token_logs_in_and_an_expired_token_is_an_auth_failure(
    dovecot, dovecot_for_failed_logins
):
    # given a mailbox whose provider accepts a bearer token (XOAUTH2)
    with_token = ImapAccount(
        dovecot.host,
        dovecot.port,
        dovecot.oauth_user,
        oauth2_token=dovecot.oauth_token,
        security="none",
        destinations=LOOPBACK_ALLOWED,
    )

    # when it connects with the token, then it can list its folders
    async with ImapSession(with_token) as imap:
        assert "INBOX" in dict(await imap.folders())

    # and an expired token fails without the token in the message
    server = dovecot_for_failed_logins
    expired = ImapAccount(
        server.host,
        server.port,
        server.oauth_user,
        oauth2_token="ya29.expired",
        security="none",
        destinations=LOOPBACK_ALLOWED,
    )
    with pytest.raises(ImapAuthFailed) as failure:
        async with ImapSession(expired):
            pass
    assert f"authentication failed for {server.oauth_user}" in str(failure.value)
    assert "ya29" not in str(failure.value)


async def test_server_that_does_not_answer_is_reported_as_unavailable(dovecot):
    # given a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    account = ImapAccount(
        "127.0.0.1",
        closed_port,
        "alice",
        password="secret",
        security="none",
        destinations=LOOPBACK_ALLOWED,
    )

    # when connecting, then the error says the server cannot be reached
    with pytest.raises(ImapUnavailable, match=f"cannot reach 127.0.0.1:{closed_port}"):
        async with ImapSession(account):
            pass


async def test_sync_stopped_after_first_batch_resumes_from_cursor_without_duplicates(mailbox):
    # given seven messages
    letters = [letter(n) for n in range(7)]
    mailbox.append("INBOX", *letters)

    # when a sync stops after its first batch (the cursor saved for that batch only)
    async with ImapSession(mailbox.account) as imap:
        status = await imap.status("INBOX")
        async with aclosing(imap.fetch_from("INBOX", 1, batch_size=3)) as fetched:
            first = await anext(fetched)
        cursor = advance(None, "INBOX", status.uidvalidity, [m.uid for m in first])

    # and a new session restarts from that cursor
    async with ImapSession(mailbox.account) as imap:
        rest, _ = await sync_folder(imap, "INBOX", cursor, batch_size=3)

    # then together they hold every message exactly once
    everything = first + [m for b in rest for m in b]
    assert sorted(message_ids(everything)) == sorted(ids_of(*letters))
    assert len({m.uid for m in everything}) == len(everything) == 7


async def test_recreated_folder_is_synced_again_from_the_start(mailbox):
    # given a backfilled folder
    mailbox.create("Projects")
    mailbox.append("Projects", letter(1, "project"), letter(2, "project"))
    async with ImapSession(mailbox.account) as imap:
        _, cursor = await sync_folder(imap, "Projects", None)
    assert cursor is not None

    # when the folder is deleted, recreated and filled again (a new UIDVALIDITY)
    mailbox.delete("Projects")
    mailbox.create("Projects")
    mailbox.append("Projects", letter(3, "project"))

    async with ImapSession(mailbox.account) as imap:
        status = await imap.status("Projects")
        plan = plan_folder_sync(cursor, status)
        # a fetch still planned with the old epoch refuses to mix UIDs of the two
        with pytest.raises(UidValidityChanged):
            async with aclosing(
                imap.fetch_from("Projects", 3, uidvalidity=cursor.uidvalidity)
            ) as fetched:
                await anext(fetched)
        batches, new_cursor = await sync_folder(imap, "Projects", cursor)

    # then the plan is a full resync from UID 1 and it brings the new content
    assert status.uidvalidity != cursor.uidvalidity
    assert plan is not None and plan.full_resync and plan.first_uid == 1
    assert plan.reason == "uidvalidity changed"
    assert message_ids([m for b in batches for m in b]) == ["<project-3@brightpath.com>"]
    assert new_cursor == FolderCursor(
        "Projects", status.uidvalidity, 1, new_cursor.highest_modseq if new_cursor else None
    )


async def test_syncing_leaves_unread_mail_unread(mailbox):
    # given two unread messages and one the member already read
    mailbox.append("INBOX", letter(1), letter(2))
    mailbox.append("INBOX", letter(3), flags="(\\Seen)")

    # when the folder is synced
    async with ImapSession(mailbox.account) as imap:
        batches, _ = await sync_folder(imap, "INBOX", None)

    # then all three were fetched and only the one already read is \Seen
    assert len([m for b in batches for m in b]) == 3
    assert mailbox.seen_uids("INBOX") == {3}


async def test_folder_with_spaces_and_accents_syncs(mailbox):
    # given a folder "Clients Müller & Co" (modified UTF-7 on the wire)
    mailbox.create("Clients M&APw-ller &- Co")
    mailbox.append("Clients M&APw-ller &- Co", letter(1, "mueller"))

    async with ImapSession(mailbox.account) as imap:
        # when it is listed, planned and fetched by its real name
        folders = await imap.folders()
        batches, cursor = await sync_folder(imap, "Clients Müller & Co", None)

    # then it is one of the folders to sync and its mail comes through
    assert "Clients Müller & Co" in dict(folders)
    assert "Clients Müller & Co" in folders_to_sync(folders)
    assert message_ids([m for b in batches for m in b]) == ["<mueller-1@brightpath.com>"]
    assert cursor is not None and cursor.folder == "Clients Müller & Co"


async def test_waiting_for_mail_wakes_up_when_a_message_arrives(mailbox):
    async with ImapSession(mailbox.account) as imap:
        # given a session waiting on INBOX for up to 20 seconds
        started = time.monotonic()
        waiting = asyncio.create_task(imap.idle_or_wait("INBOX", 20))
        await asyncio.sleep(0.5)

        # when a message arrives
        await asyncio.to_thread(mailbox.append, "INBOX", letter(1))

        # then the wait ends long before its limit, and the session still works
        await asyncio.wait_for(waiting, timeout=15)
        assert time.monotonic() - started < 15
        assert (await imap.status("INBOX")).messages == 1


async def test_mail_that_arrives_between_two_waits_ends_the_next_wait_at_once(mailbox):
    async with ImapSession(mailbox.account) as imap:
        # given a session that last looked at INBOX when it was empty
        assert (await imap.status("INBOX")).messages == 0

        # when a message arrives while the session is not in IDLE
        await asyncio.to_thread(mailbox.append, "INBOX", letter(1))

        # then its next wait does not sleep through it (IDLE reports only what comes
        # after it starts)
        started = time.monotonic()
        assert await imap.idle_or_wait("INBOX", 20) is True
        assert time.monotonic() - started < 5
        # and a wait with nothing new in between waits for news again
        assert await imap.idle_or_wait("INBOX", 0.5) is False


async def test_a_wake_up_ends_a_long_idle_at_once_and_the_session_goes_on(mailbox):
    async with ImapSession(mailbox.account) as imap:
        # given a session in a ten-minute IDLE on INBOX
        wake = asyncio.Event()
        started = time.monotonic()
        waiting = asyncio.create_task(imap.idle_or_wait("INBOX", 600, interrupt=wake))
        await asyncio.sleep(0.5)
        assert not waiting.done()

        # when the member asks for a sync now
        wake.set()

        # then the IDLE ends (DONE, its tagged answer read) long before its limit, with
        # nothing reported, and the same session answers the next command
        assert await asyncio.wait_for(waiting, timeout=15) is False
        assert time.monotonic() - started < 15
        await asyncio.to_thread(mailbox.append, "INBOX", letter(1))
        assert await asyncio.wait_for(imap.idle_or_wait("INBOX", 20), timeout=15) is True
