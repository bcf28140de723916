"""One check of every gRPC request before any work, driven by the message descriptors:
lengths of ids and strings, counts of repeated fields, enum values, timestamps, and the
size of what could end up in an event. A request that fails is INVALID_ARGUMENT (or
RESOURCE_EXHAUSTED when it is too large as a whole) with a short message that never
echoes the offending value.

Limits go by field name, so a new RPC is covered without code of its own:
- ids and keys (`*_id`, `*_ids`, `*_key`, `*_keys`): at most 256 characters, printable;
- `page_token`: at most MAX_PAGE_TOKEN_CHARS (what api_values accepts);
- bodies and attachment content: at most MAX_BODY_CHARS (they never travel on Kafka);
- credentials, URLs, notes, subjects and any other string: at most MAX_TEXT_CHARS;
- repeated fields: at most MAX_REPEATED items;
- everything but bodies together: at most MAX_EVENT_CHARS, so an event made from a
  request always fits a Kafka record.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from commsintel.contracts.errors import InvalidValue, TooLarge
from commsintel.platform.api_values import MAX_PAGE_TOKEN_CHARS

MAX_ID_CHARS = 256
MAX_TEXT_CHARS = 16_384
MAX_BODY_CHARS = 2_000_000
MAX_REPEATED = 1_000
MAX_EVENT_CHARS = 256 * 1024
# Timestamp seconds Python's datetime can hold: 0001-01-01 to 9999-12-31.
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799

_BODY_FIELDS = frozenset({"text_body", "html_body", "content"})
_ID_SUFFIXES = ("_id", "_ids", "_key", "_keys")
_TIMESTAMP = "google.protobuf.Timestamp"


def check_request(request: Message) -> None:
    """Raises InvalidValue or TooLarge; returns when the request is fit."""
    event_chars = 0
    stack: list[tuple[Message, str]] = [(request, "")]
    while stack:
        message, prefix = stack.pop()
        for field, value in message.ListFields():
            path = f"{prefix}{field.name}"
            values = value if _is_repeated(field) else (value,)
            if _is_repeated(field) and len(values) > MAX_REPEATED:
                raise InvalidValue(f"{path} has more than {MAX_REPEATED} items")
            for item in values:
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    if field.message_type.full_name == _TIMESTAMP:
                        _check_timestamp(item, path)
                    else:
                        stack.append((item, f"{path}."))
                elif field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
                    _check_text(field, item, path)
                    if field.name not in _BODY_FIELDS:
                        event_chars += len(item)
                elif field.type == FieldDescriptor.TYPE_ENUM:
                    if field.enum_type.values_by_number.get(item) is None:
                        raise InvalidValue(f"{path} has an unknown value")
    if event_chars > MAX_EVENT_CHARS:
        raise TooLarge("the request is too large")


def limit_of(field: FieldDescriptor) -> int:
    if field.name in _BODY_FIELDS:
        return MAX_BODY_CHARS
    if field.name == "page_token":
        return MAX_PAGE_TOKEN_CHARS
    if field.name.endswith(_ID_SUFFIXES) or field.name == "idempotency_key":
        return MAX_ID_CHARS
    return MAX_TEXT_CHARS


def message_name(descriptor: Descriptor | None) -> str:
    return descriptor.name if descriptor is not None else "request"


def _check_text(field: FieldDescriptor, value: str | bytes, path: str) -> None:
    limit = limit_of(field)
    if len(value) > limit:
        raise InvalidValue(f"{path} is too long (at most {limit} characters)")
    if limit == MAX_ID_CHARS and isinstance(value, str) and not value.isprintable():
        raise InvalidValue(f"{path} holds characters an id never has")


def _check_timestamp(stamp: Message, path: str) -> None:
    seconds, nanos = stamp.seconds, stamp.nanos  # type: ignore[attr-defined]
    if not (MIN_SECONDS <= seconds <= MAX_SECONDS and 0 <= nanos <= 999_999_999):
        raise InvalidValue(f"{path} is out of range (years 1 to 9999)")


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)
