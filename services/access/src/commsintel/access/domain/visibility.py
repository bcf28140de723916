"""What a member may see of a message or a meeting (DESIGN.md section 1, "Privacy and
sharing"). Pure: facts in, levels and redacted views out.

Levels: NONE < METADATA (participants, timestamps) < SUBJECT (+ subject) < FULL (+ body
and attachments). Through one mailbox that synced a message (a sighting), a viewer gets:
- FULL when the mailbox is theirs;
- FULL when its owner granted them the mailbox, or shared with them (or the whole
  workspace) their emails with a record the message is linked to through that mailbox,
  or approved their request for the message, its thread or such a record;
- otherwise the mailbox's sharing level (METADATA by default).
The viewer's level is the highest any sighting gives; no sighting, no level (NONE). A
sighting hidden by its mailbox's blocklist is no sighting. Meetings follow the mailbox
rules only: record shares and requests cover emails (what "Manage access" names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum


class Level(IntEnum):
    # The numbers are the proto's VisibilityLevel values.
    NONE = 1
    METADATA = 2
    SUBJECT = 3
    FULL = 4


DEFAULT_SHARING_LEVEL = Level.METADATA
SETTABLE_SHARING_LEVELS = (Level.METADATA, Level.SUBJECT, Level.FULL)
TARGET_KINDS = ("message", "thread", "record")


@dataclass(frozen=True, slots=True)
class Participant:
    role: str
    address: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class Attendee:
    address: str
    display_name: str = ""
    rsvp: str = "needs_action"


@dataclass(slots=True)
class Mailbox:
    mailbox_id: str
    owner_member_id: str
    sharing_level: Level = DEFAULT_SHARING_LEVEL
    full_access: frozenset[str] = frozenset()

    def level_for(self, viewer: str) -> Level:
        if viewer == self.owner_member_id or viewer in self.full_access:
            return Level.FULL
        return self.sharing_level


@dataclass(slots=True)
class Message:
    message_key: str
    thread_key: str
    sent_at: datetime
    subject: str
    participants: tuple[Participant, ...]
    sightings: dict[str, str] = field(default_factory=dict)  # mailbox_id -> its owner


@dataclass(slots=True)
class CalendarEvent:
    event_key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    organizer: str
    attendees: tuple[Attendee, ...]
    sightings: dict[str, str] = field(default_factory=dict)  # mailbox_id -> its owner


@dataclass(frozen=True, slots=True)
class Targets:
    """Message keys, thread keys and record ids: what a grant or a request names."""

    messages: frozenset[str] = frozenset()
    threads: frozenset[str] = frozenset()
    records: frozenset[str] = frozenset()

    def cover(self, message: Message, records: frozenset[str] | None) -> bool:
        return (
            message.message_key in self.messages
            or message.thread_key in self.threads
            or bool(records and not self.records.isdisjoint(records))
        )


NOTHING = Targets()


def targets(named: list[tuple[str, str]]) -> Targets:
    """(kind, key) pairs -> Targets."""
    by_kind: dict[str, set[str]] = {kind: set() for kind in TARGET_KINDS}
    for kind, key in named:
        by_kind[kind].add(key)
    return Targets(
        frozenset(by_kind["message"]), frozenset(by_kind["thread"]), frozenset(by_kind["record"])
    )


@dataclass(frozen=True, slots=True)
class Lens:
    """Everything that decides one viewer's levels in one workspace: what each mailbox
    gives them, and, per owner, what that owner granted them in full."""

    viewer: str
    mailbox_levels: Mapping[str, Level]
    granted_by_owner: Mapping[str, Targets]
    pending: Targets = NOTHING  # what the viewer asked for and awaits
    # Answers already worked out, per message key; the state forgets a message's answers
    # whenever its sightings or links change, and drops the whole lens on any change to
    # sharing, grants or requests.
    levels: dict[str, Level] = field(default_factory=dict, compare=False)
    views: dict[str, EmailView | None] = field(default_factory=dict, compare=False)

    def sighting_level(
        self, message: Message, mailbox_id: str, owner: str, records: frozenset[str] | None
    ) -> Level:
        """`records`: the records the message is linked to through this mailbox."""
        if owner == self.viewer:
            return Level.FULL
        level = self.mailbox_levels.get(mailbox_id, DEFAULT_SHARING_LEVEL)
        if level is not Level.FULL:
            granted = self.granted_by_owner.get(owner)
            if granted is not None and granted.cover(message, records):
                return Level.FULL
        return level

    def message_level(
        self, message: Message, records_via: Mapping[str, frozenset[str]] | None = None
    ) -> Level:
        """`records_via`: mailbox_id -> the records linked to the message through it."""
        best = Level.NONE
        via = records_via or {}
        for mailbox_id, owner in message.sightings.items():
            level = self.sighting_level(message, mailbox_id, owner, via.get(mailbox_id))
            if level > best:
                if level is Level.FULL:
                    return level
                best = level
        return best

    def event_level(self, event: CalendarEvent) -> Level:
        best = Level.NONE
        for mailbox_id, owner in event.sightings.items():
            if owner == self.viewer:
                return Level.FULL
            best = max(best, self.mailbox_levels.get(mailbox_id, DEFAULT_SHARING_LEVEL))
        return best

    def full_copy(
        self, message: Message, records_via: Mapping[str, frozenset[str]] | None = None
    ) -> str | None:
        """The mailbox whose copy of the content the viewer may read: their own first,
        else one that gives them FULL; None below FULL."""
        via = records_via or {}
        mine = sorted(m for m, owner in message.sightings.items() if owner == self.viewer)
        if mine:
            return mine[0]
        for mailbox_id, owner in sorted(message.sightings.items()):
            if self.sighting_level(message, mailbox_id, owner, via.get(mailbox_id)) is Level.FULL:
                return mailbox_id
        return None

    def has_requested(self, message: Message, records_via: Mapping[str, frozenset[str]]) -> bool:
        records = frozenset().union(*records_via.values()) if records_via else None
        return self.pending.cover(message, records)


@dataclass(frozen=True, slots=True)
class EmailView:
    """A message as one viewer may see it; `subject` is None below SUBJECT."""

    message_key: str
    thread_key: str
    level: Level
    sent_at: datetime
    participants: tuple[Participant, ...]
    subject: str | None
    can_request_access: bool
    access_requested: bool


@dataclass(frozen=True, slots=True)
class CalendarView:
    """A meeting as one viewer may see it; `title` is None below SUBJECT."""

    event_key: str
    level: Level
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    organizer: str
    attendees: tuple[Attendee, ...]
    title: str | None


def email_view(message: Message, level: Level, *, access_requested: bool) -> EmailView | None:
    """None when the viewer may not see the message at all."""
    if level is Level.NONE:
        return None
    return EmailView(
        message_key=message.message_key,
        thread_key=message.thread_key,
        level=level,
        sent_at=message.sent_at,
        participants=message.participants,
        subject=message.subject if level >= Level.SUBJECT else None,
        can_request_access=level < Level.FULL,
        access_requested=access_requested and level < Level.FULL,
    )


def calendar_view(event: CalendarEvent, level: Level) -> CalendarView | None:
    if level is Level.NONE:
        return None
    return CalendarView(
        event_key=event.event_key,
        level=level,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        all_day=event.all_day,
        organizer=event.organizer,
        attendees=event.attendees,
        title=event.title if level >= Level.SUBJECT else None,
    )
