"""What the content store keeps of a message: its bodies and its attachments' bytes.

Parsing keeps only attachment metadata (what travels in events); the bytes are read here,
only for messages that have attachments, and only to be stored encrypted.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import Message

from commsintel.ingest.domain.parsing import ParsedMessage


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class MessageContent:
    text_body: str
    html_body: str
    attachments: tuple[Attachment, ...]


def message_content(raw: bytes, parsed: ParsedMessage) -> MessageContent:
    attachments = _attachments(raw) if parsed.attachments else ()
    if len(attachments) == len(parsed.attachments):
        # Parsing's names are decoded (RFC 2047/2231); keep them with the bytes.
        attachments = tuple(
            Attachment(meta.filename, meta.content_type, found.payload)
            for meta, found in zip(parsed.attachments, attachments, strict=True)
        )
    return MessageContent(parsed.text_body or "", parsed.html_body or "", attachments)


def _attachments(raw: bytes) -> tuple[Attachment, ...]:
    """Every leaf that is not the first plain or HTML body, in document order, the way
    parsing counts attachments. Iterative, like parsing: hostile mail nests deep."""
    found: list[Attachment] = []
    pending: list[Message] = [email.message_from_bytes(raw)]
    while pending:
        part = pending.pop()
        content_type = part.get_content_type()
        if content_type.startswith("multipart/"):
            children = part.get_payload() if part.is_multipart() else []
            pending.extend(reversed([c for c in children if isinstance(c, Message)]))
            continue
        filename = _filename(part)
        is_body = (
            content_type in ("text/plain", "text/html")
            and filename is None
            and part.get_content_disposition() != "attachment"
        )
        if is_body:
            continue
        found.append(Attachment(filename or "", content_type, _payload(part)))
    return tuple(found)


def _filename(part: Message) -> str | None:
    try:
        filename = part.get_filename()
    except (ValueError, LookupError, UnicodeError):
        return ""
    return None if filename is None else " ".join(str(filename).split())


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    inner = part.get_payload()
    if isinstance(inner, list):  # an attached message
        try:
            return b"".join(item.as_bytes() for item in inner if isinstance(item, Message))
        except (ValueError, LookupError, UnicodeError, TypeError, RecursionError):
            return b""
    return b""
