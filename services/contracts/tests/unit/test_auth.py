from datetime import UTC, datetime, timedelta

import pytest

from commsintel.contracts.auth import Caller, InvalidToken, TokenVerifier, issue_token

KEY = "a-signing-key-that-is-long-enough-for-hs256"


def test_a_remembered_token_still_expires_and_a_forged_one_is_never_taken() -> None:
    now = datetime.now(UTC)
    token = issue_token(KEY, Caller("ws", "alice"), issued_at=now, lifetime=timedelta(hours=1))
    clock = [now.timestamp()]
    verifier = TokenVerifier(KEY, clock=lambda: clock[0])
    assert verifier.verify(token) == Caller("ws", "alice")
    assert verifier.verify(token) == Caller("ws", "alice")  # from memory
    # An hour later the same token is refused, memory or not.
    clock[0] += 3601
    with pytest.raises(InvalidToken):
        verifier.verify(token)
    forged = issue_token(
        "another-key-that-is-long-enough-for-hs256", Caller("ws", "eve"), issued_at=now
    )
    with pytest.raises(InvalidToken):
        verifier.verify(forged)


def test_no_token_is_missing_and_a_malformed_one_says_nothing_of_the_library() -> None:
    verifier = TokenVerifier(KEY)
    with pytest.raises(InvalidToken) as missing:
        verifier.verify("")
    assert str(missing.value) == "missing bearer token"
    for malformed in ("abc", "a.b.c", "x" * 10_000):
        with pytest.raises(InvalidToken) as refused:
            verifier.verify(malformed)
        assert str(refused.value) == "invalid bearer token"


def test_an_operator_token_names_the_operator_not_a_member() -> None:
    from commsintel.contracts.auth import issue_operator_token

    token = issue_operator_token(KEY, "ws", issued_at=datetime.now(UTC))
    assert TokenVerifier(KEY).verify(token) == Caller("ws", "operator", is_operator=True)
    # A member's token whose member happens to be called "operator" is just a member.
    member = issue_token(KEY, Caller("ws", "operator"), issued_at=datetime.now(UTC))
    assert not TokenVerifier(KEY).verify(member).is_operator
