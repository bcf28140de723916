"""A member's IMAP mailbox, read without changing it: folders, their status, new messages.

The connection lives on the event loop (aioimaplib's protocol, decision 0026): a session
waiting in IDLE holds its socket and a few objects, no thread, so a thousand idle
mailboxes cost no more than their sockets and none waits behind another. Commands run
one at a time per session. Folders are opened with EXAMINE and bodies fetched with
BODY.PEEK[], so syncing never marks anything read. Folder names are Unicode here and
modified UTF-7 (RFC 3501 5.1.3), always quoted, on the wire.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from commsintel.ingest.adapters.destinations import PUBLIC_ONLY, open_checked, verifying_tls_context
from commsintel.ingest.adapters.imap_protocol import (
    ImapProtocol,
    ProtocolError,
    ServerGone,
    tagged_text,
    untagged_lines,
)
from commsintel.ingest.domain.destinations import DestinationPolicy, DestinationRefused
from commsintel.ingest.domain.folder_sync import FolderStatus
from commsintel.ingest.domain.secret_forms import SecretScrub
from commsintel.platform.metrics import INSTRUMENTS

T = TypeVar("T")

# UID SEARCH answers on one line: search a huge folder in UID windows so that line stays
# short (the protocol refuses lines over a few MB).
_SEARCH_WINDOW = 20_000
_UID = re.compile(rb"\bUID (\d+)")
_STATUS_ITEM = re.compile(rb"(UIDVALIDITY|UIDNEXT|MESSAGES|HIGHESTMODSEQ) (\d+)")
_LIST_LINE = re.compile(
    rb'^\((?P<flags>[^)]*)\) (?P<delimiter>"(?:[^"\\]|\\.)*"|NIL) ?(?P<name>.*)$'
)
_LITERAL_LENGTH = re.compile(rb"\{\d+\}$")
_RESPONSE_CODE = re.compile(rb"^OK \[(UIDVALIDITY|UIDNEXT) (\d+)\]")
_FETCH_START = re.compile(rb"^\d+ FETCH \(")


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    username: str
    password: str | None = field(default=None, repr=False)
    oauth2_token: str | None = field(default=None, repr=False)
    security: Literal["tls", "starttls", "none"] = "tls"
    timeout: float = 30.0
    destinations: DestinationPolicy = PUBLIC_ONLY

    def __post_init__(self) -> None:
        if (self.password is None) == (self.oauth2_token is None):
            raise ValueError("an IMAP account needs either a password or an OAuth2 token")


class ImapError(Exception):
    """The server refused or failed a command. Messages never contain credentials."""


class ImapAuthFailed(ImapError):
    """Wrong password or expired token: the member has to reconnect the mailbox."""


class ImapUnavailable(ImapError):
    """The server cannot be reached or dropped the connection: retry later."""


class UidValidityChanged(ImapError):
    """The folder was recreated while it was being read: plan its sync again."""


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes


class ImapSession:
    """One logged-in connection: `async with ImapSession(account) as imap: ...`."""

    def __init__(self, account: ImapAccount) -> None:
        self._account = account
        self._imap: ImapProtocol | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._selected: str | None = None
        # Per folder, (UIDVALIDITY, UIDNEXT) as last seen by STATUS or before an IDLE:
        # mail that arrives between two IDLEs shows in the next one's EXAMINE, not in it.
        self._last_seen: dict[str, tuple[int, int | None]] = {}
        self._lock = asyncio.Lock()
        self._scrub = SecretScrub.of((account.password, account.oauth2_token), (account.username,))

    async def __aenter__(self) -> ImapSession:
        self._imap = await self._run(self._connect)
        try:
            await self._run(self._authenticate)
        except BaseException:
            imap, self._imap = self._imap, None
            imap.abort()
            raise
        INSTRUMENTS.imap_connections.add(1)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        if self._imap is not None:
            imap, self._imap = self._imap, None
            INSTRUMENTS.imap_connections.add(-1)
            # Cancelled (a stop or a removal): the last command may still be waiting (IDLE
            # is), and a LOGOUT behind it would wait for the timeout; closing ends both.
            cancelled = exc_type is not None and issubclass(exc_type, asyncio.CancelledError)
            if cancelled or imap.gone:
                imap.abort()
            else:
                await self._logout_quietly(imap)

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    async def folders(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every folder as (name, flags), special-use flags (\\Sent, \\Trash, ...) included."""
        imap = self._session()
        if "SPECIAL-USE" in self._capabilities:
            # The RETURN option (RFC 6154) adds the flags without filtering, where the
            # (SPECIAL-USE) selection option would leave out INBOX and plain folders.
            response = await self._command(
                imap.simple_command, "LIST", '""', '"*" RETURN (SPECIAL-USE)'
            )
        else:
            response = await self._command(imap.simple_command, "LIST", '""', '"*"')
        self._check(response, "LIST")
        return [entry for entry in _parse_list(untagged_lines(response)) if entry is not None]

    async def status(self, folder: str) -> FolderStatus:
        imap = self._session()
        items = "UIDVALIDITY UIDNEXT MESSAGES"
        if "CONDSTORE" in self._capabilities:
            items += " HIGHESTMODSEQ"
        response = await self._command(imap.simple_command, "STATUS", _quoted(folder), f"({items})")
        self._check(response, f"STATUS of {folder!r}")
        answer = b" ".join(bytes(line) for line in untagged_lines(response))
        values = {key.decode(): int(value) for key, value in _STATUS_ITEM.findall(answer)}
        if "UIDVALIDITY" not in values or "UIDNEXT" not in values:
            raise ImapError(f"STATUS of {folder!r} lacks UIDVALIDITY or UIDNEXT")
        self._last_seen[folder] = (values["UIDVALIDITY"], values["UIDNEXT"])
        return FolderStatus(
            folder=folder,
            uidvalidity=values["UIDVALIDITY"],
            uidnext=values["UIDNEXT"],
            messages=values.get("MESSAGES", 0),
            highest_modseq=values.get("HIGHESTMODSEQ"),
        )

    async def fetch_from(
        self,
        folder: str,
        first_uid: int,
        batch_size: int = 200,
        *,
        uidvalidity: int | None = None,
    ) -> AsyncIterator[list[FetchedMessage]]:
        """The messages with UID >= first_uid, in ascending UID batches of batch_size.

        Only the UIDs of one search window and one batch of bodies are in memory at a
        time. Messages that arrive while this runs are left for the next sync. With
        `uidvalidity` (the one the plan was made with), a recreated folder raises
        UidValidityChanged instead of returning UIDs of a different epoch.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        expected, uidnext = await self._examine(folder)
        if uidvalidity is not None and expected != uidvalidity:
            raise UidValidityChanged(f"UIDVALIDITY of {folder!r} changed since the sync plan")
        pending: list[int] = []
        async for uids in self._search_windows(folder, max(first_uid, 1), uidnext):
            pending.extend(uids)
            while len(pending) >= batch_size:
                batch, pending = pending[:batch_size], pending[batch_size:]
                yield await self._fetch_batch(folder, expected, batch)
        if pending:
            yield await self._fetch_batch(folder, expected, pending)

    async def append(self, folder: str, raw: bytes, flags: str = "(\\Seen)") -> None:
        """Store a message in `folder` (e.g. a copy of sent mail in the Sent folder)."""
        imap = self._session()
        response = await self._command(imap.append, raw, _quoted(folder), flags or None)
        self._check(response, f"APPEND to {folder!r}")

    async def idle_or_wait(
        self, folder: str, seconds: float, interrupt: asyncio.Event | None = None
    ) -> bool:
        """Return when `folder` changes (IMAP IDLE), after `seconds` or when `interrupt`
        is set, whichever is first; True at once when it changed since the last STATUS or
        IDLE of this session."""
        if "IDLE" not in self._capabilities:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await (interrupt or asyncio.Event()).wait()
            return False
        seen = await self._examine(folder)
        before, self._last_seen[folder] = self._last_seen.get(folder), seen
        if before is not None and before != seen:
            return True
        imap = self._session()
        response = await self._run(imap.idle_until_news, seconds, self._account.timeout, interrupt)
        self._check(response, f"IDLE in {folder!r}")
        return False

    # -- internals -----------------------------------------------------------------

    def _session(self) -> ImapProtocol:
        if self._imap is None:
            raise ImapError("the IMAP session is not open (use `async with ImapSession(...)`)")
        return self._imap

    async def _command(self, command: Callable[..., Awaitable[T]], *args: Any) -> T:
        """One command, ended (and the connection closed) when the server stays silent
        for the account's timeout: a dead server cannot hold a task forever."""
        imap = self._session()
        return await self._run(imap.answered_within, self._account.timeout, command(*args))

    async def _run(self, command: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run one protocol step, with errors in this module's terms."""
        async with self._lock:
            try:
                return await command(*args)
            except ImapError:
                raise
            except DestinationRefused as refused:
                raise ImapUnavailable(f"not connecting to {self._where()}: {refused}") from None
            except (ServerGone, OSError, TimeoutError) as err:
                self._selected = None
                if self._imap is not None:
                    self._imap.abort()
                reason = self._scrub(_reason(err))
                raise ImapUnavailable(f"cannot reach {self._where()}: {reason}") from None
            except (ProtocolError, ValueError) as err:
                raise ImapError(self._scrub(f"IMAP command failed: {err}")) from None

    async def _connect(self) -> ImapProtocol:
        account = self._account
        sock = await open_checked(account.destinations, account.host, account.port, account.timeout)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(account.timeout):
                _, imap = await loop.create_connection(
                    lambda: ImapProtocol(loop),
                    sock=sock,
                    ssl=verifying_tls_context() if account.security == "tls" else None,
                    server_hostname=account.host if account.security == "tls" else None,
                    ssl_handshake_timeout=account.timeout if account.security == "tls" else None,
                )
                try:
                    await imap.greeted()
                    if account.security == "starttls":
                        await imap.starttls(verifying_tls_context(), account.host, account.timeout)
                except BaseException:
                    imap.abort()
                    raise
        except BaseException:
            sock.close()
            raise
        return imap

    async def _authenticate(self) -> None:
        imap, account = self._session(), self._account
        timeout = account.timeout
        if account.oauth2_token is not None:
            blob = f"user={account.username}\x01auth=Bearer {account.oauth2_token}\x01\x01"
            response = await imap.answered_within(
                timeout, imap.authenticate("XOAUTH2", _xoauth2(blob.encode()))
            )
        elif "LOGINDISABLED" in imap.capabilities:
            raise ImapError(
                f"{self._where()} accepts no password before TLS: "
                "connect with security 'tls' or 'starttls'"
            )
        else:
            response = await imap.answered_within(
                timeout, imap.login(account.username, account.password or "")
            )
        if response.result != "OK":
            reason = self._scrub(_said(response))
            raise ImapAuthFailed(f"authentication failed for {account.username}: {reason}")
        capability = await imap.answered_within(timeout, imap.capability())
        self._check(capability, "CAPABILITY")
        self._capabilities = frozenset(word.upper() for word in imap.capabilities)

    async def _examine(self, folder: str) -> tuple[int, int | None]:
        """Open `folder` read-only; its UIDVALIDITY and UIDNEXT (None if not announced)."""
        imap = self._session()
        self._selected = None
        response = await self._command(imap.examine, _quoted(folder))
        self._check(response, f"EXAMINE of {folder!r}")
        codes: dict[bytes, int] = {}
        for line in untagged_lines(response):
            if isinstance(line, bytes) and (found := _RESPONSE_CODE.match(line)):
                codes[found[1]] = int(found[2])
        if b"UIDVALIDITY" not in codes:
            raise ImapError(f"EXAMINE of {folder!r} did not give its UIDVALIDITY")
        self._selected = folder
        return codes[b"UIDVALIDITY"], codes.get(b"UIDNEXT")

    async def _search_windows(
        self, folder: str, first_uid: int, uidnext: int | None
    ) -> AsyncIterator[list[int]]:
        imap = self._session()
        if uidnext is None:
            ranges: Iterable[str] = [f"{first_uid}:*"]
        else:
            ranges = (
                f"{start}:{min(start + _SEARCH_WINDOW, uidnext) - 1}"
                for start in range(first_uid, uidnext, _SEARCH_WINDOW)
            )
        for uid_range in ranges:
            response = await self._command(imap.uid_search, uid_range)
            self._check(response, f"UID SEARCH in {folder!r}")
            found = b" ".join(bytes(line) for line in untagged_lines(response)).split()
            # "n:*" also matches the newest message when n is above every UID.
            yield sorted(uid for uid in map(int, found) if uid >= first_uid)

    async def _fetch_batch(
        self, folder: str, uidvalidity: int, uids: list[int]
    ) -> list[FetchedMessage]:
        if self._selected != folder:  # the caller used the session for another folder
            current, _ = await self._examine(folder)
            if current != uidvalidity:
                raise UidValidityChanged(f"UIDVALIDITY of {folder!r} changed during the sync")
        imap = self._session()
        response = await self._command(imap.uid_fetch, _sequence_set(uids), "(UID BODY.PEEK[])")
        self._check(response, f"UID FETCH in {folder!r}")
        wanted = set(uids)
        fetched = _parse_fetch(untagged_lines(response))
        messages = {m.uid: m for m in fetched if m.uid in wanted}
        return [messages[uid] for uid in sorted(messages)]

    def _check(self, response: Any, what: str) -> None:
        if response.result != "OK":
            refused = f"{what} failed: {response.result} {_said(response)}".strip()
            raise ImapError(self._scrub(refused))

    async def _logout_quietly(self, imap: ImapProtocol) -> None:
        try:
            await imap.answered_within(self._account.timeout, imap.logout())
        except (ServerGone, ProtocolError, OSError, TimeoutError):
            pass
        finally:
            imap.abort()

    def _where(self) -> str:
        return f"{self._account.host}:{self._account.port}"


def _xoauth2(blob: bytes) -> Callable[[bytes], bytes]:
    """The XOAUTH2 client: the credentials once, then an empty answer to the error
    challenge a server sends before it says NO."""
    sent = False

    def answer(_challenge: bytes) -> bytes:
        nonlocal sent
        if sent:
            return b""
        sent = True
        return base64.b64encode(blob)

    return answer


def _parse_list(lines: Sequence[bytes]) -> Iterable[tuple[str, tuple[str, ...]] | None]:
    """LIST answers: a line each, or a line ending in {n} and the name as a literal."""
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else None
        if _LITERAL_LENGTH.search(line) and isinstance(following, bytearray):
            yield _list_entry(_LITERAL_LENGTH.sub(b"", line), bytes(following), quoted=False)
            index += 2
        else:
            if not isinstance(line, bytearray):
                yield _list_entry(line, None, quoted=True)
            index += 1


def _list_entry(
    line: bytes, literal_name: bytes | None, *, quoted: bool
) -> tuple[str, tuple[str, ...]] | None:
    match = _LIST_LINE.match(line.strip())
    if match is None:
        return None
    flags = tuple(match["flags"].decode("ascii", "replace").split())
    if literal_name is not None:
        name = literal_name
    else:
        name = _unquote(match["name"].strip()) if quoted else match["name"].strip()
    return _decode_folder(name.decode("ascii", "replace")), flags


def _parse_fetch(lines: Sequence[bytes]) -> Iterable[FetchedMessage]:
    """FETCH answers as the protocol keeps them: the "n FETCH (... BODY[] {size}" line,
    the body (a bytearray), then the rest of the item, which may still carry the UID
    when the server sent it after the body."""
    uid: int | None = None
    body: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            body = bytes(line)
            continue
        if _FETCH_START.match(line):
            if uid is not None and body is not None:
                yield FetchedMessage(uid=uid, raw=body)
            found = _UID.search(line)
            uid, body = (int(found[1]) if found else None), None
        elif uid is None and (found := _UID.search(line)):
            uid = int(found[1])
    if uid is not None and body is not None:
        yield FetchedMessage(uid=uid, raw=body)


def _sequence_set(uids: list[int]) -> str:
    """1,2,3,7,9,10 -> "1:3,7,9:10": short commands however long the batch."""
    ranges: list[str] = []
    ordered = sorted(set(uids))
    start = previous = ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == previous + 1:
            previous = uid
            continue
        ranges.append(str(start) if start == previous else f"{start}:{previous}")
        if uid is not None:
            start = previous = uid
    return ",".join(ranges)


def _encode_folder(name: str) -> str:
    """Unicode -> IMAP modified UTF-7: "Müller & Co" -> "M&APw-ller &- Co"."""
    out: list[str] = []
    wide: list[str] = []

    def flush() -> None:
        if wide:
            encoded = base64.b64encode("".join(wide).encode("utf-16-be")).rstrip(b"=")
            out.append("&" + encoded.replace(b"/", b",").decode("ascii") + "-")
            wide.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            wide.append(char)
    flush()
    return "".join(out)


def _decode_folder(name: str) -> str:
    def wide(match: re.Match[str]) -> str:
        chunk = match[1]
        if not chunk:
            return "&"
        padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
        return base64.b64decode(padded).decode("utf-16-be")

    try:
        return re.sub(r"&([^-]*)-", wide, name)
    except ValueError:  # not modified UTF-7 after all: keep the server's bytes
        return name


def _quoted(folder: str) -> str:
    wire = _encode_folder(folder)
    return '"' + wire.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(text: bytes) -> bytes:
    if len(text) >= 2 and text[:1] == b'"' and text[-1:] == b'"':
        return re.sub(rb"\\(.)", rb"\1", text[1:-1])
    return text


def _said(response: Any) -> str:
    """The server's words in a refusal (its tagged status line)."""
    return tagged_text(response).decode("utf-8", "replace")


def _reason(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "timed out"
    return str(err) or type(err).__name__
