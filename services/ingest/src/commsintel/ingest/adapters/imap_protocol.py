"""aioimaplib's client protocol, with what ingest needs and the library lacks (decision
0026): a connection whose loss fails the waiting command at once, a silence timeout on
every command, STARTTLS, SASL with answers to challenges (XOAUTH2's error challenge),
EXAMINE as a real select, responses parsed without recursion and without a line limit
an attacker could grow, and no logging of the bytes on the wire (they hold passwords).

The library keeps a response as the server's lines: untagged ones (their "* " and, for
most commands, their command name removed), each literal as a bytearray of its own,
and last the text of the tagged status line.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aioimaplib import aioimaplib as library

T = TypeVar("T")

# The library logs every line sent and received at DEBUG and INFO, LOGIN and the
# server's echo of it included: that text must never reach a log.
logging.getLogger(library.__name__).disabled = True

# A line (not a literal) this long is no IMAP server's answer to our commands: searches
# go in UID windows, and bodies come as literals.
LONGEST_LINE = 4 * 1024 * 1024

ProtocolError = library.Error  # the server answered something the protocol cannot use
Response = library.Response


class ServerGone(Exception):
    """The connection is closed (by the server, the network, a timeout or us)."""


def untagged_lines(response: Response) -> Sequence[bytes]:
    return response.lines[:-1]


def tagged_text(response: Response) -> bytes:
    return bytes(response.lines[-1]) if response.lines else b""


class ImapProtocol(library.IMAP4ClientProtocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.last_heard = loop.time()
        self._gone: ServerGone | None = None
        self._welcomed: asyncio.Future[None] = loop.create_future()
        self._sasl_answer: Callable[[bytes], bytes] | None = None

    # -- the connection --------------------------------------------------------------

    @property
    def gone(self) -> bool:
        return self._gone is not None

    def abort(self) -> None:
        """Close the socket now (no LOGOUT): whatever waits on the server ends."""
        if self.transport is not None:
            self.transport.abort()
        self._lost(ServerGone("connection closed"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost(ServerGone("connection closed" if exc is None else f"connection lost: {exc}"))

    def _lost(self, gone: ServerGone) -> None:
        """The library leaves a command waiting forever when the connection drops."""
        if self._gone is None:
            self._gone = gone
        if not self._welcomed.done():
            self._welcomed.set_exception(self._gone)
            self._welcomed.exception()  # seen: greeted() raises it, or nobody waits
        waiting = [self.pending_sync_command, *self.pending_async_commands.values()]
        for command in waiting:
            if command is not None and not command._event.is_set():
                command._exception = self._gone
                command.close(b"", "BYE")

    def data_received(self, d: bytes) -> None:
        self.last_heard = self.loop.time()
        super().data_received(d)
        if len(self.incomplete_line) > LONGEST_LINE:
            self.abort()

    async def greeted(self) -> None:
        """Wait for the server's greeting and first CAPABILITY answer."""
        await self._welcomed

    async def welcome(self, command: bytes) -> None:
        try:
            await super().welcome(command)
        except Exception as refused:  # a BYE greeting, or no answer to CAPABILITY
            if not self._welcomed.done():
                self._welcomed.set_exception(ServerGone(f"the server refused: {refused}"))
        else:
            if not self._welcomed.done():
                self._welcomed.set_result(None)

    async def answered_within(self, timeout: float, command: Awaitable[T]) -> T:
        """`command`, unless the server stays silent for `timeout` seconds meanwhile (as
        a socket timeout would): then the connection is closed and TimeoutError raised."""
        task = asyncio.ensure_future(command)
        self.last_heard = self.loop.time()
        try:
            while True:
                silent = self.loop.time() - self.last_heard
                if silent >= timeout:
                    self.abort()
                    raise TimeoutError
                done, _ = await asyncio.wait({task}, timeout=timeout - silent)
                if done:
                    return task.result()
        finally:
            if not task.done():
                task.cancel()

    async def execute(self, command: library.Command, scrub: str | None = None) -> Response:
        if self._gone is not None:
            raise self._gone
        return await super().execute(command, scrub)

    # -- commands the library lacks or gets wrong for us ---------------------------

    async def capability(self) -> Response:  # type: ignore[override]
        response = await self.execute(library.Command("CAPABILITY", self.new_tag(), loop=self.loop))
        if response.result == "OK":
            words = b" ".join(bytes(line) for line in untagged_lines(response)).split()
            self.capabilities = {word.decode("ascii", "replace") for word in words}
        return response

    async def login(self, user: str, password: str) -> Response:
        # The library quotes the password only.
        return await super().login(library.quoted(user), password)

    async def authenticate(self, mechanism: str, answer: Callable[[bytes], bytes]) -> Response:
        """AUTHENTICATE without an initial response (not every server has SASL-IR):
        `answer` gets each challenge, decoded, and returns the line to send, encoded."""
        self._sasl_answer = answer
        try:
            command = library.Command("AUTHENTICATE", self.new_tag(), mechanism, loop=self.loop)
            response = await self.execute(command)
        finally:
            self._sasl_answer = None
        if response.result == "OK":
            self.state = library.AUTH
        return response

    def _continuation(self, line: bytes) -> None:
        command = self.pending_sync_command
        if command is not None and command.name == "AUTHENTICATE" and self._sasl_answer:
            try:
                challenge = base64.b64decode(line[1:].strip())
            except binascii.Error:
                challenge = b""
            self.transport.write(self._sasl_answer(challenge) + library.CRLF)
        else:
            super()._continuation(line)

    async def starttls(self, context: ssl.SSLContext, server_hostname: str, timeout: float) -> None:
        if "STARTTLS" not in self.capabilities:
            raise ProtocolError("the server does not offer STARTTLS")
        command = library.Command("STARTTLS", self.new_tag(), loop=self.loop)
        response = await self.answered_within(timeout, self.execute(command))
        if response.result != "OK":
            raise ProtocolError(f"the server refused STARTTLS: {tagged_text(response)!r}")
        self.transport = await self.loop.start_tls(
            self.transport,
            self,
            context,
            server_hostname=server_hostname,
            ssl_handshake_timeout=timeout,
        )
        # What the server said before TLS may have been forged (RFC 3501 6.2.1).
        await self.answered_within(timeout, self.capability())

    async def examine(self, mailbox: str) -> Response:
        """EXAMINE, and the state it leaves: the library's EXAMINE selects nothing."""
        command = library.Command("EXAMINE", self.new_tag(), mailbox, loop=self.loop)
        response = await self.execute(command)
        self.state = library.SELECTED if response.result == "OK" else library.AUTH
        return response

    async def uid_search(self, uid_range: str) -> Response:
        return await self.search("UID", uid_range, charset=None, by_uid=True)

    async def uid_fetch(self, sequence_set: str, items: str) -> Response:
        return await self.fetch(sequence_set, items, by_uid=True)

    async def idle_until_news(
        self, seconds: float, timeout: float, interrupt: asyncio.Event | None = None
    ) -> Response:
        """IDLE (RFC 2177) until the server reports anything, `seconds` pass or
        `interrupt` is set, then DONE. What the server reported is dropped: the caller
        only learns it is time to look at the folder again."""
        while not self.idle_queue.empty():
            self.idle_queue.get_nowait()
        self.last_heard = self.loop.time()
        idle = asyncio.ensure_future(self.idle())
        try:
            started = asyncio.ensure_future(self.wait_for_idle_response())
            try:
                done, _ = await asyncio.wait(
                    {idle, started}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                started.cancel()
            if idle.done():  # refused, or the connection is gone
                return idle.result()
            if not done:
                self.abort()
                raise TimeoutError
            news = asyncio.ensure_future(self.idle_queue.get())
            woken = asyncio.ensure_future((interrupt or asyncio.Event()).wait())
            try:
                await asyncio.wait(
                    {news, idle, woken}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                news.cancel()
                woken.cancel()
            if idle.done():  # the server ended the IDLE itself
                return idle.result()
            self.idle_done()
            return await self.answered_within(timeout, idle)
        finally:
            if not idle.done():  # cancelled or timed out mid-IDLE: the session is over
                idle.cancel()
                self.abort()

    # -- parsing ---------------------------------------------------------------------

    def _untagged_response(self, line: bytes) -> Any:
        """The library's, removing only the leading "* " (it removed every one in the
        line, inside folder names too) and tolerating bytes that are not UTF-8."""
        line = line[2:] if line.startswith(b"* ") else line
        if self.pending_sync_command is not None:
            self.pending_sync_command.append_to_resp(line)
            return self.pending_sync_command
        message_data = library.message_data_re.match(line)
        if message_data:
            name, text = message_data.group(1), line
        else:
            name, _, text = line.partition(b" ")
        command = self.pending_async_commands.get(name.decode("ascii", "replace").upper())
        if command is not None:
            command.append_to_resp(text)
            return command
        command = self.pending_async_commands.get("NOOP")  # unsolicited news meanwhile
        if command is not None:
            command.append_to_resp(line)
        return command

    def _handle_responses(
        self,
        data: bytes,
        line_handler: Callable[[bytes, Any], Any],
        current_cmd: Any = None,
    ) -> None:
        """The library's parser, as a loop: it recursed once per line, and one read of a
        long LIST answer has thousands of lines."""
        while True:
            if not data:
                if self.pending_sync_command is not None:
                    self.pending_sync_command.flush()
                if current_cmd is not None and current_cmd.wait_data():
                    raise library.IncompleteRead(current_cmd)
                return
            if current_cmd is not None and current_cmd.wait_literal_data():
                data = current_cmd.append_literal_data(data)
                if current_cmd.wait_literal_data():
                    raise library.IncompleteRead(current_cmd)
            line, separator, tail = data.partition(library.CRLF)
            if not separator:
                raise library.IncompleteRead(current_cmd, data)
            command = line_handler(line, current_cmd)
            literal = library.literal_data_re.match(line)
            if literal:
                if command is None:
                    command = library.Command("NIL", "unused", loop=self.loop)
                command.begin_literal_data(int(literal.group("size")))
                current_cmd = command
            elif command is not None and command.wait_data():
                current_cmd = command
            else:
                current_cmd = None
            data = tail
