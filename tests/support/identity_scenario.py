"""Input events for a workspace, built the way ingest and the workspace API send them, and
a reader of what identity-resolution published. For tests and benchmarks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from commsintel.contracts import ids
from commsintel.contracts.events import (
    Event,
    InteractionResolved,
    MessageParticipant,
    MessageSynced,
    PeopleMerged,
    PersonCreated,
    PersonLinkedToCompany,
    PersonUnmerged,
    SenderSignature,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Scenario:
    workspace_id: str = "ws"
    member_id: str = "alice"
    owner: str = "alice@ours.com"
    mailbox_id: str = "mb-alice"
    _counter: itertools.count = field(default_factory=itertools.count)

    def _message(self, direction, sender, recipients, *, names, key, at, signature, automated):
        number = next(self._counter)
        key = key or f"m{number}@{self.workspace_id}"
        participants = [
            MessageParticipant(role="from", address=sender, display_name=names.get(sender, ""))
        ]
        participants += [
            MessageParticipant(role=role, address=a, display_name=names.get(a, ""))
            for role, a in recipients
        ]
        return MessageSynced(
            event_id=f"{self.mailbox_id}:{key}",
            workspace_id=self.workspace_id,
            mailbox_id=self.mailbox_id,
            member_id=self.member_id,
            mailbox_owner_addresses=(self.owner,),
            message_key=key,
            thread_key=key,
            subject="",
            sent_at=at or START + timedelta(hours=number),
            direction=direction,
            participants=tuple(participants),
            automated_reasons=tuple(automated),
            sender_signature=signature,
        )

    def sent(self, *to: str, cc=(), bcc=(), names=None, key=None, at=None, automated=()):
        recipients = [("to", a) for a in to] + [("cc", a) for a in cc] + [("bcc", a) for a in bcc]
        return self._message(
            "sent",
            self.owner,
            recipients,
            names=names or {},
            key=key,
            at=at,
            signature=None,
            automated=automated,
        )

    def received(
        self, sender: str, *, cc=(), names=None, key=None, at=None, signature=None, automated=()
    ):
        recipients = [("to", self.owner)] + [("cc", a) for a in cc]
        return self._message(
            "received",
            sender,
            recipients,
            names=names or {},
            key=key,
            at=at,
            signature=signature,
            automated=automated,
        )

    @staticmethod
    def signature(name: str, *other_addresses: str, **details) -> SenderSignature:
        return SenderSignature(name=name, email_addresses=other_addresses, **details)


def workspace_where_survivor_is(survivor_address: str, other_address: str) -> str:
    """A workspace id in which a merge of these two addresses' records keeps the first:
    person ids derive from workspace and address, and the smaller id survives."""
    return next(
        workspace
        for workspace in (f"ws-{n}" for n in range(1000))
        if ids.person_id(workspace, survivor_address) < ids.person_id(workspace, other_address)
    )


@dataclass
class PublishedLog:
    """Collects what identity published, and reads it the way a consumer would."""

    events: list[Event] = field(default_factory=list)

    async def publish(self, events) -> int:
        batch = list(events)
        self.events.extend(batch)
        return len(batch)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def people(self) -> dict[str, str]:
        """address -> person id, for every person record created."""
        return {e.address: e.person_id for e in self.of(PersonCreated)}

    def links(self) -> dict[str, str]:
        return {e.person_id: e.company_id for e in self.of(PersonLinkedToCompany)}

    def merged_away(self) -> set[str]:
        merged = {e.merged_id for e in self.of(PeopleMerged)}
        return merged - {e.restored_id for e in self.of(PersonUnmerged)}

    def resolutions(self) -> dict[tuple[str, str], InteractionResolved]:
        """The latest record set of each (mailbox, interaction): later ones replace."""
        latest: dict[tuple[str, str], InteractionResolved] = {}
        for event in self.of(InteractionResolved):
            latest[(event.mailbox_id, event.interaction_key)] = event
        return latest

    def records_of(self, interaction_key: str) -> set[str]:
        return {
            r.record_id
            for (_, key), e in self.resolutions().items()
            if key == interaction_key
            for r in e.records
        }
