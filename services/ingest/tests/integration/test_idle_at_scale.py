"""Many mailboxes waiting for mail at once, against the real Dovecot (see conftest.py):
a waiting mailbox costs a socket, not a thread, and new mail reaches its own mailbox
at once however many others wait (issue 15)."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import AsyncExitStack

import pytest

from commsintel.ingest.adapters.imap import ImapSession
from services.ingest.tests.integration.conftest import TestMailbox
from services.ingest.tests.integration.test_imap import letter

pytestmark = pytest.mark.imap

WAITING = 50


async def test_fifty_idle_mailboxes_hold_no_thread_and_new_mail_wakes_only_its_own(dovecot):
    # given fifty members' mailboxes, each with a session of its own
    mailboxes = [TestMailbox(dovecot.new_member()) for _ in range(WAITING)]
    threads_before = threading.active_count()
    async with AsyncExitStack() as sessions:
        opened = [await sessions.enter_async_context(ImapSession(m.account)) for m in mailboxes]
        assert all("IDLE" in session.capabilities for session in opened)

        # when all of them wait for mail in INBOX (IDLE) for up to a minute
        waits = [asyncio.create_task(s.idle_or_wait("INBOX", 60)) for s in opened]
        await asyncio.sleep(1.5)
        threads_waiting = threading.active_count()
        assert not any(wait.done() for wait in waits)

        # and a message arrives in one of them
        arrived = time.monotonic()
        await asyncio.to_thread(mailboxes[37].append, "INBOX", letter(1))

        # then that mailbox's wait ends within a couple of seconds...
        await asyncio.wait_for(waits[37], timeout=5)
        woke_after = time.monotonic() - arrived
        # ...while the other 49 still wait
        await asyncio.sleep(0.5)
        still_waiting = [wait for wait in waits if not wait.done()]
        # and the woken session goes on working
        assert (await opened[37].status("INBOX")).messages == 1

        for wait in still_waiting:
            wait.cancel()
        await asyncio.gather(*still_waiting, return_exceptions=True)

    assert woke_after < 3
    assert len(still_waiting) == WAITING - 1
    # and fifty mailboxes in IDLE took no thread (a couple of slack for the runtime)
    assert threads_waiting - threads_before <= 2
