"""What ingest's service layer needs from the outside world, as Protocols. The MongoDB
stores in adapters/ implement them; the intake is written against these. (The mailbox
commands, sending and the sync supervisor still take the MongoDB stores themselves:
their ports follow once the IMAP work on them has landed.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from commsintel.contracts.events import Event
from commsintel.ingest.domain.content import MessageContent
from commsintel.ingest.domain.sightings import Mailbox, StoredSighting

Clock = Callable[[], datetime]


class Publisher(Protocol):
    async def publish(self, events: Sequence[Event]) -> int: ...


class Sightings(Protocol):
    """Which messages each mailbox synced, hid (blocklist) or showed, and the terms of its
    threads (the addresses and domains a blocklist entry can match)."""

    async def already_synced(self, mailbox_id: str, message_keys: Iterable[str]) -> set[str]: ...

    async def record_sightings(
        self, mailbox: Mailbox, sightings: Iterable[dict[str, Any]]
    ) -> None: ...

    async def visible_sightings(
        self, mailbox_id: str, thread_keys: Iterable[str]
    ) -> list[StoredSighting]: ...

    async def hidden_sightings(
        self, mailbox_id: str, thread_keys: Iterable[str]
    ) -> list[StoredSighting]: ...

    async def mark_hidden(
        self, mailbox_id: str, message_keys: Iterable[str], reason: str
    ) -> None: ...

    async def mark_shown(self, mailbox_id: str, message_keys: Iterable[str]) -> None: ...

    async def thread_terms(
        self, mailbox_id: str, thread_keys: Iterable[str]
    ) -> dict[str, frozenset[str]]: ...

    async def add_thread_terms(
        self, mailbox: Mailbox, terms: Mapping[str, frozenset[str]]
    ) -> None: ...

    async def threads_touching(
        self, mailbox_id: str, values: Iterable[str]
    ) -> dict[str, frozenset[str]]: ...


class Contents(Protocol):
    """Bodies and attachments, sealed with the mailbox's key."""

    async def save(
        self,
        workspace_id: str,
        mailbox_id: str,
        contents: Sequence[tuple[str, MessageContent]],
    ) -> None: ...
