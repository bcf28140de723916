"""Raw RFC 5322 bytes -> a ParsedMessage: participants, threading, automation markers.

Pure: no I/O, no clock, no randomness. Any input bytes either parse or raise
MalformedMessage, so poison mail goes to quarantine instead of stopping a sync.

Parsing uses the stdlib's compat32 policy (`email.message_from_bytes` default): the
modern `policy.default` is about 14x slower on this workload (DESIGN.md section 5).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from functools import lru_cache
from typing import Any

ROLES = ("from", "sender", "reply_to", "to", "cc", "bcc")
_ROLE_HEADERS = tuple((role, role.replace("_", "-")) for role in ROLES)
_READ_HEADERS = frozenset(
    {
        *(role.replace("_", "-") for role in ROLES),
        "subject",
        "date",
        "received",
        "message-id",
        "in-reply-to",
        "references",
        "list-id",
        "list-unsubscribe",
        "precedence",
        "auto-submitted",
    }
)
_Headers = dict[str, list[str | Header]]

# From local parts (compared without '-', '_', '.') that mark machine-sent mail, and
# the name each is reported under in automated_reasons.
_ROLE_SENDERS = {
    "noreply": "noreply",
    "donotreply": "donotreply",
    "mailerdaemon": "mailer-daemon",
    "postmaster": "postmaster",
    "notification": "notifications",
    "notifications": "notifications",
    "bounce": "bounce",
    "bounces": "bounce",
}
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})

_FOLD = re.compile(r"\r?\n[ \t]")
_LINE_BREAK = re.compile(r"[\r\n]+")
_WHITESPACE = re.compile(r"\s+")
_BRACKETED_ID = re.compile(r"<([^<>]*)>")
_ROLE_SEPARATORS = re.compile(r"[-_.]")
_ROLE_PREFIX = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)[-_.]")
_DATE_ERRORS = (ValueError, TypeError, OverflowError, IndexError)
# What the stdlib raises on MIME parameters it cannot read: a NUL or an unknown name in an
# RFC 2231 charset, or numbered and unnumbered sections of one parameter (TypeError).
_UNREADABLE_PARAMETER = (ValueError, LookupError, UnicodeError, TypeError)
# Address fields up to this length are remembered (a mailbox repeats the same From and
# To lines); longer ones are parsed every time, so hostile mail cannot fill memory.
_REMEMBERED_FIELD_LENGTH = 2000
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True, slots=True)
class Participant:
    role: str
    address: str
    display_name: str


@dataclass(frozen=True, slots=True)
class AttachmentMeta:
    filename: str
    content_type: str
    size: int  # decoded payload size in bytes


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    message_id: str
    content_hash: str
    subject: str
    sent_at: datetime
    participants: tuple[Participant, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    thread_id: str
    direction: str
    automated_reasons: tuple[str, ...]
    list_id: str | None
    attachments: tuple[AttachmentMeta, ...]
    text_body: str | None
    html_body: str | None

    @property
    def automated(self) -> bool:
        return bool(self.automated_reasons)

    def addresses(self, *roles: str) -> tuple[str, ...]:
        """Distinct addresses in participant order, for `roles` (every role if none)."""
        wanted = roles or ROLES
        found = (p.address for p in self.participants if p.role in wanted)
        return tuple(dict.fromkeys(found))


class MalformedMessage(ValueError):
    """The raw bytes are not a message we can use; `reason` says why (human readable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_message(
    raw: bytes,
    *,
    owner_addresses: frozenset[str],
    fallback_time: datetime | None = None,
) -> ParsedMessage:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedMessage(f"expected message bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if not raw or raw.isspace():
        raise MalformedMessage("empty message")
    content_hash = hashlib.sha256(raw).hexdigest()
    try:
        msg = message_from_bytes(raw)
    except RecursionError as error:  # the stdlib parser recurses once per nested part
        raise MalformedMessage("MIME parts nested too deeply") from error
    except TypeError as error:  # a boundary given in contradicting RFC 2231 sections
        raise MalformedMessage("unreadable multipart boundary") from error

    headers = _top_headers(msg)
    participants = _participants(headers)
    sender = next((p.address for p in participants if p.role == "from"), None)
    if sender is None:
        raise MalformedMessage("no From address")
    sent_at = _sent_at(headers, fallback_time)

    message_id = _message_id(_header(headers, "message-id")) or f"hash:{content_hash[:32]}"
    in_reply_to = next(iter(_message_ids(_header(headers, "in-reply-to"))), None)
    references = tuple(dict.fromkeys(_message_ids(" ".join(_headers(headers, "references")))))
    attachments, text_body, html_body = _contents(msg)
    return ParsedMessage(
        message_id=message_id,
        content_hash=content_hash,
        subject=_decoded(_header(headers, "subject")).strip(),
        sent_at=sent_at,
        participants=participants,
        in_reply_to=in_reply_to,
        references=references,
        thread_id=references[0] if references else in_reply_to or message_id,
        direction="sent" if sender in _normalized_owners(owner_addresses) else "received",
        automated_reasons=_automated_reasons(headers, sender),
        list_id=_list_id(headers),
        attachments=attachments,
        text_body=text_body,
        html_body=html_body,
    )


@lru_cache(maxsize=8192)  # a mailbox repeats the same few hundred addresses
def _normalized_address(address: str) -> str:
    """Stripped, lowercased, no angle brackets, IDNA domain labels as unicode."""
    address = address.strip().strip("<>").strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    labels = (_unicode_label(label) for label in domain.split("."))
    return f"{local}@{'.'.join(labels)}"


def _unicode_label(label: str) -> str:
    # Plain punycode rather than the stdlib "idna" codec: that one is IDNA 2003 and
    # rejects IDNA 2008 names such as xn--strae-oqa (straße).
    if not label.startswith("xn--"):
        return label
    try:
        return label[4:].encode("ascii").decode("punycode").lower() or label
    except UnicodeError:
        return label  # not valid punycode: keep what the sender wrote


@lru_cache(maxsize=256)
def _normalized_owners(owner_addresses: frozenset[str]) -> frozenset[str]:
    return frozenset(_normalized_address(address) for address in owner_addresses)


# --- headers -----------------------------------------------------------------


def _top_headers(msg: Message) -> _Headers:
    """The message's headers that parsing reads, by lowercase name, in one pass
    (Message.get_all scans every header on each call)."""
    headers: _Headers = {}
    fetch = msg.policy.header_fetch_parse  # what Message.items() applies to every header
    for name, value in msg.raw_items():
        key = name.lower()
        if key in _READ_HEADERS:
            headers.setdefault(key, []).append(fetch(name, value))
    return headers


def _header(headers: _Headers, name: str) -> str:
    values = headers.get(name)
    return _header_text(values[0]) if values else ""


def _headers(headers: _Headers, name: str) -> list[str]:
    return [_header_text(value) for value in headers.get(name, ())]


def _header_text(value: str | Header) -> str:
    """The header as text, unfolded. compat32 hands back raw 8-bit headers as Header
    objects; those bytes are nearly always UTF-8, else Windows-1252."""
    if isinstance(value, Header):
        value = "".join(
            _decoded_8bit(chunk) if isinstance(chunk, bytes) else chunk
            for chunk, _charset in decode_header(value)
        )
    value = str(value)
    return _FOLD.sub(" ", value) if "\n" in value else value


def _decoded_8bit(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _decoded(value: str) -> str:
    """RFC 2047 encoded words decoded; unknown charsets and bad encodings tolerated."""
    if "=?" not in value:
        return _LINE_BREAK.sub("", value)
    try:
        chunks = decode_header(_LINE_BREAK.sub("", value))
    except (HeaderParseError, ValueError, LookupError):
        return _LINE_BREAK.sub("", value)
    # Plain concatenation is right here: decode_header already dropped the whitespace
    # between adjacent encoded words and kept the spaces around plain words.
    # (make_header is not used: it raises on unknown charsets.)
    return "".join(_decoded_chunk(chunk, charset) for chunk, charset in chunks)


def _decoded_chunk(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    if charset is None:
        # decode_header turned the plain text into bytes with raw-unicode-escape.
        try:
            return chunk.decode("raw-unicode-escape")
        except UnicodeDecodeError:
            return chunk.decode("latin-1")
    return _decoded_text(chunk, charset.partition("*")[0])  # RFC 2231 language suffix


def _decoded_text(payload: bytes, charset: str | None) -> str:
    try:
        return payload.decode(charset or "utf-8", errors="replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return payload.decode("utf-8", errors="replace")


# --- participants --------------------------------------------------------------


def _participants(headers: _Headers) -> tuple[Participant, ...]:
    found: dict[tuple[str, str], Participant] = {}
    for role, header in _ROLE_HEADERS:
        values = _headers(headers, header)
        if not values:
            continue
        # getaddresses joins the fields with ", " itself: the joined text decides it all.
        field = ", ".join(values)
        if len(field) <= _REMEMBERED_FIELD_LENGTH:
            mailboxes = _remembered_mailboxes(field)
        else:
            mailboxes = _mailboxes(field)
        for address, display_name in mailboxes:
            if (role, address) not in found:
                found[role, address] = Participant(role, address, display_name)
    return tuple(found.values())


@lru_cache(maxsize=4096)
def _remembered_mailboxes(field: str) -> tuple[tuple[str, str], ...]:
    return _mailboxes(field)


def _mailboxes(field: str) -> tuple[tuple[str, str], ...]:
    """(normalized address, display name) for each usable address in an address field."""
    mailboxes = []
    for name, address in getaddresses([field]):
        normalized = _normalized_address(address)
        local, _at, domain = normalized.rpartition("@")
        if local and domain:
            mailboxes.append((normalized, _display_name(name)))
    return tuple(mailboxes)


def _display_name(name: str) -> str:
    name = _WHITESPACE.sub(" ", _decoded(name)).strip()
    while len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1].strip()
    return name


# --- dates ---------------------------------------------------------------------


def _sent_at(headers: _Headers, fallback_time: datetime | None) -> datetime:
    sent_at = _date(_header(headers, "date"))
    if sent_at is None:
        received = (_date(value.rpartition(";")[2]) for value in _headers(headers, "received"))
        sent_at = max((when for when in received if when is not None), default=None)
    if sent_at is None and fallback_time is not None:
        sent_at = _utc(fallback_time)
    if sent_at is None:
        raise MalformedMessage("no usable date: no valid Date or Received header")
    return sent_at


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return _utc(parsedate_to_datetime(value))
    except _DATE_ERRORS:
        return None


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


# --- threading and automation markers ----------------------------------------------


def _message_id(value: str) -> str:
    ids = _message_ids(value)
    return ids[0] if ids else _WHITESPACE.sub("", value).strip("<>")


def _message_ids(value: str) -> list[str]:
    """Ids in angle brackets; failing those, bare tokens that look like ids (a@b).
    In-Reply-To often carries prose ("Your message of ...") around the id."""
    bracketed = _BRACKETED_ID.findall(value)
    ids = bracketed if bracketed else [token for token in value.split() if "@" in token]
    return [cleaned for cleaned in (_WHITESPACE.sub("", i) for i in ids) if cleaned]


def _list_id(headers: _Headers) -> str | None:
    value = _decoded(_header(headers, "list-id")).strip()
    if not value:
        return None
    bracketed = _BRACKETED_ID.findall(value)
    return (bracketed[-1].strip() if bracketed else value).lower() or None


def _automated_reasons(headers: _Headers, sender: str) -> tuple[str, ...]:
    reasons = []
    if _header(headers, "list-id").strip():
        reasons.append("list-id")
    if _header(headers, "list-unsubscribe").strip():
        reasons.append("list-unsubscribe")
    precedence = _header(headers, "precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        reasons.append(f"precedence:{precedence}")
    auto_submitted = _header(headers, "auto-submitted").partition(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        reasons.append(f"auto-submitted:{auto_submitted}")
    role = _role_sender(sender)
    if role:
        reasons.append(f"role-sender:{role}")
    return tuple(reasons)


def _role_sender(address: str) -> str | None:
    local = address.rpartition("@")[0].partition("+")[0]
    role = _ROLE_SENDERS.get(_ROLE_SEPARATORS.sub("", local))
    if role is None and (prefix := _ROLE_PREFIX.match(local)):
        role = _ROLE_SENDERS[_ROLE_SEPARATORS.sub("", prefix.group(1))]
    return role


# --- bodies and attachments ----------------------------------------------------------


def _contents(
    msg: Message,
) -> tuple[tuple[AttachmentMeta, ...], str | None, str | None]:
    """One pass over the leaf parts: attachments' metadata, first plain and html body."""
    attachments: list[AttachmentMeta] = []
    text_body: str | None = None
    html_body: str | None = None
    for part, content_type in _leaf_parts(msg):
        # Content-Type's parameters are read once and serve both the name and the charset.
        type_parameters = _parameters(part, "content-type")
        filename = _filename(part, type_parameters)
        is_body = (
            content_type in ("text/plain", "text/html")
            and filename is None
            and part.get_content_disposition() != "attachment"
        )
        if not is_body:
            attachments.append(AttachmentMeta(filename or "", content_type, _size(part)))
        elif content_type == "text/plain" and text_body is None:
            text_body = _body_text(part, type_parameters)
        elif content_type == "text/html" and html_body is None:
            html_body = _body_text(part, type_parameters)
    return tuple(attachments), text_body, html_body


def _leaf_parts(msg: Message) -> Iterator[tuple[Message, str]]:
    """Leaves of the MIME tree in document order, with their content type; an attached
    message (message/*) is one leaf. Iterative: hostile mail nests parts hundreds deep."""
    pending = [msg]
    while pending:
        part = pending.pop()
        content_type = part.get_content_type()
        if not content_type.startswith("multipart/"):
            yield part, content_type
        elif part.is_multipart():
            children = part.get_payload()
            pending.extend(reversed([child for child in children if isinstance(child, Message)]))
        # else: a multipart whose boundary was never found: neither body nor attachment


# --- MIME parameters, read as Message.get_filename and get_content_charset read them ------

_Parameters = list[tuple[str, Any]] | None


class _Unreadable:
    """Parameters the stdlib raised on: no name and no charset come from them."""


_UNREADABLE = _Unreadable()
_ABSENT = object()


def _parameters(part: Message, header: str) -> _Parameters | _Unreadable:
    """The header's parameters, unquoted; None when the part has no such header."""
    try:
        return part.get_params(None, header)
    except _UNREADABLE_PARAMETER:
        return _UNREADABLE


def _parameter(parameters: _Parameters | _Unreadable, name: str) -> Any:
    if isinstance(parameters, list):
        for key, value in parameters:
            if key.lower() == name:
                return value
    return _ABSENT


def _filename(part: Message, type_parameters: _Parameters | _Unreadable) -> str | None:
    """Content-Disposition's filename, else Content-Type's name; "" when unreadable."""
    disposition = _parameters(part, "content-disposition")
    if disposition is _UNREADABLE:
        return ""
    filename = _parameter(disposition, "filename")
    if filename is _ABSENT:
        if type_parameters is _UNREADABLE:
            return ""
        filename = _parameter(type_parameters, "name")
    if filename is _ABSENT:
        return None
    try:
        filename = collapse_rfc2231_value(filename).strip()
    except _UNREADABLE_PARAMETER:  # e.g. a NUL in an RFC 2231 charset
        return ""
    return _WHITESPACE.sub(" ", _decoded(_header_text(filename))).strip()


def _charset(type_parameters: _Parameters | _Unreadable) -> str | None:
    """Message.get_content_charset on parameters already read."""
    charset = _parameter(type_parameters, "charset")
    if charset is _ABSENT:
        return None
    try:
        if isinstance(charset, tuple):  # RFC 2231: (charset, language, encoded value)
            try:
                charset = str(charset[2].encode("raw-unicode-escape"), charset[0] or "us-ascii")
            except (LookupError, UnicodeError):
                charset = charset[2]
        charset.encode("us-ascii")
    except _UNREADABLE_PARAMETER:
        return None
    return str(charset).lower()


# --- payloads --------------------------------------------------------------------------


def _size(part: Message) -> int:
    if not part.is_multipart() and _transfer_encoding(part) == "base64":
        payload = part.get_payload()
        size = _base64_size(payload) if isinstance(payload, str) else None
        if size is not None:
            return size
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return len(payload)
    # An attached message: its parsed payload is a list of messages.
    inner = part.get_payload()
    if isinstance(inner, list):
        return sum(_serialized_size(item) for item in inner if isinstance(item, Message))
    return 0


def _transfer_encoding(part: Message) -> str:
    return str(part.get("content-transfer-encoding", "")).lower()  # as get_payload reads it


def _base64_size(encoded: str) -> int | None:
    """What base64-decoding `encoded` would give, in bytes, without decoding it: every 4
    characters are 3 bytes and padding ends the data. None unless the text is plain
    base64 in lines (decoding then decides what the damaged rest is worth)."""
    if not encoded.isascii():
        return None
    data = encoded.encode("ascii").translate(None, b"\r\n")  # get_payload drops line breaks
    characters = data.rstrip(b"=")
    padding, remainder = len(data) - len(characters), len(characters) % 4
    if characters.translate(None, _BASE64_ALPHABET):
        return None
    # Unpadded data is padded before decoding, except a lone character, which decodes to
    # nothing usable; padding must complete the last group of four.
    if (padding == 0 and remainder != 1) or (padding in (1, 2) and remainder + padding == 4):
        return len(characters) * 3 // 4
    return None


def _serialized_size(msg: Message) -> int:
    try:
        return len(msg.as_bytes())
    except (ValueError, LookupError, UnicodeError, TypeError, RecursionError):
        return 0  # size unknown rather than the whole message lost


def _body_text(part: Message, type_parameters: _Parameters | _Unreadable) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decoded_text(payload, _charset(type_parameters))
