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
