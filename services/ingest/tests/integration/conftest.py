"""A real Dovecot IMAP server for the ingest integration tests, one per test session.

Dovecot is Debian's `dovecot-imapd` (`make system-deps` installs it). When it is missing
the fixture installs it itself if it can (root with apt-get); the tests skip only when
it is neither installed nor installable. The server runs from a temp dir with its own
config (the recipe's template), on a free loopback port, and is stopped at the end.
Every test gets a mailbox user of its own, so tests never see each other's mail.
"""

from __future__ import annotations

import imaplib
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from commsintel.ingest.adapters.imap import ImapAccount
from services.ingest.tests.integration.local_destinations import LOOPBACK_ALLOWED
from services.ingest.tests.integration.radicale_server import radicale  # noqa: F401 (fixture)
from tests.support.local_dovecot import DovecotFailed, DovecotUnavailable, running_dovecot

# Dovecot rereads a changed passwd file at most once a second, so every user exists
# before the server starts: alice, a pool of fresh members, and one XOAUTH2 user.
MEMBERS = 110
OAUTH_USER, OAUTH_TOKEN = "oauth-member", "ya29.a0-test-bearer-token"


@dataclass
class Dovecot:
    host: str
    port: int
    passwords: dict[str, str]
    directory: Path | None = None  # the server's config and log
    oauth_user = OAUTH_USER
    oauth_token = OAUTH_TOKEN
    _members: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def account(self, username: str) -> ImapAccount:
        return ImapAccount(
            self.host,
            self.port,
            username,
            password=self.passwords[username],
            security="none",
            destinations=LOOPBACK_ALLOWED,
        )

    def new_member(self) -> ImapAccount:
        """A member nobody else in this session has used: an empty mailbox."""
        number = next(self._members)
        if number > MEMBERS:
            raise RuntimeError(f"more than {MEMBERS} fresh mailboxes used: raise MEMBERS")
        return self.account(f"member{number}")


class TestMailbox:
    """Puts mail on the server the way another client would: plain imaplib, no adapter.

    Folder names here are as on the wire (modified UTF-7), so tests can check that the
    adapter encodes them.
    """

    __test__ = False  # not a test class, whatever its name says

    def __init__(self, account: ImapAccount) -> None:
        self.account = account

    def _connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.account.host, self.account.port, timeout=10)
        imap.login(self.account.username, self.account.password or "")
        return imap

    def append(self, folder: str, *messages: bytes, flags: str = "") -> None:
        imap = self._connect()
        try:
            for raw in messages:
                typ, data = imap.append(_quote(folder), flags or None, None, raw)
                assert typ == "OK", data
        finally:
            imap.logout()

    def create(self, folder: str) -> None:
        self._simple("create", folder)

    def delete(self, folder: str) -> None:
        self._simple("delete", folder)

    def seen_uids(self, folder: str) -> set[int]:
        imap = self._connect()
        try:
            typ, data = imap.select(_quote(folder), readonly=True)
            assert typ == "OK", data
            typ, data = imap.uid("SEARCH", "SEEN")
            assert typ == "OK", data
            return {int(uid) for uid in (data[0] or b"").split()}
        finally:
            imap.logout()

    def _simple(self, command: str, folder: str) -> None:
        imap = self._connect()
        try:
            typ, data = getattr(imap, command)(_quote(folder))
            assert typ == "OK", data
        finally:
            imap.logout()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    passwords = {"alice": "secret", OAUTH_USER: OAUTH_TOKEN}
    passwords |= {f"member{n}": "secret" for n in range(1, MEMBERS + 1)}
    with _running_dovecot(passwords) as server:
        yield server


@pytest.fixture
def dovecot_for_failed_logins() -> Iterator[Dovecot]:
    """A server of its own for a test whose logins fail.

    After a failed login Dovecot delays every further login from that IP (4 s, then
    doubling), and every test connects from 127.0.0.1: on the shared server one wrong
    password would slow down all the tests after it.
    """
    with _running_dovecot({"alice": "secret", OAUTH_USER: OAUTH_TOKEN}) as server:
        yield server


@pytest.fixture
def mailbox(dovecot: Dovecot) -> TestMailbox:
    """A fresh member mailbox (INBOX, Sent, Trash, Drafts) on the shared server."""
    return TestMailbox(dovecot.new_member())


@contextmanager
def _running_dovecot(
    passwords: dict[str, str], oauth_introspection_url: str | None = None
) -> Iterator[Dovecot]:
    try:
        with running_dovecot(passwords, oauth_introspection_url) as server:
            yield Dovecot(server.host, server.port, passwords, server.directory)
    except DovecotUnavailable as missing:
        pytest.skip(str(missing))
    except DovecotFailed as failed:
        pytest.fail(str(failed))
