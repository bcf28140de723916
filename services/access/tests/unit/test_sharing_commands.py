"""The owners' and members' commands: who may change what, what each one records, and
that an approved request opens exactly what was asked for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from histories import MESSAGES, RECORDS, VIEWERS, events_of, fold, histories, record_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commsintel.access.domain import sharing
from commsintel.access.domain.state import AccessState
from commsintel.access.domain.visibility import Level
from commsintel.contracts.errors import AlreadyKnown, InvalidValue, NotAllowed, UnknownItem
from commsintel.contracts.events import (
    InteractionRecord,
    InteractionResolved,
    MailboxConnected,
    MessageParticipant,
    MessageSynced,
    PersonCreated,
)

AT = datetime(2026, 1, 5, tzinfo=UTC)


def workspace() -> AccessState:
    """Alice's mailbox synced m1 and m2 (thread t1) with Bob, a record."""
    state = AccessState("ws")
    state.apply_all(
        [
            PersonCreated(
                event_id="p",
                workspace_id="ws",
                person_id="bob",
                address="bob@acme.com",
                display_name="Bob",
                created_because="test",
            ),
            MailboxConnected(
                event_id="c",
                workspace_id="ws",
                mailbox_id="mb-alice",
                member_id="alice",
                owner_addresses=("alice@ours.com",),
                source="archive",
                connected_at=AT,
            ),
        ]
    )
    for key in ("m1", "m2"):
        state.apply(
            MessageSynced(
                event_id=f"s-{key}",
                workspace_id="ws",
                mailbox_id="mb-alice",
                member_id="alice",
                mailbox_owner_addresses=("alice@ours.com",),
                message_key=key,
                thread_key="t1",
                subject="pricing",
                sent_at=AT,
                direction="sent",
                participants=(MessageParticipant(role="to", address="bob@acme.com"),),
            )
        )
        state.apply(
            InteractionResolved(
                event_id=f"r-{key}",
                workspace_id="ws",
                interaction_key=key,
                kind="email",
                mailbox_id="mb-alice",
                member_id="alice",
                occurred_at=AT,
                direction="sent",
                participant_count=2,
                records=(InteractionRecord(record_id="bob", record_kind="person", role="to"),),
            )
        )
    return state


def test_only_the_owner_changes_a_mailboxs_sharing() -> None:
    state = workspace()
    with pytest.raises(NotAllowed):
        sharing.set_sharing_level(
            state, caller="zoe", mailbox_id="mb-alice", level=Level.FULL, at=AT
        )
    with pytest.raises(UnknownItem):
        sharing.set_sharing_level(state, caller="alice", mailbox_id="mb-x", level=Level.FULL, at=AT)
    with pytest.raises(InvalidValue):
        sharing.set_sharing_level(
            state, caller="alice", mailbox_id="mb-alice", level=Level.NONE, at=AT
        )
    event = sharing.set_sharing_level(
        state, caller="alice", mailbox_id="mb-alice", level=Level.SUBJECT, at=AT
    )
    assert event is not None and event.level == "subject"
    state.apply(event)
    # Setting what is already set records nothing.
    assert (
        sharing.set_sharing_level(
            state, caller="alice", mailbox_id="mb-alice", level=Level.SUBJECT, at=AT
        )
        is None
    )


def test_granting_and_revoking_name_a_member_other_than_the_owner() -> None:
    state = workspace()
    with pytest.raises(InvalidValue):
        sharing.grant_mailbox_access(
            state, caller="alice", mailbox_id="mb-alice", member_id=" ", at=AT
        )
    with pytest.raises(InvalidValue):
        sharing.grant_mailbox_access(
            state, caller="alice", mailbox_id="mb-alice", member_id="alice", at=AT
        )
    assert (
        sharing.revoke_mailbox_access(
            state, caller="alice", mailbox_id="mb-alice", member_id="zoe", at=AT
        )
        is None
    )
    state.apply(
        sharing.grant_mailbox_access(
            state, caller="alice", mailbox_id="mb-alice", member_id="zoe", at=AT
        )
    )
    assert state.levels("zoe", ["m1"]) == [Level.FULL]


