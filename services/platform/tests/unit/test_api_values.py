import base64
from datetime import UTC, datetime

import pytest

from commsintel.contracts.errors import InvalidValue
from commsintel.platform.api_values import (
    cursor_field,
    decode_page_token,
    encode_page_token,
    next_page_token,
    page_size,
    timestamp,
)


def test_a_page_token_gives_back_the_cursor_it_was_made_from() -> None:
    assert decode_page_token(encode_page_token({"after": "r-7", "n": 2})) == {
        "after": "r-7",
        "n": 2,
    }
    assert decode_page_token("") == {}


@pytest.mark.parametrize(
    "token",
    [
        "%%%",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b"\xff").decode(),
    ],
)
def test_a_forged_page_token_is_an_invalid_argument_with_a_message(token) -> None:
    with pytest.raises(InvalidValue, match="page_token"):
        decode_page_token(token)


def test_a_cursor_field_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(InvalidValue, match="page_token"):
        cursor_field({"after": 3}, "after", str)
    assert cursor_field({"after": "x"}, "after", str) == "x"


def test_page_size_defaults_and_bounds() -> None:
    assert page_size(0, default=50, maximum=500) == 50
    assert page_size(500, default=50, maximum=500) == 500
    for bad in (-1, 501):
        with pytest.raises(InvalidValue, match="between 1 and 500"):
            page_size(bad, default=50, maximum=500)


def test_there_is_a_next_page_only_when_the_store_returned_one_more() -> None:
    assert next_page_token([1, 2], 2, lambda i: {"after": i}) == ""
    token = next_page_token([1, 2, 3], 2, lambda i: {"after": i})
    assert decode_page_token(token) == {"after": 2}


def test_timestamps_are_utc() -> None:
    assert timestamp(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)).ToDatetime(UTC) == datetime(
        2026, 1, 2, 3, 4, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "token",
    [
        # Deeply nested JSON (json.loads would recurse until RecursionError).
        base64.urlsafe_b64encode(b'{"after": ' + b"[" * 1400 + b"]" * 1400 + b"}").decode(),
        base64.urlsafe_b64encode(b"[" * 100_000).decode(),
        # Longer than any token this API makes.
        encode_page_token({"after": "x" * 5000}),
        # The right key holding something else than a scalar.
        encode_page_token({"after": {"$gt": ""}}),
    ],
)
def test_a_nested_huge_or_misshapen_page_token_is_a_bad_page_token(token: str) -> None:
    with pytest.raises(InvalidValue, match="bad page_token"):
        cursor_field(decode_page_token(token), "after", str)


def test_a_cursor_number_must_fit_the_store() -> None:
    for value in (2**64, True):
        with pytest.raises(InvalidValue, match="bad page_token"):
            cursor_field(decode_page_token(encode_page_token({"t": value})), "t", int)
    assert cursor_field(decode_page_token(encode_page_token({"t": 2**62})), "t", int) == 2**62
