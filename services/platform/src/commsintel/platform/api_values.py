"""Request and response values every gRPC API shares: page sizes, opaque page tokens
(a forged one is INVALID_ARGUMENT, never a crash), and timestamps."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from commsintel.contracts.errors import InvalidValue

_BAD_TOKEN = "bad page_token: not one this API returned"
# Our tokens are a few ids long; anything longer was not made here.
MAX_PAGE_TOKEN_CHARS = 2048
_INT64 = (-(2**63), 2**63 - 1)


def page_size(requested: int, *, default: int, maximum: int) -> int:
    if not 0 <= requested <= maximum:
        raise InvalidValue(f"page_size must be between 1 and {maximum} (0 means {default})")
    return requested or default


def encode_page_token(cursor: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, sort_keys=True).encode()).decode()


def decode_page_token(token: str) -> dict:
    """The cursor a page token holds; an empty token is the first page ({})."""
    if not token:
        return {}
    if len(token) > MAX_PAGE_TOKEN_CHARS:
        raise InvalidValue(_BAD_TOKEN)
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError, RecursionError) as error:
        # RecursionError: a forged token of deeply nested JSON.
        raise InvalidValue(_BAD_TOKEN) from error
    if not isinstance(cursor, dict) or not all(
        isinstance(value, str | int | float | bool) for value in cursor.values()
    ):
        raise InvalidValue(_BAD_TOKEN)
    return cursor


def cursor_field(cursor: dict, name: str, kind: type):
    """One field of a decoded cursor, checked: a token naming something else is refused."""
    value = cursor.get(name)
    # bool is an int to Python, never to a cursor; an int must fit the store's int64.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidValue(_BAD_TOKEN)
    if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        raise InvalidValue(_BAD_TOKEN)
    return value


def timestamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when.astimezone(UTC))
    return stamp


def next_page_token(items: list, size: int, cursor_of) -> str:
    """Callers ask the store for `size + 1` items: an extra one means another page, which
    continues after the last item shown."""
    return encode_page_token(cursor_of(items[size - 1])) if len(items) > size else ""
