from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from commsintel.access.domain.visibility import (
    Level,
    Participant,
    Sighting,
    StoredMessage,
    effective_level,
    view_for,
)

MEMBERS = ["alice", "bob", "carol", "dave"]
SUBJECT = "Renewal pricing"


def _message(*sightings: Sighting) -> StoredMessage:
    return StoredMessage(
        message_key="m1",
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
        subject=SUBJECT,
        participants=(Participant("from", "alice@ours.com", "Alice"),),
        sightings=sightings,
    )


def test_other_members_see_participants_and_time_but_not_the_subject_by_default() -> None:
    view = view_for("bob", _message(Sighting("mb-alice", "alice", Level.METADATA)))
    assert view is not None
    assert view.level is Level.METADATA
    assert view.subject is None
    assert view.participants and view.can_request_access


def test_the_owner_always_sees_their_own_mail_in_full() -> None:
    view = view_for("alice", _message(Sighting("mb-alice", "alice", Level.METADATA)))
    assert view.level is Level.FULL and view.subject == SUBJECT
    assert not view.can_request_access


def test_a_message_in_two_mailboxes_gets_the_highest_level_either_gives() -> None:
    message = _message(
        Sighting("mb-alice", "alice", Level.METADATA), Sighting("mb-bob", "bob", Level.SUBJECT)
    )
    assert view_for("carol", message).subject == SUBJECT
    assert view_for("bob", message).level is Level.FULL


def test_no_sighting_means_nothing_to_see() -> None:
    assert view_for("alice", _message()) is None


def _reference_level(viewer: str, sightings: list[Sighting]) -> Level:
    """The rule written the other way round: start from nothing, each mailbox may raise."""
    levels = [Level.NONE]
    levels += [Level.FULL for s in sightings if s.owner_member_id == viewer]
    levels += [s.sharing_level for s in sightings]
    return max(levels)


sightings = st.lists(
    st.builds(
        Sighting,
        mailbox_id=st.sampled_from(["m1", "m2", "m3"]),
        owner_member_id=st.sampled_from(MEMBERS),
        sharing_level=st.sampled_from([Level.NONE, Level.METADATA, Level.SUBJECT]),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(viewer=st.sampled_from(MEMBERS), found=sightings)
def test_no_view_ever_shows_more_than_the_rules_allow(viewer, found) -> None:
    expected = _reference_level(viewer, found)
    assert effective_level(viewer, found) is expected
    view = view_for(viewer, _message(*found))
    if expected is Level.NONE:
        assert view is None
        return
    assert view.level is expected
    assert (view.subject is not None) == (expected >= Level.SUBJECT)
