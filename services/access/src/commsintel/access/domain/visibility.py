"""What a member may see of a message (DESIGN.md section 1, "Privacy and sharing").

Levels: NONE < METADATA (participants, timestamps) < SUBJECT (+ subject) < FULL (+ body).
The owner of a mailbox sees FULL of its mail; everyone else in the workspace gets the
mailbox's sharing level (default METADATA). A message synced by several mailboxes gets
the highest level any of them gives the viewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum


class Level(IntEnum):
    NONE = 1
    METADATA = 2
    SUBJECT = 3
    FULL = 4


DEFAULT_SHARING_LEVEL = Level.METADATA


@dataclass(frozen=True, slots=True)
class Sighting:
    mailbox_id: str
    owner_member_id: str
    sharing_level: Level


@dataclass(frozen=True, slots=True)
class Participant:
    role: str
    address: str
    display_name: str


@dataclass(frozen=True, slots=True)
class StoredMessage:
    message_key: str
    sent_at: datetime
    subject: str
    participants: tuple[Participant, ...]
    sightings: tuple[Sighting, ...]


@dataclass(frozen=True, slots=True)
class EmailView:
    """A message as one viewer may see it; `subject` is None below SUBJECT."""

    message_key: str
    level: Level
    sent_at: datetime
    participants: tuple[Participant, ...]
    subject: str | None
    can_request_access: bool


def effective_level(viewer_member_id: str, sightings: Iterable[Sighting]) -> Level:
    level = Level.NONE
    for sighting in sightings:
        given = (
            Level.FULL if sighting.owner_member_id == viewer_member_id else sighting.sharing_level
        )
        level = max(level, given)
    return level


def view_for(viewer_member_id: str, message: StoredMessage) -> EmailView | None:
    """None when the viewer may not see the message at all."""
    level = effective_level(viewer_member_id, message.sightings)
    if level is Level.NONE:
        return None
    return EmailView(
        message_key=message.message_key,
        level=level,
        sent_at=message.sent_at,
        participants=message.participants,
        subject=message.subject if level >= Level.SUBJECT else None,
        can_request_access=level < Level.FULL,
    )
