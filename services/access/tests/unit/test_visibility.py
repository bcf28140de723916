"""The sharing rules, one behaviour at a time, on the folded state of a small workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commsintel.access.domain.state import AccessState
from commsintel.access.domain.visibility import Level
from commsintel.contracts.events import (
    AccessRequestDecided,
    AccessRequested,
    CalendarAttendee,
    EventCancelled,
    EventSynced,
    InteractionRecord,
    InteractionResolved,
    MailboxAccessGranted,
    MailboxAccessRevoked,
    MailboxConnected,
    MailboxRemoved,
    MailboxSharingLevelChanged,
    MessageParticipant,
    MessageRetracted,
    MessageSynced,
    PeopleMerged,
    PersonCreated,
    PersonUnmerged,
    RecordEmailsShared,
    RecordEmailsUnshared,
)

WS = "ws"
AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
SUBJECT = "Renewal pricing"
_ids = iter(range(10**6))


def _id() -> str:
    return f"e{next(_ids)}"


def connected(mailbox: str, owner: str) -> MailboxConnected:
    return MailboxConnected(
        event_id=_id(),
        workspace_id=WS,
        mailbox_id=mailbox,
        member_id=owner,
        owner_addresses=(f"{owner}@ours.com",),
        source="archive",
        connected_at=AT,
    )


def synced(mailbox: str, owner: str, key: str = "m1", *, thread: str = "t1", hours: int = 0):
    return MessageSynced(
        event_id=_id(),
        workspace_id=WS,
        mailbox_id=mailbox,
        member_id=owner,
        mailbox_owner_addresses=(f"{owner}@ours.com",),
        message_key=key,
        thread_key=thread,
        subject=SUBJECT,
        sent_at=AT + timedelta(hours=hours),
        direction="sent",
        participants=(
            MessageParticipant(role="from", address=f"{owner}@ours.com", display_name=owner),
            MessageParticipant(role="to", address="bob@acme.com"),
        ),
    )


def resolved(mailbox: str, owner: str, key: str, *records: str, kind: str = "email", hours=0):
    return InteractionResolved(
        event_id=_id(),
        workspace_id=WS,
        interaction_key=key,
        kind=kind,
        mailbox_id=mailbox,
        member_id=owner,
        occurred_at=AT + timedelta(hours=hours),
        direction="sent",
        participant_count=2,
        records=tuple(
            InteractionRecord(record_id=r, record_kind="person", role="to") for r in records
        ),
    )


def person(record: str) -> PersonCreated:
    return PersonCreated(
        event_id=_id(),
        workspace_id=WS,
        person_id=record,
        address=f"{record}@acme.com",
        display_name=record,
        created_because="test",
    )


def state_of(*events) -> AccessState:
    state = AccessState(WS)
    state.apply_all(events)
    return state


def alice_and_zoe() -> list:
    """Alice's mailbox synced m1 (to Bob, a record); Zoe has no mailbox."""
    return [
        person("bob"),
        connected("mb-alice", "alice"),
        synced("mb-alice", "alice"),
        resolved("mb-alice", "alice", "m1", "bob"),
    ]


def test_other_members_see_participants_and_time_but_not_the_subject_by_default() -> None:
    view = state_of(*alice_and_zoe()).email("zoe", "m1")
    assert view is not None
    assert view.level is Level.METADATA
    assert view.subject is None
    assert view.participants and view.can_request_access


def test_the_owner_always_sees_their_own_mail_in_full() -> None:
    view = state_of(*alice_and_zoe()).email("alice", "m1")
    assert view is not None and view.level is Level.FULL and view.subject == SUBJECT
    assert not view.can_request_access


def test_the_sharing_level_applies_to_everyone_else_in_the_workspace() -> None:
    for level, expected in (("subject", Level.SUBJECT), ("full", Level.FULL)):
        state = state_of(
            *alice_and_zoe(),
            MailboxSharingLevelChanged(
                event_id=_id(),
                workspace_id=WS,
                mailbox_id="mb-alice",
                owner_member_id="alice",
                level=level,
                changed_at=AT,
            ),
        )
        assert state.levels("zoe", ["m1"]) == [expected]
        assert state.email("zoe", "m1").subject == SUBJECT


