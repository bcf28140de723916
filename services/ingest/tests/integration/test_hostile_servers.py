"""Servers that echo back the command they refuse, credentials and all: no form of the
secret reaches a response, an event, a stored document or a log line."""

from __future__ import annotations

import asyncio
import base64
import binascii
import imaplib
import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from pymongo import AsyncMongoClient

from commsintel.contracts.proto.ingest.v1 import ingest_pb2 as pb
from commsintel.ingest.adapters.smtp import SmtpAccount, SmtpAuthFailed, submit
from services.ingest.tests.integration.local_destinations import LOOPBACK_ALLOWED
from services.ingest.tests.integration.test_mailbox_service import Ingest, running_ingest

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


@pytest.fixture
async def ingest(kafka_bootstrap, mongo_uri, signing_key) -> AsyncIterator[Ingest]:
    async with running_ingest(kafka_bootstrap, mongo_uri, signing_key) as running:
        yield running


USER = "alice@northwind.io"
# A password with every character IMAP quoting escapes, and a bearer token.
PASSWORD = 'p"q\\x-Hostile-Secr3t'
TOKEN = "ya29.a0AfH6SMB-hostile-bearer-token"


def wire_forms(secret: str) -> list[str]:
    """What a client sends for the secret, computed here with the clients' own code."""
    quoted = imaplib.IMAP4._quote(None, secret)  # type: ignore[arg-type]
    sasl = [
        f"user={USER}\x01auth=Bearer {secret}\x01\x01",
        f"\0{USER}\0{secret}",
    ]
    encoded = [base64.b64encode(s.encode()).decode() for s in sasl]
    return [secret, quoted[1:-1], *encoded, base64.b64encode(secret.encode()).decode()]


def searched_forms(secret: str) -> list[str]:
    """The wire forms, and the same escaped the way JSON and repr() show text (logs,
    stored documents)."""
    forms = wire_forms(secret)
    return [
        *forms,
        *(json.dumps(f)[1:-1] for f in forms),
        *(repr(f)[1:-1] for f in forms),
    ]


