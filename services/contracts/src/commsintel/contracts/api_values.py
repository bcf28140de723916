"""Request and response values every gRPC API shares: page sizes, opaque page tokens
(a forged one is INVALID_ARGUMENT, never a crash), and timestamps."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from commsintel.contracts.errors import InvalidArgument

_BAD_TOKEN = "page_token is not one this API returned"


def page_size(requested: int, *, default: int, maximum: int) -> int:
    if not 0 <= requested <= maximum:
        raise InvalidArgument(f"page_size must be between 1 and {maximum} (0 means {default})")
    return requested or default


def encode_page_token(cursor: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, sort_keys=True).encode()).decode()


def decode_page_token(token: str) -> dict:
    """The cursor a page token holds; an empty token is the first page ({})."""
    if not token:
        return {}
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidArgument(_BAD_TOKEN) from error
    if not isinstance(cursor, dict):
        raise InvalidArgument(_BAD_TOKEN)
    return cursor


def cursor_field(cursor: dict, name: str, kind: type):
    """One field of a decoded cursor, checked: a token naming something else is refused."""
    value = cursor.get(name)
    if not isinstance(value, kind):
        raise InvalidArgument(_BAD_TOKEN)
    return value


def timestamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when.astimezone(UTC))
    return stamp


def next_page_token(items: list, size: int, cursor_of) -> str:
    """Callers ask the store for `size + 1` items: an extra one means another page, which
    continues after the last item shown."""
    return encode_page_token(cursor_of(items[size - 1])) if len(items) > size else ""
