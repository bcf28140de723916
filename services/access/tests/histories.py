"""Random histories of two workspaces for the property tests, and the sharing rules
written a second time, the other way round (the reference model).

The two workspaces use the same member names, mailbox ids and message keys on purpose:
nothing of one may show in the other. Every subject names its workspace, so a leak
across workspaces is visible in any view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from commsintel.access.domain.state import AccessState
from commsintel.access.domain.visibility import Level
from commsintel.contracts.events import (
    AccessRequestDecided,
    AccessRequested,
    Event,
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
    PersonCreated,
    RecordEmailsShared,
    RecordEmailsUnshared,
)

WORKSPACES = ("ws-a", "ws-b")
MEMBERS = ("alice", "bob", "carol")
VIEWERS = (*MEMBERS, "stranger")  # a member with no mailbox and no grant
MAILBOXES = ("mb-1", "mb-2", "mb-3")
MESSAGES = ("m1", "m2", "m3", "m4", "m5")
THREAD_OF = {"m1": "t1", "m2": "t1", "m3": "t2", "m4": "t2", "m5": "t3"}
RECORDS = ("r1", "r2")
LEVELS = ("metadata", "subject", "full")
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# m4 and m5 share their time: ties are ordered by key.
SENT_AT = {m: AT + timedelta(hours=min(i, 3)) for i, m in enumerate(MESSAGES)}


def record_id(workspace: str, record: str) -> str:
    return f"{workspace}:{record}"


def subject(workspace: str, message: str) -> str:
    return f"secret of {workspace} {message}"


workspaces = st.sampled_from(WORKSPACES)
members = st.sampled_from(MEMBERS)
mailboxes = st.sampled_from(MAILBOXES)
messages = st.sampled_from(MESSAGES)
records = st.sampled_from(RECORDS)

operations = st.one_of(
    # A sighting, and identity's resolution of it (a later "resolve" replaces it).
    st.tuples(st.just("sync"), workspaces, mailboxes, messages, st.frozensets(records)),
    st.tuples(st.just("sync"), workspaces, mailboxes, messages, st.frozensets(records)),
    st.tuples(st.just("resolve"), workspaces, mailboxes, messages, st.frozensets(records)),
    st.tuples(st.just("retract"), workspaces, mailboxes, messages),
    st.tuples(st.just("remove"), workspaces, mailboxes),
    st.tuples(st.just("level"), workspaces, mailboxes, st.sampled_from(LEVELS)),
    st.tuples(st.sampled_from(["grant", "revoke"]), workspaces, mailboxes, members),
    st.tuples(
        st.sampled_from(["share", "unshare"]),
        workspaces,
        members,
        records,
        st.booleans(),
        st.frozensets(members, max_size=2),
    ),
    st.tuples(
        st.just("request"),
        workspaces,
        members,
        members,
        st.sampled_from(["message", "thread", "record"]),
        st.integers(0, len(MESSAGES) - 1),
    ),
    st.tuples(st.just("decide"), st.integers(0, 20), st.booleans()),
)


@dataclass(frozen=True)
class History:
    owners: dict[tuple[str, str], str]  # (workspace, mailbox) -> owner
    operations: tuple[tuple, ...]


histories = st.builds(
    History,
    owners=st.fixed_dictionaries({(ws, mb): members for ws in WORKSPACES for mb in MAILBOXES}),
    operations=st.lists(operations, min_size=4, max_size=60).map(tuple),
)


def request_target(workspace: str, kind: str, pick: int) -> str:
    if kind == "message":
        return MESSAGES[pick]
    if kind == "thread":
        return THREAD_OF[MESSAGES[pick]]
    return record_id(workspace, RECORDS[pick % len(RECORDS)])


def events_of(history: History) -> list[Event]:
    """The history as the events access consumes, in order."""
    events: list[Event] = []
    n = iter(range(10**6))

    def next_id() -> str:
        return f"e{next(n)}"

    for ws in WORKSPACES:
        for record in RECORDS:
            events.append(
                PersonCreated(
                    event_id=next_id(),
                    workspace_id=ws,
                    person_id=record_id(ws, record),
                    address=f"{record}@{ws}.example",
                    display_name=record,
                    created_because="test",
                )
            )
        for mailbox in MAILBOXES:
            owner = history.owners[(ws, mailbox)]
            events.append(
                MailboxConnected(
                    event_id=next_id(),
                    workspace_id=ws,
                    mailbox_id=mailbox,
                    member_id=owner,
                    owner_addresses=(f"{owner}@{ws}.example",),
                    source="archive",
                    connected_at=AT,
                )
            )
    requests: list[AccessRequested] = []
    for op in history.operations:
        kind, rest = op[0], op[1:]
        if kind == "decide":
            index, approve = rest
            if index < len(requests):
                asked = requests[index]
                events.append(
                    AccessRequestDecided(
                        event_id=next_id(),
                        workspace_id=asked.workspace_id,
                        request_id=asked.request_id,
                        owner_member_id=asked.owner_member_id,
                        requester_member_id=asked.requester_member_id,
                        target_kind=asked.target_kind,
                        target_key=asked.target_key,
                        decision="approved" if approve else "declined",
                        decided_at=AT,
                    )
                )
            continue
        ws = rest[0]
        if kind in ("sync", "resolve", "retract", "remove", "level", "grant", "revoke"):
            mailbox = rest[1]
            owner = history.owners[(ws, mailbox)]
        if kind == "sync":
            message = rest[2]
            events.append(
                MessageSynced(
                    event_id=next_id(),
                    workspace_id=ws,
                    mailbox_id=mailbox,
                    member_id=owner,
                    mailbox_owner_addresses=(f"{owner}@{ws}.example",),
                    message_key=message,
                    thread_key=THREAD_OF[message],
                    subject=subject(ws, message),
                    sent_at=SENT_AT[message],
                    direction="sent",
                    participants=(
                        MessageParticipant(role="from", address=f"{owner}@{ws}.example"),
                        MessageParticipant(role="to", address=f"them@{ws}.example"),
                    ),
                )
            )
        if kind in ("sync", "resolve"):
            message, linked = rest[2], rest[3]
            events.append(
                InteractionResolved(
                    event_id=next_id(),
                    workspace_id=ws,
                    interaction_key=message,
                    kind="email",
                    mailbox_id=mailbox,
                    member_id=owner,
                    occurred_at=SENT_AT[message],
                    direction="sent",
                    participant_count=2,
                    records=tuple(
                        InteractionRecord(
                            record_id=record_id(ws, r), record_kind="person", role="to"
                        )
                        for r in sorted(linked)
                    ),
                )
            )
        elif kind == "retract":
            events.append(
                MessageRetracted(
                    event_id=next_id(),
                    workspace_id=ws,
                    mailbox_id=mailbox,
                    member_id=owner,
                    message_key=rest[2],
                    reason="blocklist",
                    retracted_at=AT,
                )
            )
        elif kind == "remove":
            events.append(
                MailboxRemoved(
                    event_id=next_id(),
                    workspace_id=ws,
                    mailbox_id=mailbox,
                    member_id=owner,
                    removed_at=AT,
                )
            )
        elif kind == "level":
            events.append(
                MailboxSharingLevelChanged(
                    event_id=next_id(),
                    workspace_id=ws,
                    mailbox_id=mailbox,
                    owner_member_id=owner,
                    level=rest[2],
                    changed_at=AT,
                )
            )
        elif kind in ("grant", "revoke"):
            model = MailboxAccessGranted if kind == "grant" else MailboxAccessRevoked
            events.append(
                model(
                    event_id=next_id(),
                    workspace_id=ws,
                    mailbox_id=mailbox,
                    owner_member_id=owner,
                    member_id=rest[2],
                    changed_at=AT,
                )
            )
        elif kind in ("share", "unshare"):
            owner, record, whole, named = rest[1:]
            model = RecordEmailsShared if kind == "share" else RecordEmailsUnshared
            events.append(
                model(
                    event_id=next_id(),
                    workspace_id=ws,
                    record_id=record_id(ws, record),
                    owner_member_id=owner,
                    whole_workspace=whole,
                    member_ids=tuple(sorted(named)),
                    changed_at=AT,
                )
            )
        elif kind == "request":
            requester, owner, target_kind, pick = rest[1:]
            event_id = next_id()
            asked = AccessRequested(
                event_id=event_id,
                workspace_id=ws,
                request_id=f"req-{event_id}",
                requester_member_id=requester,
                owner_member_id=owner,
                target_kind=target_kind,
                target_key=request_target(ws, target_kind, pick),
                requested_at=AT + timedelta(minutes=len(requests)),
            )
            requests.append(asked)
            events.append(asked)
    return events


@dataclass
class Reference:
    """The final facts of a history, read straight from its operations, and the rules
    evaluated by listing every reason a viewer may have to see a message."""

    owners: dict[tuple[str, str], str]
    present: set[tuple[str, str]] = field(default_factory=set)  # (ws, mailbox) that exist
    sightings: set[tuple[str, str, str]] = field(default_factory=set)  # (ws, mailbox, msg)
    links: dict[tuple[str, str, str], frozenset[str]] = field(default_factory=dict)
    level: dict[tuple[str, str], str] = field(default_factory=dict)
    full: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    shares: dict[tuple[str, str, str], tuple[bool, set[str]]] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, history: History) -> Reference:
        ref = cls(history.owners, present=set(history.owners))
        for op in history.operations:
            ref._apply(op)
        return ref

    def _apply(self, op: tuple) -> None:
        kind, rest = op[0], op[1:]
        if kind == "decide":
            index, approve = rest
            if index < len(self.requests):
                self.requests[index]["state"] = "approved" if approve else "declined"
            return
        ws = rest[0]
        if kind == "sync":
            self.present.add((ws, rest[1]))
            self.sightings.add((ws, rest[1], rest[2]))
        if kind in ("sync", "resolve"):
            self.links[(ws, rest[1], rest[2])] = frozenset(record_id(ws, r) for r in rest[3])
        elif kind == "retract":
            self.sightings.discard((ws, rest[1], rest[2]))
        elif kind == "remove":
            # Gone with everything it held; if it syncs again, it starts afresh.
            self.present.discard((ws, rest[1]))
            self.sightings = {s for s in self.sightings if s[:2] != (ws, rest[1])}
            self.links = {k: v for k, v in self.links.items() if k[:2] != (ws, rest[1])}
            self.level.pop((ws, rest[1]), None)
            self.full.pop((ws, rest[1]), None)
        elif kind == "level" and (ws, rest[1]) in self.present:
            self.level[(ws, rest[1])] = rest[2]
        elif kind == "grant" and (ws, rest[1]) in self.present:
            self.full.setdefault((ws, rest[1]), set()).add(rest[2])
        elif kind == "revoke" and (ws, rest[1]) in self.present:
            self.full.get((ws, rest[1]), set()).discard(rest[2])
        elif kind in ("share", "unshare"):
            owner, record, whole, named = rest[1:]
            key = (ws, owner, record_id(ws, record))
            was_whole, was_named = self.shares.get(key, (False, set()))
            if kind == "share":
                self.shares[key] = (was_whole or whole, was_named | set(named))
            elif key in self.shares:
                self.shares[key] = (was_whole and not whole, was_named - set(named))
        elif kind == "request":
            requester, owner, target_kind, pick = rest[1:]
            self.requests.append(
                {
                    "ws": ws,
                    "requester": requester,
                    "owner": owner,
                    "kind": target_kind,
                    "key": request_target(ws, target_kind, pick),
                    "state": "pending",
                }
            )

    def mailbox_gives(self, ws: str, mailbox: str, message: str, viewer: str) -> Level:
        """What one sighting gives the viewer: the highest of every reason that holds."""
        owner = self.owners[(ws, mailbox)]
        linked = self.links.get((ws, mailbox, message), frozenset())
        reasons = [Level[self.level.get((ws, mailbox), "metadata").upper()]]
        if viewer == owner:
            reasons.append(Level.FULL)  # their own mail
        if viewer in self.full.get((ws, mailbox), set()):
            reasons.append(Level.FULL)  # the owner granted them the mailbox
        for (share_ws, sharer, record), (whole, named) in self.shares.items():
            if (share_ws, sharer) == (ws, owner) and record in linked:
                if whole or viewer in named:
                    reasons.append(Level.FULL)  # "Manage access" on a record of it
        for asked in self.requests:
            if (asked["ws"], asked["requester"], asked["owner"]) != (ws, viewer, owner):
                continue
            if asked["state"] == "approved" and _names(asked, message, linked):
                reasons.append(Level.FULL)  # an approved request covers it
        return max(reasons)

    def level_of(self, ws: str, viewer: str, message: str) -> Level:
        given = [
            self.mailbox_gives(ws, mailbox, message, viewer)
            for (s_ws, mailbox, s_message) in self.sightings
            if (s_ws, s_message) == (ws, message)
        ]
        return max(given, default=Level.NONE)

    def full_mailboxes(self, ws: str, viewer: str, message: str) -> set[str]:
        return {
            mailbox
            for (s_ws, mailbox, s_message) in self.sightings
            if (s_ws, s_message) == (ws, message)
            and self.mailbox_gives(ws, mailbox, message, viewer) is Level.FULL
        }

    def requested(self, ws: str, viewer: str, message: str) -> bool:
        linked = frozenset().union(
            *(v for (l_ws, _, l_msg), v in self.links.items() if (l_ws, l_msg) == (ws, message))
        )
        return any(
            (a["ws"], a["requester"], a["state"]) == (ws, viewer, "pending")
            and _names(a, message, linked)
            for a in self.requests
        )

    def record_messages(self, ws: str, record: str) -> set[str]:
        """Messages linked to the record through any mailbox that still holds the link."""
        return {
            message
            for (l_ws, _, message), linked in self.links.items()
            if l_ws == ws and record in linked
        }


def _names(asked: dict, message: str, linked: frozenset[str]) -> bool:
    return (
        (asked["kind"] == "message" and asked["key"] == message)
        or (asked["kind"] == "thread" and asked["key"] == THREAD_OF[message])
        or (asked["kind"] == "record" and asked["key"] in linked)
    )


def fold(events: list[Event]) -> dict[str, AccessState]:
    states = {ws: AccessState(ws) for ws in WORKSPACES}
    for state in states.values():
        state.apply_all(events)
    return states


def check_views(states: dict[str, AccessState], reference: Reference) -> None:
    """Every view of every member of both workspaces against the reference: the level,
    the subject only at SUBJECT or above, content only from a copy they may read."""
    for ws, state in states.items():
        for viewer in VIEWERS:
            levels = state.levels(viewer, MESSAGES)
            for message, level in zip(MESSAGES, levels, strict=True):
                expected = reference.level_of(ws, viewer, message)
                assert level is expected, (ws, viewer, message, level, expected)
                view = state.email(viewer, message)
                if expected is Level.NONE:
                    assert view is None
                    assert state.full_copy(viewer, message) is None
                    continue
                assert view is not None and view.level is expected
                if expected >= Level.SUBJECT:
                    assert view.subject == subject(ws, message)
                else:
                    assert view.subject is None
                assert view.can_request_access == (expected < Level.FULL)
                assert view.access_requested == (
                    expected < Level.FULL and reference.requested(ws, viewer, message)
                )
                copy = state.full_copy(viewer, message)
                if expected is Level.FULL:
                    assert copy in reference.full_mailboxes(ws, viewer, message)
                else:
                    assert copy is None
            for record in RECORDS:
                rid = record_id(ws, record)
                listed = state.record_emails(viewer, rid, None, 100)
                expected_keys = {
                    m
                    for m in reference.record_messages(ws, rid)
                    if reference.level_of(ws, viewer, m) is not Level.NONE
                }
                assert {v.message_key for _, v in listed} == expected_keys
                order = [(-SENT_AT[v.message_key].timestamp(), v.message_key) for _, v in listed]
                assert order == sorted(order)
                for _, view in listed:
                    shown = view.subject is not None
                    assert shown == (
                        reference.level_of(ws, viewer, view.message_key) >= Level.SUBJECT
                    )
                    assert view.subject in (None, subject(ws, view.message_key))


def snapshot(state: AccessState) -> dict:
    """Every fact of a state, comparable with ==."""
    return {
        "mailboxes": state.mailboxes,
        "messages": state.messages,
        "threads": state.threads,
        "events": state.events,
        "records": state.records,
        "email_links": (state.email_links.via, state.email_links.of_record),
        "calendar_links": (state.calendar_links.via, state.calendar_links.of_record),
        "shares": state.shares,
        "requests": state.requests,
    }


EVERY_KIND = History(
    owners={
        (ws, mb): MEMBERS[i % len(MEMBERS)] for ws in WORKSPACES for i, mb in enumerate(MAILBOXES)
    },
    operations=(
        ("sync", "ws-a", "mb-1", "m1", frozenset({"r1"})),
        ("sync", "ws-a", "mb-2", "m1", frozenset({"r1", "r2"})),
        ("sync", "ws-a", "mb-1", "m2", frozenset({"r2"})),
        ("sync", "ws-b", "mb-1", "m1", frozenset({"r1"})),
        ("sync", "ws-a", "mb-3", "m3", frozenset()),
        ("sync", "ws-a", "mb-2", "m3", frozenset()),
        ("retract", "ws-a", "mb-3", "m3"),
        ("level", "ws-a", "mb-2", "subject"),
        ("grant", "ws-a", "mb-1", "carol"),
        ("share", "ws-a", "alice", "r1", True, frozenset({"bob"})),
        ("share", "ws-a", "alice", "r2", False, frozenset({"carol", "bob"})),
        ("request", "ws-a", "carol", "alice", "thread", 0),
        ("request", "ws-a", "bob", "carol", "message", 2),
        ("request", "ws-b", "bob", "alice", "record", 0),
        ("decide", 0, True),
        ("decide", 2, True),
        ("retract", "ws-a", "mb-2", "m1"),
        ("unshare", "ws-a", "alice", "r1", True, frozenset()),
        ("unshare", "ws-a", "alice", "r2", False, frozenset({"carol"})),
        ("revoke", "ws-a", "mb-1", "carol"),
        ("decide", 0, False),
        ("remove", "ws-a", "mb-1"),
        ("sync", "ws-a", "mb-1", "m2", frozenset({"r1"})),
        ("resolve", "ws-a", "mb-2", "m1", frozenset()),
    ),
)
