"""One workspace as access knows it, folded from events: mailboxes with their sharing,
messages and meetings with their sightings, which records took part in them, record
shares and access requests. Pure: `apply(event)` folds, the queries answer for a viewer.

This fold is the only one: the store loads the part of a workspace a batch touches,
applies the batch here, and saves the documents that changed (`load_*` build a state
from stored facts). Times are kept to the millisecond, as MongoDB keeps them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from heapq import merge

from commsintel.access.domain.links import (
    CALENDAR,
    EMAIL,
    Links,
    Position,
    position,
    stored_time,
)
from commsintel.access.domain.visibility import (
    Attendee,
    CalendarEvent,
    CalendarView,
    EmailView,
    Lens,
    Level,
    Mailbox,
    Message,
    Participant,
    calendar_view,
    email_view,
    targets,
)
from commsintel.contracts.events import (
    AccessRequestDecided,
    AccessRequested,
    CompanyCreated,
    Event,
    EventCancelled,
    EventSynced,
    InteractionResolved,
    MailboxAccessGranted,
    MailboxAccessRevoked,
    MailboxConnected,
    MailboxRemoved,
    MailboxSharingLevelChanged,
    MessageRetracted,
    MessageSynced,
    PeopleMerged,
    PersonCreated,
    PersonLinkedToCompany,
    PersonUnmerged,
    RecordEmailsShared,
    RecordEmailsUnshared,
    RecordEnriched,
)

MAX_MERGE_HOPS = 64
MAX_REMEMBERED = 200_000  # answers remembered per viewer before starting afresh


@dataclass(slots=True)
class RecordEntry:
    kind: str | None = None  # person | company; None until identity created it
    merged_into: str | None = None
    # What the API lists of a record.
    name: str | None = None
    email_address: str | None = None
    company_id: str | None = None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedRecord:
    """A person or company as the API lists it."""

    record_id: str
    kind: str | None
    name: str = ""
    email_address: str = ""
    company_id: str = ""
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordShare:
    whole_workspace: bool = False
    member_ids: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.whole_workspace and not self.member_ids

    def includes(self, member_id: str) -> bool:
        return self.whole_workspace or member_id in self.member_ids


@dataclass(frozen=True, slots=True)
class AccessRequest:
    request_id: str
    requester_member_id: str
    owner_member_id: str
    target_kind: str  # message | thread | record
    target_key: str
    note: str
    requested_at: datetime
    state: str = "pending"  # pending | approved | declined
    decided_at: datetime | None = None


@dataclass
class AccessState:
    workspace_id: str
    # The store's version of the workspace this state reflects (at least).
    version: int = 0
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    threads: dict[str, set[str]] = field(default_factory=dict)
    events: dict[str, CalendarEvent] = field(default_factory=dict)
    records: dict[str, RecordEntry] = field(default_factory=dict)
    email_links: Links = field(default_factory=lambda: Links(EMAIL))
    calendar_links: Links = field(default_factory=lambda: Links(CALENDAR))
    shares: dict[tuple[str, str], RecordShare] = field(default_factory=dict)  # (owner, record)
    requests: dict[str, AccessRequest] = field(default_factory=dict)
    _lenses: dict[str, Lens] = field(default_factory=dict, repr=False)

    # --- the fold -----------------------------------------------------------------------

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.workspace_id == self.workspace_id:
                self.apply(event)

    def apply(self, event: Event) -> None:
        if event.TOPIC == "access.grants":
            self._apply_grant(event)
        elif event.TOPIC == "identity.records":
            self._apply_record(event)
        else:
            self._apply_mail(event)

    def _apply_mail(self, event: Event) -> None:
        match event:
            case MailboxConnected():
                found = self.mailboxes.get(event.mailbox_id)
                if found is None:
                    self.load_mailbox(Mailbox(event.mailbox_id, event.member_id))
                else:
                    found.owner_member_id = event.member_id
                    self._lenses.clear()
            case MailboxRemoved():
                self._remove_mailbox(event.mailbox_id)
            case MessageSynced():
                self._sighted(event.mailbox_id, event.member_id)
                message = self.messages.get(event.message_key)
                if message is None:
                    message = _message(event)
                    self.load_message(message)
                message.sightings[event.mailbox_id] = event.member_id
                self._touched(event.message_key)
            case MessageRetracted():
                message = self.messages.get(event.message_key)
                if message is not None:
                    message.sightings.pop(event.mailbox_id, None)
                    self._touched(event.message_key)
                    if not message.sightings:
                        self._forget_message(message)
            case EventSynced():
                self._sighted(event.mailbox_id, event.member_id)
                found = self.events.get(event.calendar_event_key)
                updated = _calendar_event(event, found.sightings if found else {})
                updated.sightings[event.mailbox_id] = event.member_id
                self.events[updated.event_key] = updated
            case EventCancelled():
                found = self.events.get(event.calendar_event_key)
                if found is not None:
                    found.sightings.pop(event.mailbox_id, None)
                    if not found.sightings:
                        del self.events[found.event_key]
            case InteractionResolved():
                links = self.email_links if event.kind == "email" else self.calendar_links
                records = frozenset(r.record_id for r in event.records)
                links.resolve(
                    event.interaction_key, event.mailbox_id, records, stored_time(event.occurred_at)
                )
                self._touched(event.interaction_key)

    def _apply_record(self, event: Event) -> None:
        match event:
            case PersonCreated():
                record = self.records.setdefault(event.person_id, RecordEntry())
                record.kind, record.name = "person", event.display_name
                record.email_address = event.address
            case CompanyCreated():
                record = self.records.setdefault(event.company_id, RecordEntry())
                record.kind, record.name = "company", event.name
                if event.domain not in record.domains:
                    record.domains = (*record.domains, event.domain)
            case PersonLinkedToCompany():
                self.records.setdefault(
                    event.person_id, RecordEntry()
                ).company_id = event.company_id
            case RecordEnriched() if event.field == "name":
                record = self.records.setdefault(event.record_id, RecordEntry())
                record.name = event.value if isinstance(event.value, str) else " ".join(event.value)
            case RecordEnriched() if event.field == "domains":
                record = self.records.setdefault(event.record_id, RecordEntry())
                record.domains = (event.value,) if isinstance(event.value, str) else event.value
            case PeopleMerged():
                if (entry := self.records.get(event.merged_id)) is not None:
                    entry.merged_into = event.survivor_id
            case PersonUnmerged():
                if (entry := self.records.get(event.restored_id)) is not None:
                    entry.merged_into = None

    def _apply_grant(self, event: Event) -> None:
        match event:
            case MailboxSharingLevelChanged():
                if (mailbox := self.mailboxes.get(event.mailbox_id)) is not None:
                    mailbox.sharing_level = Level[event.level.upper()]
                    self._lenses.clear()
            case MailboxAccessGranted():
                if (mailbox := self.mailboxes.get(event.mailbox_id)) is not None:
                    mailbox.full_access = mailbox.full_access | {event.member_id}
                    self._lenses.clear()
            case MailboxAccessRevoked():
                if (mailbox := self.mailboxes.get(event.mailbox_id)) is not None:
                    mailbox.full_access = mailbox.full_access - {event.member_id}
                    self._lenses.clear()
            case RecordEmailsShared():
                key = (event.owner_member_id, event.record_id)
                before = self.shares.get(key, RecordShare())
                self.load_share(
                    *key,
                    RecordShare(
                        before.whole_workspace or event.whole_workspace,
                        before.member_ids | set(event.member_ids),
                    ),
                )
            case RecordEmailsUnshared():
                key = (event.owner_member_id, event.record_id)
                if (share := self.shares.get(key)) is not None:
                    self.load_share(
                        *key,
                        RecordShare(
                            share.whole_workspace and not event.whole_workspace,
                            share.member_ids - set(event.member_ids),
                        ),
                    )
            case AccessRequested():
                if event.request_id not in self.requests:
                    self.load_request(_request(event))
            case AccessRequestDecided():
                if (request := self.requests.get(event.request_id)) is not None:
                    self.load_request(
                        replace(
                            request, state=event.decision, decided_at=stored_time(event.decided_at)
                        )
                    )

    # --- building blocks, shared by the fold and the store's loader --------------------

    def load_mailbox(self, mailbox: Mailbox) -> None:
        self.mailboxes[mailbox.mailbox_id] = mailbox
        self._lenses.clear()

    def load_message(self, message: Message) -> None:
        self.messages[message.message_key] = message
        self.threads.setdefault(message.thread_key, set()).add(message.message_key)
        self._touched(message.message_key)

    def load_event(self, event: CalendarEvent) -> None:
        self.events[event.event_key] = event

    def load_share(self, owner: str, record_id: str, share: RecordShare) -> None:
        if share.empty:
            self.shares.pop((owner, record_id), None)
        else:
            self.shares[(owner, record_id)] = share
        self._lenses.clear()

    def load_request(self, request: AccessRequest) -> None:
        self.requests[request.request_id] = request
        self._lenses.clear()

    def _sighted(self, mailbox_id: str, owner: str) -> None:
        """A sighting makes its mailbox known even before MailboxConnected arrives."""
        if mailbox_id not in self.mailboxes:
            self.load_mailbox(Mailbox(mailbox_id, owner))

    def _touched(self, message_key: str) -> None:
        """A message's sightings or links changed: forget the answers that used them."""
        for lens in self._lenses.values():
            lens.levels.pop(message_key, None)
            lens.views.pop(message_key, None)

    def _forget_message(self, message: Message) -> None:
        self._touched(message.message_key)
        del self.messages[message.message_key]
        keys = self.threads.get(message.thread_key)
        if keys is not None:
            keys.discard(message.message_key)
            if not keys:
                del self.threads[message.thread_key]

    def _remove_mailbox(self, mailbox_id: str) -> None:
        """Its mail leaves the workspace, exactly as if it had never synced."""
        self.mailboxes.pop(mailbox_id, None)
        self._lenses.clear()
        for message in [m for m in self.messages.values() if mailbox_id in m.sightings]:
            del message.sightings[mailbox_id]
            if not message.sightings:
                self._forget_message(message)
        for event in [e for e in self.events.values() if mailbox_id in e.sightings]:
            del event.sightings[mailbox_id]
            if not event.sightings:
                del self.events[event.event_key]
        self.email_links.drop_mailbox(mailbox_id)
        self.calendar_links.drop_mailbox(mailbox_id)

    # --- queries ------------------------------------------------------------------------

    def lens(self, viewer: str) -> Lens:
        found = self._lenses.get(viewer)
        if found is None:
            found = self._lenses[viewer] = self._make_lens(viewer)
        return found

    def _make_lens(self, viewer: str) -> Lens:
        granted: dict[str, list[tuple[str, str]]] = {}
        for (owner, record_id), share in self.shares.items():
            if owner != viewer and share.includes(viewer):
                granted.setdefault(owner, []).append(("record", record_id))
        pending: list[tuple[str, str]] = []
        for request in self.requests.values():
            if request.requester_member_id != viewer:
                continue
            target = (request.target_kind, request.target_key)
            if request.state == "approved":
                granted.setdefault(request.owner_member_id, []).append(target)
            elif request.state == "pending":
                pending.append(target)
        return Lens(
            viewer=viewer,
            mailbox_levels={m: box.level_for(viewer) for m, box in self.mailboxes.items()},
            granted_by_owner={owner: targets(named) for owner, named in granted.items()},
            pending=targets(pending),
        )

    def message_level(self, viewer: str, message_key: str) -> Level:
        return self._level(self.lens(viewer), message_key)

    def levels(self, viewer: str, message_keys: Iterable[str]) -> list[Level]:
        lens = self.lens(viewer)
        known = lens.levels
        return [known[key] if key in known else self._level(lens, key) for key in message_keys]

    def _level(self, lens: Lens, message_key: str) -> Level:
        message = self.messages.get(message_key)
        if message is None:
            return Level.NONE  # not remembered: probing unknown keys must not grow memory
        level = lens.message_level(message, self.email_links.via.get(message_key))
        if len(lens.levels) >= MAX_REMEMBERED:
            lens.levels.clear()
        lens.levels[message_key] = level
        return level

    def email(self, viewer: str, message_key: str) -> EmailView | None:
        message = self.messages.get(message_key)
        if message is None:
            return None
        return self._email_view(self.lens(viewer), message)

    def _email_view(self, lens: Lens, message: Message) -> EmailView | None:
        key = message.message_key
        if key in lens.views:
            return lens.views[key]
        via = self.email_links.records_via(key)
        level = self._level(lens, key)
        view = email_view(message, level, access_requested=lens.has_requested(message, via))
        if len(lens.views) >= MAX_REMEMBERED:
            lens.views.clear()
        lens.views[key] = view
        return view

    def full_copy(self, viewer: str, message_key: str) -> str | None:
        """The mailbox whose copy of the content the viewer may read, None below FULL."""
        message = self.messages.get(message_key)
        if message is None:
            return None
        return self.lens(viewer).full_copy(message, self.email_links.via.get(message_key))

    def live_record(self, record_id: str) -> str | None:
        """The record, or the one it was merged into; None if there is none."""
        for _ in range(MAX_MERGE_HOPS):
            entry = self.records.get(record_id)
            if entry is None:
                return None
            if entry.merged_into is None:
                return record_id if entry.kind is not None else None
            record_id = entry.merged_into
        return None

    def record_emails(
        self, viewer: str, record_id: str, after: Position | None, limit: int
    ) -> list[tuple[Position, EmailView]]:
        """Up to `limit` emails of the record the viewer may see, newest first, after
        `after`."""
        found: list[tuple[Position, EmailView]] = []
        for at, view in self._visible(viewer, self.email_links, record_id, after):
            assert isinstance(view, EmailView)
            found.append((at, view))
            if len(found) >= limit:
                break
        return found

    def record_activity(
        self, viewer: str, record_id: str, after: Position | None, limit: int
    ) -> list[tuple[Position, EmailView | CalendarView]]:
        """Emails and meetings of the record, newest first, merged in time order."""
        emails = self._visible(viewer, self.email_links, record_id, after)
        meetings = self._visible(viewer, self.calendar_links, record_id, after)
        found: list[tuple[Position, EmailView | CalendarView]] = []
        for item in merge(emails, meetings, key=lambda pair: pair[0]):
            found.append(item)
            if len(found) >= limit:
                break
        return found

    def _visible(
        self, viewer: str, links: Links, record_id: str, after: Position | None
    ) -> Iterator[tuple[Position, EmailView | CalendarView]]:
        lens = self.lens(viewer)
        positions = links.positions(record_id)
        start = bisect_right(positions, after) if after is not None else 0
        for at in positions[start:]:
            key = at[2]
            view: EmailView | CalendarView | None
            if links.kind == EMAIL:
                message = self.messages.get(key)
                view = self._email_view(lens, message) if message is not None else None
            else:
                event = self.events.get(key)
                view = calendar_view(event, lens.event_level(event)) if event else None
            if view is not None:
                yield at, view

    def has_mail_of_record(self, owner: str, record_id: str) -> bool:
        """Whether `owner` synced an email that their own resolution linked to the record."""
        for key in self.email_links.of_record.get(record_id, {}):
            message = self.messages.get(key)
            if message is None:
                continue
            for mailbox_id, records in self.email_links.via.get(key, {}).items():
                if record_id in records and message.sightings.get(mailbox_id) == owner:
                    return True
        return False

    def share_of(self, owner: str, record_id: str) -> RecordShare:
        return self.shares.get((owner, record_id), RecordShare())

    def requests_of(self, member: str, *, incoming: bool, include_decided: bool):
        """Requests for the member's mail (incoming) or by the member, newest first."""
        found = [
            r
            for r in self.requests.values()
            if (r.owner_member_id if incoming else r.requester_member_id) == member
            and (include_decided or r.state == "pending")
        ]
        return sorted(found, key=lambda r: position(r.requested_at, 0, r.request_id))


def _message(event: MessageSynced) -> Message:
    return Message(
        message_key=event.message_key,
        thread_key=event.thread_key or event.message_key,
        sent_at=stored_time(event.sent_at),
        subject=event.subject,
        participants=tuple(
            Participant(p.role, p.address, p.display_name) for p in event.participants
        ),
    )


def _calendar_event(event: EventSynced, sightings: dict[str, str]) -> CalendarEvent:
    """The latest sync of a meeting describes it (a new time, a changed RSVP)."""
    return CalendarEvent(
        event_key=event.calendar_event_key,
        title=event.title,
        starts_at=stored_time(event.starts_at),
        ends_at=stored_time(event.ends_at),
        all_day=event.all_day,
        organizer=event.organizer,
        attendees=tuple(Attendee(a.address, a.display_name, a.rsvp) for a in event.attendees),
        sightings=dict(sightings),
    )


def _request(event: AccessRequested) -> AccessRequest:
    return AccessRequest(
        request_id=event.request_id,
        requester_member_id=event.requester_member_id,
        owner_member_id=event.owner_member_id,
        target_kind=event.target_kind,
        target_key=event.target_key,
        note=event.note,
        requested_at=stored_time(event.requested_at),
    )