def test_a_mailbox_grant_gives_one_member_full_access_until_revoked() -> None:
    grant = MailboxAccessGranted(
        event_id=_id(),
        workspace_id=WS,
        mailbox_id="mb-alice",
        owner_member_id="alice",
        member_id="zoe",
        changed_at=AT,
    )
    state = state_of(*alice_and_zoe(), grant)
    assert state.levels("zoe", ["m1"]) == [Level.FULL]
    assert state.levels("yan", ["m1"]) == [Level.METADATA]
    assert state.full_copy("zoe", "m1") == "mb-alice"
    state.apply(MailboxAccessRevoked(**{**grant.model_dump(), "event_id": _id()}))
    assert state.levels("zoe", ["m1"]) == [Level.METADATA]
    assert state.full_copy("zoe", "m1") is None


def test_a_record_share_covers_the_owners_emails_with_that_record_only() -> None:
    state = state_of(
        *alice_and_zoe(),
        person("carol"),
        synced("mb-alice", "alice", "m2", thread="t2"),
        resolved("mb-alice", "alice", "m2", "carol"),
        RecordEmailsShared(
            event_id=_id(),
            workspace_id=WS,
            record_id="bob",
            owner_member_id="alice",
            whole_workspace=True,
            changed_at=AT,
        ),
    )
    assert state.levels("zoe", ["m1", "m2"]) == [Level.FULL, Level.METADATA]
    state.apply(
        RecordEmailsUnshared(
            event_id=_id(),
            workspace_id=WS,
            record_id="bob",
            owner_member_id="alice",
            whole_workspace=True,
            changed_at=AT,
        )
    )
    assert state.levels("zoe", ["m1"]) == [Level.METADATA]
    assert state.shares == {}


def test_a_share_by_someone_else_does_not_open_alices_copy() -> None:
    # Ben shares "his emails with Bob": that says nothing about Alice's mail.
    state = state_of(
        *alice_and_zoe(),
        RecordEmailsShared(
            event_id=_id(),
            workspace_id=WS,
            record_id="bob",
            owner_member_id="ben",
            member_ids=("zoe",),
            changed_at=AT,
        ),
    )
    assert state.levels("zoe", ["m1"]) == [Level.METADATA]


def test_a_message_in_two_mailboxes_gets_the_highest_level_either_gives() -> None:
    state = state_of(
        *alice_and_zoe(),
        synced("mb-ben", "ben"),
        MailboxSharingLevelChanged(
            event_id=_id(),
            workspace_id=WS,
            mailbox_id="mb-ben",
            owner_member_id="ben",
            level="subject",
            changed_at=AT,
        ),
    )
    assert state.levels("carol", ["m1"]) == [Level.SUBJECT]
    assert state.levels("ben", ["m1"]) == [Level.FULL]
    # Ben's own copy is the one whose content he reads.
    assert state.full_copy("ben", "m1") == "mb-ben"


def test_a_blocklisted_sighting_gives_nothing_while_other_copies_still_show() -> None:
    state = state_of(*alice_and_zoe(), synced("mb-ben", "ben"))
    state.apply(
        MessageRetracted(
            event_id=_id(),
            workspace_id=WS,
            mailbox_id="mb-alice",
            member_id="alice",
            message_key="m1",
            reason="blocklist",
            retracted_at=AT,
        )
    )
    # Alice's copy is hidden for her mailbox; Ben's copy still shows (at METADATA to her).
    assert state.levels("alice", ["m1"]) == [Level.METADATA]
    state.apply(
        MessageRetracted(
            event_id=_id(),
            workspace_id=WS,
            mailbox_id="mb-ben",
            member_id="ben",
            message_key="m1",
            reason="blocklist",
            retracted_at=AT,
        )
    )
    assert state.levels("alice", ["m1"]) == [Level.NONE]
    assert state.email("ben", "m1") is None
    assert state.record_emails("alice", "bob", None, 10) == []


def test_an_approved_request_opens_its_target_and_declining_takes_it_back() -> None:
    asked = AccessRequested(
        event_id=_id(),
        workspace_id=WS,
        request_id="req-1",
        requester_member_id="zoe",
        owner_member_id="alice",
        target_kind="thread",
        target_key="t1",
        requested_at=AT,
    )
    state = state_of(*alice_and_zoe(), synced("mb-alice", "alice", "m2", thread="t2"), asked)
    assert state.email("zoe", "m1").access_requested
    assert not state.email("zoe", "m2").access_requested

    def decided(decision: str) -> AccessRequestDecided:
        return AccessRequestDecided(
            event_id=_id(),
            workspace_id=WS,
            request_id="req-1",
            owner_member_id="alice",
            requester_member_id="zoe",
            target_kind="thread",
            target_key="t1",
            decision=decision,
            decided_at=AT,
        )

    state.apply(decided("approved"))
    assert state.levels("zoe", ["m1", "m2"]) == [Level.FULL, Level.METADATA]
    state.apply(decided("declined"))
    assert state.levels("zoe", ["m1"]) == [Level.METADATA]
    assert not state.email("zoe", "m1").access_requested