class EchoingImapServer:
    """Refuses every login and says exactly what it was sent, as some servers do: the
    LOGIN line with its quoted password, the AUTHENTICATE answer as base64 and decoded."""

    def __init__(self, answer: str = "NO") -> None:
        self.answer = answer.encode()
        self.received: list[bytes] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        capabilities = b"IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2"
        writer.write(b"* OK [CAPABILITY " + capabilities + b"] echo server ready\r\n")
        authenticating: tuple[bytes, bytes] | None = None
        try:
            while line := await reader.readline():
                self.received.append(line)
                text = line.rstrip(b"\r\n")
                if authenticating is not None:
                    (tag, command), authenticating = authenticating, None
                    try:
                        decoded = base64.b64decode(text).replace(b"\x01", b"^A")
                    except binascii.Error:
                        decoded = b"?"
                    writer.write(
                        tag
                        + b" "
                        + self.answer
                        + b" [AUTHENTICATIONFAILED] rejected "
                        + command
                        + b" "
                        + text
                        + b" meaning "
                        + decoded
                        + b"\r\n"
                    )
                    continue
                tag, _, rest = text.partition(b" ")
                verb = rest.split(b" ", 1)[0].upper()
                if verb == b"CAPABILITY":
                    writer.write(b"* CAPABILITY " + capabilities + b"\r\n" + tag + b" OK done\r\n")
                elif verb == b"AUTHENTICATE":
                    authenticating = (tag, text)
                    writer.write(b"+ \r\n")
                elif verb == b"LOGOUT":
                    writer.write(b"* BYE\r\n" + tag + b" OK bye\r\n")
                    break
                else:
                    writer.write(tag + b" " + self.answer + b" rejected: " + text + b"\r\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


def strings_in(value: object) -> Iterator[str]:
    """Every text in a stored document (sealed values are bytes and stay out)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


async def assert_no_form_anywhere(
    ingest: Ingest, mailbox_id: str, forms: list[str], mongo_uri: str, logs: list[str]
) -> None:
    # not in any response...
    answer = await ingest.mailboxes.GetMailbox(
        pb.GetMailboxRequest(mailbox_id=mailbox_id), metadata=ingest.as_member("m1")
    )
    listed = await ingest.mailboxes.ListMailboxes(
        pb.ListMailboxesRequest(), metadata=ingest.as_member("m1")
    )
    responses = [answer.SerializeToString(), listed.SerializeToString()]
    # ...not in any event...
    events = [event.model_dump_json() for event in await ingest.events()]
    # ...not in any stored document...
    client = AsyncMongoClient(mongo_uri)
    try:
        database = client[ingest.service.settings.mongo_database]
        stored = [
            text
            for name in await database.list_collection_names()
            async for document in database[name].find({})
            for text in strings_in(document)
        ]
    finally:
        await client.close()
    # ...and not in any log line.
    for form in forms:
        assert all(form.encode() not in response for response in responses), form
        assert all(form not in event for event in events), form
        assert all(form not in text for text in stored), form
        assert all(form not in line for line in logs), form


async def wait_for_error(ingest: Ingest, mailbox_id: str) -> pb.Mailbox:
    return await ingest.wait_for(mailbox_id, lambda m: m.status.state == pb.SYNC_STATE_ERROR)


@pytest.mark.parametrize("answer", ["NO", "BAD"])
async def test_an_echoed_login_leaves_no_form_of_the_password_anywhere(
    ingest, answer, mongo_uri, caplog
):
    caplog.set_level(logging.DEBUG)
    server = EchoingImapServer(answer)
    port = await server.start()
    try:
        # given a member who connects a mailbox on a server that echoes what it refuses
        connected = await ingest.connect(USER, port, password=PASSWORD)
        failed = await wait_for_error(ingest, connected.mailbox_id)
    finally:
        await server.stop()

    # then the member learns the login failed, and the server did echo the password
    assert failed.status.error == pb.SYNC_ERROR_AUTH_FAILED
    assert failed.status.error_message.startswith(f"authentication failed for {USER}")
    quoted = imaplib.IMAP4._quote(None, PASSWORD).encode()  # type: ignore[arg-type]
    assert any(quoted in line for line in server.received)
    # but no form of it is anywhere
    logs = [record.getMessage() for record in caplog.records] + [caplog.text]
    await assert_no_form_anywhere(
        ingest, connected.mailbox_id, searched_forms(PASSWORD), mongo_uri, logs
    )


async def test_an_echoed_xoauth2_blob_leaves_no_form_of_the_token_anywhere(
    ingest, mongo_uri, caplog
):
    caplog.set_level(logging.DEBUG)
    server = EchoingImapServer()
    port = await server.start()
    try:
        # given a mailbox connected with an OAuth2 token on an echoing server
        request = pb.ConnectMailboxRequest(
            imap=pb.ImapCredentials(
                host="127.0.0.1",
                port=port,
                security=pb.IMAP_SECURITY_NONE,
                username=USER,
                oauth2_access_token=TOKEN,
            ),
        )
        connected = (
            await ingest.mailboxes.ConnectMailbox(request, metadata=ingest.as_member("m1"))
        ).mailbox
        failed = await wait_for_error(ingest, connected.mailbox_id)
    finally:
        await server.stop()

    # then the echo held the SASL blob (and its decoding), and nothing shows it
    blob = base64.b64encode(f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01".encode())
    assert any(blob in line for line in server.received)
    assert failed.status.error == pb.SYNC_ERROR_AUTH_FAILED
    logs = [record.getMessage() for record in caplog.records] + [caplog.text]
    await assert_no_form_anywhere(
        ingest, connected.mailbox_id, searched_forms(TOKEN), mongo_uri, logs
    )


class EchoingSmtpServer:
    """Refuses AUTH, quoting the AUTH line back (PLAIN's or XOAUTH2's base64)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 echo ESMTP\r\n")
        try:
            while line := await reader.readline():
                self.received.append(line)
                text = line.rstrip(b"\r\n")
                verb = text.split(b" ", 1)[0].upper()
                if verb == b"EHLO":
                    writer.write(b"250-echo\r\n250 AUTH PLAIN XOAUTH2\r\n")
                elif verb == b"AUTH":
                    writer.write(b"535 5.7.8 rejected: " + text + b"\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


@pytest.mark.parametrize("kind", ["password", "token"])
async def test_an_smtp_server_echoing_auth_gets_no_secret_into_the_failure(kind):
    server = EchoingSmtpServer()
    port = await server.start()
    secret = PASSWORD if kind == "password" else TOKEN
    account = SmtpAccount(
        "127.0.0.1",
        port,
        USER,
        password=secret if kind == "password" else None,
        oauth2_token=secret if kind == "token" else None,
        security="none",
        destinations=LOOPBACK_ALLOWED,
    )
    try:
        with pytest.raises(SmtpAuthFailed) as refused:
            await submit(account, USER, ["bob@example.com"], b"Subject: hi\r\n\r\nhi\r\n")
    finally:
        await server.stop()

    assert any(b"AUTH" in line for line in server.received)
    message = str(refused.value)
    assert message.startswith(f"authentication failed for {USER}: 535")
    for form in searched_forms(secret):
        assert form not in message, form
