"""A real Radicale (CalDAV) for the ingest integration tests: PyPI's `radicale`, started
on a free loopback port with an htpasswd file, one calendar user per test. The fixture
is made available to every test module of this directory by conftest.py."""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from caldav.davclient import DAVClient

from commsintel.ingest.adapters.caldav_source import CalDavAccount
from services.ingest.tests.integration.local_destinations import LOOPBACK_ALLOWED

PASSWORD = "s3cret-calendar-pass"
USERS = 40


# --- the server -----------------------------------------------------------------------


@dataclass
class Radicale:
    url: str
    _users: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_member(self) -> CalendarOwner:
        """A calendar user nobody else in this session has used."""
        number = next(self._users)
        if number > USERS:
            raise RuntimeError(f"more than {USERS} calendar users used: raise USERS")
        return CalendarOwner(self.url, f"member{number}")


@pytest.fixture(scope="module")
def radicale() -> Iterator[Radicale]:
    directory = Path(tempfile.mkdtemp(prefix="commsintel-radicale-"))
    users = directory / "users"
    users.write_text("".join(f"member{n}:{PASSWORD}\n" for n in range(1, USERS + 1)))
    port = free_port()
    log = (directory / "radicale.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--config",
            "",  # no system or user config: only what is given here
            "--storage-filesystem-folder",
            str(directory / "collections"),
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--auth-type",
            "htpasswd",
            "--auth-htpasswd-filename",
            str(users),
            "--auth-htpasswd-encryption",
            "plain",
            "--auth-delay",
            "0",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, server, directory)
        yield Radicale(f"http://127.0.0.1:{port}/")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, server: subprocess.Popen, directory: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    log = (directory / "radicale.log").read_text()[-2000:]
    pytest.fail(f"radicale did not listen on 127.0.0.1:{port}\n{log}")


class CalendarOwner:
    """Puts events on the server the way the member's calendar app would: the plain
    caldav client, not the adapter under test."""

    def __init__(self, url: str, username: str) -> None:
        self.url, self.username = url, username
        self.client = DAVClient(url=url, username=username, password=PASSWORD, timeout=10)
        self.calendar = self.client.principal().make_calendar(name="Work", cal_id="work")

    def account(self, password: str = PASSWORD) -> CalDavAccount:
        return CalDavAccount(
            self.url, self.username, password, timeout=10, destinations=LOOPBACK_ALLOWED
        )

    def put(self, ics: str) -> None:
        self.calendar.save_event(ics)

    def replace(self, uid: str, ics: str) -> None:
        event = self.calendar.get_event_by_uid(uid)
        event.data = ics
        event.save()

    def delete(self, uid: str) -> None:
        self.calendar.get_event_by_uid(uid).delete()