def test_a_removed_mailbox_takes_its_mail_and_its_sharing_with_it() -> None:
    state = state_of(
        *alice_and_zoe(),
        MailboxRemoved(
            event_id=_id(), workspace_id=WS, mailbox_id="mb-alice", member_id="alice", removed_at=AT
        ),
    )
    assert state.messages == {} and state.mailboxes == {}
    assert state.email_links.of_record == {}


def test_record_emails_are_newest_first_and_page_after_a_position() -> None:
    events = [person("bob"), connected("mb-alice", "alice")]
    for hour, key in enumerate(["m1", "m2", "m3"]):
        events += [
            synced("mb-alice", "alice", key, hours=hour),
            resolved("mb-alice", "alice", key, "bob", hours=hour),
        ]
    state = state_of(*events)
    first = state.record_emails("zoe", "bob", None, 2)
    assert [v.message_key for _, v in first] == ["m3", "m2"]
    rest = state.record_emails("zoe", "bob", first[-1][0], 2)
    assert [v.message_key for _, v in rest] == ["m1"]


def test_a_merged_record_answers_as_the_record_it_was_merged_into() -> None:
    state = state_of(person("bob"), person("robert"))
    merged = PeopleMerged.model_validate(
        {
            "event_id": _id(),
            "workspace_id": WS,
            "survivor_id": "bob",
            "merged_id": "robert",
            "automatic": True,
            "evidence": {"rule": "same-address", "description": "test"},
            "merged_at": AT,
        }
    )
    state.apply(merged)
    assert state.live_record("robert") == "bob"
    state.apply(
        PersonUnmerged(
            event_id=_id(),
            workspace_id=WS,
            survivor_id="bob",
            restored_id="robert",
            unmerged_by="alice",
            unmerged_at=AT,
        )
    )
    assert state.live_record("robert") == "robert"
    assert state.live_record("nobody") is None


def meeting(mailbox: str, owner: str, *, title: str = "Pricing call") -> EventSynced:
    return EventSynced(
        event_id=_id(),
        workspace_id=WS,
        mailbox_id=mailbox,
        member_id=owner,
        calendar_event_key="ev1",
        title=title,
        starts_at=AT + timedelta(hours=5),
        ends_at=AT + timedelta(hours=6),
        organizer=f"{owner}@ours.com",
        attendees=(CalendarAttendee(address="bob@acme.com", rsvp="accepted"),),
    )


def test_activity_merges_emails_and_meetings_and_redacts_titles_like_subjects() -> None:
    state = state_of(
        *alice_and_zoe(),
        meeting("mb-alice", "alice"),
        resolved("mb-alice", "alice", "ev1", "bob", kind="calendar", hours=5),
    )
    activity = state.record_activity("zoe", "bob", None, 10)
    assert [type(v).__name__ for _, v in activity] == ["CalendarView", "EmailView"]
    event = activity[0][1]
    assert event.title is None and event.attendees[0].rsvp == "accepted"
    own = state.record_activity("alice", "bob", None, 10)
    assert own[0][1].title == "Pricing call"
    # A record share covers emails, not meetings.
    state.apply(
        RecordEmailsShared(
            event_id=_id(),
            workspace_id=WS,
            record_id="bob",
            owner_member_id="alice",
            whole_workspace=True,
            changed_at=AT,
        )
    )
    event, email = (v for _, v in state.record_activity("zoe", "bob", None, 10))
    assert event.title is None and email.subject == SUBJECT
    # A cancelled meeting leaves the feed.
    state.apply(
        EventCancelled(
            event_id=_id(),
            workspace_id=WS,
            mailbox_id="mb-alice",
            member_id="alice",
            calendar_event_key="ev1",
            cancelled_at=AT,
        )
    )
    assert len(state.record_activity("zoe", "bob", None, 10)) == 1


def test_a_later_sync_of_a_meeting_describes_it() -> None:
    state = state_of(meeting("mb-alice", "alice"), meeting("mb-alice", "alice", title="Moved"))
    assert state.events["ev1"].title == "Moved"
    assert state.events["ev1"].sightings == {"mb-alice": "alice"}


def test_another_workspace_is_never_seen() -> None:
    state = state_of(*alice_and_zoe())
    stranger = AccessState("other")
    stranger.apply_all(alice_and_zoe())
    assert stranger.messages == {}
    assert stranger.levels("alice", ["m1"]) == [Level.NONE]
    assert state.levels("alice", ["m1"]) == [Level.FULL]
