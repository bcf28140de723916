"""A member's IMAP mailbox, read without changing it: folders, their status, new messages.

imaplib is blocking, so every command runs in a worker thread (`asyncio.to_thread`),
one at a time per session. Folders are opened with EXAMINE and bodies fetched with
BODY.PEEK[], so syncing never marks anything read. Folder names are Unicode here and
modified UTF-7 (RFC 3501 5.1.3), always quoted, on the wire.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import re
import select
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from commsintel.contracts.metrics import INSTRUMENTS
from commsintel.ingest.adapters.destinations import PUBLIC_ONLY, connect_checked
from commsintel.ingest.domain.destinations import DestinationPolicy, DestinationRefused
from commsintel.ingest.domain.folder_sync import FolderStatus
from commsintel.ingest.domain.secret_forms import SecretScrub

T = TypeVar("T")

# UID SEARCH answers on one line, and imaplib refuses lines over 1 MB: search a huge
# folder in UID windows so its answer stays far below that.
_SEARCH_WINDOW = 20_000
_UID = re.compile(rb"\bUID (\d+)")
_STATUS_ITEM = re.compile(rb"(UIDVALIDITY|UIDNEXT|MESSAGES|HIGHESTMODSEQ) (\d+)")
_LIST_LINE = re.compile(
    rb'^\((?P<flags>[^)]*)\) (?P<delimiter>"(?:[^"\\]|\\.)*"|NIL) ?(?P<name>.*)$'
)
_LITERAL_LENGTH = re.compile(rb"\{\d+\}$")


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
        self._imap: imaplib.IMAP4 | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._selected: str | None = None
        self._lock = asyncio.Lock()
        self._scrub = SecretScrub.of((account.password, account.oauth2_token), (account.username,))

    async def __aenter__(self) -> ImapSession:
        self._imap = await self._run(self._connect)
        try:
            await self._run(self._authenticate)
        except BaseException:
            imap, self._imap = self._imap, None
            await asyncio.to_thread(_shutdown, imap)
            raise
        INSTRUMENTS.imap_connections.add(1)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        if self._imap is not None:
            imap, self._imap = self._imap, None
            INSTRUMENTS.imap_connections.add(-1)
            # Cancelled (a stop or a removal): the last command may still run in its
            # thread (IDLE waits on the socket), and a LOGOUT behind it would wait for the
            # socket timeout (30 s); closing the socket ends both at once.
            cancelled = exc_type is not None and issubclass(exc_type, asyncio.CancelledError)
            await asyncio.to_thread(_shutdown if cancelled else _logout_quietly, imap)

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    async def folders(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every folder as (name, flags), special-use flags (\\Sent, \\Trash, ...) included."""
        imap = self._session()
        if "SPECIAL-USE" in self._capabilities:
            # The RETURN option (RFC 6154) adds the flags without filtering, where the
            # (SPECIAL-USE) selection option would leave out INBOX and plain folders.
            typ, data = await self._run(imap.list, '""', '"*" RETURN (SPECIAL-USE)')
        else:
            typ, data = await self._run(imap.list, '""', '"*"')
        self._check(typ, data, "LIST")
        return [entry for entry in _parse_list(data) if entry is not None]

    async def status(self, folder: str) -> FolderStatus:
        imap = self._session()
        items = "UIDVALIDITY UIDNEXT MESSAGES"
        if "CONDSTORE" in self._capabilities:
            items += " HIGHESTMODSEQ"
        typ, data = await self._run(imap.status, _quoted(folder), f"({items})")
        self._check(typ, data, f"STATUS of {folder!r}")
        answer = b" ".join(part for part in data if isinstance(part, bytes))
        values = {key.decode(): int(value) for key, value in _STATUS_ITEM.findall(answer)}
        if "UIDVALIDITY" not in values or "UIDNEXT" not in values:
            raise ImapError(f"STATUS of {folder!r} lacks UIDVALIDITY or UIDNEXT")
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
        typ, data = await self._run(imap.append, _quoted(folder), flags, None, raw)
        self._check(typ, data, f"APPEND to {folder!r}")

    async def idle_or_wait(self, folder: str, seconds: float) -> None:
        """Return when `folder` changes (IMAP IDLE) or after `seconds`, whichever is first."""
        if "IDLE" not in self._capabilities:
            await asyncio.sleep(seconds)
            return
        await self._examine(folder)
        await self._run(_idle, self._session(), seconds)

    # -- internals -----------------------------------------------------------------

    def _session(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise ImapError("the IMAP session is not open (use `async with ImapSession(...)`)")
        return self._imap

    async def _run(self, command: Callable[..., T], *args: object) -> T:
        """Run one blocking imaplib call in a thread, with errors in this module's terms."""
        async with self._lock:
            try:
                return await asyncio.to_thread(command, *args)
            except ImapError:
                raise
            except DestinationRefused as refused:
                raise ImapUnavailable(f"not connecting to {self._where()}: {refused}") from None
            except imaplib.IMAP4.readonly as err:
                raise ImapError(f"the server made the folder read-only: {err}") from None
            except (imaplib.IMAP4.abort, OSError, EOFError) as err:
                self._selected = None
                reason = self._scrub(_reason(err))
                raise ImapUnavailable(f"cannot reach {self._where()}: {reason}") from None
            except imaplib.IMAP4.error as err:
                raise ImapError(self._scrub(f"IMAP command failed: {_text(err)}")) from None

    def _connect(self) -> imaplib.IMAP4:
        account = self._account
        context = ssl.create_default_context()
        if account.security == "tls":
            return _CheckedImapSSL(
                account.destinations,
                account.host,
                account.port,
                ssl_context=context,
                timeout=account.timeout,
            )
        imap = _CheckedImap(
            account.destinations, account.host, account.port, timeout=account.timeout
        )
        if account.security == "starttls":
            try:
                imap.starttls(ssl_context=context)
            except BaseException:
                _shutdown(imap)
                raise
        return imap

    def _authenticate(self) -> None:
        imap, account = self._session(), self._account
        try:
            if account.oauth2_token is not None:
                imap.authenticate("XOAUTH2", _xoauth2(account.username, account.oauth2_token))
            elif "LOGINDISABLED" in imap.capabilities:
                raise ImapError(
                    f"{self._where()} accepts no password before TLS: "
                    "connect with security 'tls' or 'starttls'"
                )
            else:
                imap.login(account.username, account.password or "")
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as err:
            reason = self._scrub(_text(err))
            raise ImapAuthFailed(
                f"authentication failed for {account.username}: {reason}"
            ) from None
        typ, data = imap.capability()
        self._check(typ, data, "CAPABILITY")
        words = b" ".join(part for part in data if isinstance(part, bytes)).split()
        self._capabilities = frozenset(word.decode("ascii", "replace").upper() for word in words)

    async def _examine(self, folder: str) -> tuple[int, int | None]:
        """Open `folder` read-only; its UIDVALIDITY and UIDNEXT (None if not announced)."""
        imap = self._session()
        self._selected = None
        typ, data = await self._run(imap.select, _quoted(folder), True)
        self._check(typ, data, f"EXAMINE of {folder!r}")
        _, validity = imap.response("UIDVALIDITY")
        _, uidnext = imap.response("UIDNEXT")
        if not validity or validity[0] is None:
            raise ImapError(f"EXAMINE of {folder!r} did not give its UIDVALIDITY")
        self._selected = folder
        nxt = int(uidnext[-1]) if uidnext and uidnext[-1] is not None else None
        return int(validity[-1]), nxt

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
            typ, data = await self._run(imap.uid, "SEARCH", "UID", uid_range)
            self._check(typ, data, f"UID SEARCH in {folder!r}")
            found = b" ".join(part for part in data if isinstance(part, bytes)).split()
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
        typ, data = await self._run(imap.uid, "FETCH", _sequence_set(uids), "(UID BODY.PEEK[])")
        self._check(typ, data, f"UID FETCH in {folder!r}")
        wanted = set(uids)
        messages = {m.uid: m for m in _parse_fetch(data) if m.uid in wanted}
        return [messages[uid] for uid in sorted(messages)]

    def _check(self, typ: str, data: Sequence[object], what: str) -> None:
        try:
            _check(typ, data, what)
        except ImapError as refused:
            raise ImapError(self._scrub(str(refused))) from None

    def _where(self) -> str:
        return f"{self._account.host}:{self._account.port}"


class _CheckedImap(imaplib.IMAP4):
    """imaplib connecting only where the destination policy allows."""

    def __init__(self, policy: DestinationPolicy, host: str, port: int, timeout: float) -> None:
        self._policy = policy
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return connect_checked(self._policy, self.host, self.port, timeout)


class _CheckedImapSSL(imaplib.IMAP4_SSL):
    def __init__(
        self,
        policy: DestinationPolicy,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext,
        timeout: float,
    ) -> None:
        self._policy = policy
        super().__init__(host, port, ssl_context=ssl_context, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = connect_checked(self._policy, self.host, self.port, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _xoauth2(username: str, token: str) -> Callable[[bytes], bytes]:
    """The XOAUTH2 client: the credentials once, then an empty answer to the error
    challenge a server sends before it says NO."""
    sent = False

    def answer(_challenge: bytes) -> bytes:
        nonlocal sent
        if sent:
            return b""
        sent = True
        return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()

    return answer


def _idle(imap: imaplib.IMAP4, seconds: float) -> None:
    """IDLE (RFC 2177) until the server reports anything or `seconds` pass.

    imaplib (3.11) has no IDLE, so this speaks it on imaplib's own connection; untagged
    data that arrives meanwhile is dropped, the caller only learns that it is time to
    check the folder's status again.
    """
    tag = imap._new_tag()  # type: ignore[attr-defined]
    imap.send(tag + b" IDLE\r\n")
    while True:
        line = imap.readline()
        if not line:
            raise imaplib.IMAP4.abort("connection closed during IDLE")
        if line.startswith(b"+"):
            break
        if line.startswith(tag):
            raise imaplib.IMAP4.error(line.decode("ascii", "replace").strip())
    readable, _, _ = select.select([imap.socket()], [], [], max(seconds, 0.0))
    if readable:
        imap.readline()
    imap.send(b"DONE\r\n")
    while True:
        line = imap.readline()
        if not line:
            raise imaplib.IMAP4.abort("connection closed after IDLE")
        if line.startswith(tag):
            if not line[len(tag) :].lstrip().startswith(b"OK"):
                raise imaplib.IMAP4.error(line.decode("ascii", "replace").strip())
            return


def _parse_list(data: Sequence[object]) -> Iterable[tuple[str, tuple[str, ...]] | None]:
    for item in data:
        if isinstance(item, tuple):  # the name came as a literal: (b'(..) "/" {9}', b'name')
            head, name = item[0], item[1]
            yield _list_entry(_LITERAL_LENGTH.sub(b"", head), name, quoted=False)
        elif isinstance(item, bytes):
            yield _list_entry(item, None, quoted=True)


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


def _parse_fetch(data: Sequence[object]) -> Iterable[FetchedMessage]:
    """FETCH answers as imaplib gives them: (head, body) tuples, each closed by a bytes
    item that may still carry the UID when the server sent it after the body."""
    uid: int | None = None
    body: bytes | None = None
    for item in data:
        if isinstance(item, tuple):
            head, body = item[0], item[1]
            found = _UID.search(head)
            uid = int(found[1]) if found else None
        elif isinstance(item, bytes) and body is not None:
            if uid is None and (found := _UID.search(item)):
                uid = int(found[1])
            if uid is not None:
                yield FetchedMessage(uid=uid, raw=body)
            uid, body = None, None
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


def _check(typ: str, data: Sequence[object], what: str) -> None:
    if typ != "OK":
        detail = b" ".join(part for part in data if isinstance(part, bytes))
        raise ImapError(f"{what} failed: {typ} {detail.decode('utf-8', 'replace')}".strip())


def _reason(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "timed out"
    return _text(err)


def _text(err: BaseException) -> str:
    """imaplib puts the server's bytes in its exceptions: show them as text."""
    parts = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in err.args]
    return " ".join(parts) or type(err).__name__


def _shutdown(imap: imaplib.IMAP4) -> None:
    try:
        imap.shutdown()
    except OSError:
        pass


def _logout_quietly(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (imaplib.IMAP4.error, OSError, EOFError):
        _shutdown(imap)