def test_only_a_member_with_mail_of_the_record_shares_it() -> None:
    state = workspace()
    with pytest.raises(NotAllowed):
        sharing.share_record_emails(
            state, caller="zoe", record_id="bob", whole_workspace=True, member_ids=[], at=AT
        )
    with pytest.raises(UnknownItem):
        sharing.share_record_emails(
            state, caller="alice", record_id="nobody", whole_workspace=True, member_ids=[], at=AT
        )
    with pytest.raises(InvalidValue):
        sharing.share_record_emails(
            state, caller="alice", record_id="bob", whole_workspace=False, member_ids=[], at=AT
        )
    shared = sharing.share_record_emails(
        state, caller="alice", record_id="bob", whole_workspace=False, member_ids=["zoe"], at=AT
    )
    state.apply(shared)
    assert state.levels("zoe", ["m1", "m2"]) == [Level.FULL, Level.FULL]
    # Zoe now has a share of nothing of her own to take back.
    with pytest.raises(NotAllowed):
        sharing.unshare_record_emails(
            state, caller="zoe", record_id="bob", whole_workspace=True, member_ids=[], at=AT
        )
    state.apply(
        sharing.unshare_record_emails(
            state, caller="alice", record_id="bob", whole_workspace=False, member_ids=["zoe"], at=AT
        )
    )
    assert state.levels("zoe", ["m1"]) == [Level.METADATA]


def test_a_request_goes_to_the_owner_once_while_pending() -> None:
    state = workspace()
    new, pending = sharing.request_access(
        state, requester="zoe", kind="thread", key="t1", note="please", at=AT
    )
    assert [(e.owner_member_id, e.target_key) for e in new] == [("alice", "t1")] and not pending
    state.apply_all(new)
    again, pending = sharing.request_access(
        state, requester="zoe", kind="thread", key="t1", note="", at=AT
    )
    assert again == [] and [r.request_id for r in pending] == [new[0].request_id]
    with pytest.raises(AlreadyKnown):
        sharing.request_access(state, requester="alice", kind="message", key="m1", note="", at=AT)
    with pytest.raises(UnknownItem):
        sharing.request_access(state, requester="zoe", kind="message", key="m9", note="", at=AT)
    with pytest.raises(NotAllowed):
        sharing.decide_access_request(
            state, caller="zoe", request_id=new[0].request_id, approve=True, at=AT
        )
    with pytest.raises(UnknownItem):
        sharing.decide_access_request(state, caller="alice", request_id="x", approve=True, at=AT)


requests = st.tuples(
    st.sampled_from(VIEWERS),
    st.sampled_from(["message", "thread", "record"]),
    st.sampled_from(MESSAGES),
    st.sampled_from(RECORDS),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories, asked=requests)
def test_approving_every_request_opens_what_was_asked_at_once(history, asked) -> None:
    viewer, kind, message, record = asked
    state = fold(events_of(history))["ws-a"]
    thread = state.messages[message].thread_key if message in state.messages else "t-none"
    key = {"message": message, "thread": thread, "record": record_id("ws-a", record)}[kind]
    try:
        new, pending = sharing.request_access(
            state, requester=viewer, kind=kind, key=key, note="", at=AT
        )
    except (UnknownItem, AlreadyKnown):
        return
    state.apply_all(new)
    for request in [*(state.requests[e.request_id] for e in new), *pending]:
        state.apply(
            sharing.decide_access_request(
                state,
                caller=request.owner_member_id,
                request_id=request.request_id,
                approve=True,
                at=AT,
            )
        )
    # Every copy of every message asked for, that the owners' approval reaches, is FULL.
    if kind == "record":
        covered = [
            k
            for k in state.email_links.of_record.get(key, {})
            if k in state.messages
            and any(
                key in state.email_links.via[k].get(mailbox, ())
                for mailbox in state.messages[k].sightings
            )
        ]
    else:
        covered = [k for k in state.threads.get(thread, ()) if kind == "thread" or k == message]
    assert all(state.message_level(viewer, k) is Level.FULL for k in covered)
