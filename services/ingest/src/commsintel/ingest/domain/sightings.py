"""A sighting: one message as found in one mailbox, turned into the MessageSynced fact."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from commsintel.contracts import ids
from commsintel.contracts.events import (
    MailboxConnected,
    MessageParticipant,
    MessageRetracted,
    MessageSynced,
    SenderSignature,
)
from commsintel.ingest.domain.parsing import ParsedMessage
from commsintel.ingest.domain.signatures import extract_signature


@dataclass(frozen=True, slots=True)
class Mailbox:
    workspace_id: str
    mailbox_id: str
    member_id: str
    owner_addresses: frozenset[str]


@dataclass(frozen=True, slots=True)
class StoredSighting:
    """A sighting as the store keeps it: its thread, how many times it was retracted
    (each showing again is a new generation, a new event id), and the MessageSynced
    payload it published."""

    message_key: str
    thread_key: str
    generation: int
    event: dict[str, Any] | None


def archive_mailbox(workspace_id: str, member_id: str, owner_address: str) -> Mailbox:
    """An imported archive is a mailbox of its own, identified by member and address,
    so importing the same archive again lands in the same mailbox."""
    address = owner_address.strip().lower()
    return Mailbox(
        workspace_id=workspace_id,
        mailbox_id=ids.mailbox_id(workspace_id, member_id, address),
        member_id=member_id,
        owner_addresses=frozenset({address}),
    )


def mailbox_connected(mailbox: Mailbox, source: str, connected_at: datetime) -> MailboxConnected:
    # The connection time is part of the id: a mailbox removed and connected again is
    # connected anew (the same id would be dropped as a duplicate).
    return MailboxConnected(
        event_id=ids.event_id(
            mailbox.workspace_id,
            "MailboxConnected",
            mailbox.mailbox_id,
            connected_at.isoformat(),
        ),
        workspace_id=mailbox.workspace_id,
        mailbox_id=mailbox.mailbox_id,
        member_id=mailbox.member_id,
        owner_addresses=tuple(sorted(mailbox.owner_addresses)),
        source=source,
        connected_at=connected_at,
    )


def message_synced(mailbox: Mailbox, message: ParsedMessage) -> MessageSynced:
    # The event id names the sighting, so a re-sync republishes the same fact.
    return MessageSynced(
        event_id=ids.event_id(
            mailbox.workspace_id, "MessageSynced", mailbox.mailbox_id, message.message_id
        ),
        workspace_id=mailbox.workspace_id,
        mailbox_id=mailbox.mailbox_id,
        member_id=mailbox.member_id,
        mailbox_owner_addresses=tuple(sorted(mailbox.owner_addresses)),
        message_key=message.message_id,
        thread_key=message.thread_id,
        subject=message.subject,
        sent_at=message.sent_at,
        direction=message.direction,
        participants=tuple(
            MessageParticipant(role=p.role, address=p.address, display_name=p.display_name)
            for p in message.participants
        ),
        automated_reasons=message.automated_reasons,
        attachment_count=len(message.attachments),
        sender_signature=_sender_signature(message),
    )


def message_retracted(
    mailbox: Mailbox, message_key: str, retractions_before: int, reason: str, now: datetime
) -> MessageRetracted:
    """The sighting no longer counts. Its id names which retraction this is, so hiding a
    message a second time (after it was shown again) is a new fact, not a duplicate."""
    return MessageRetracted(
        event_id=ids.event_id(
            mailbox.workspace_id,
            "MessageRetracted",
            mailbox.mailbox_id,
            message_key,
            str(retractions_before + 1),
        ),
        workspace_id=mailbox.workspace_id,
        mailbox_id=mailbox.mailbox_id,
        member_id=mailbox.member_id,
        message_key=message_key,
        reason=reason,
        retracted_at=now,
    )


def message_shown_again(published: MessageSynced, retractions: int) -> MessageSynced:
    """The same sighting published again after `retractions` retractions. A never
    published (hidden from the start) sighting keeps its first id; otherwise the id is
    new, or consumers that saw the first one would drop it as a duplicate."""
    if retractions == 0:
        return published
    event_id = ids.event_id(
        published.workspace_id,
        "MessageSynced",
        published.mailbox_id,
        published.message_key,
        f"shown-again-{retractions}",
    )
    return published.model_copy(update={"event_id": event_id})


def _sender_signature(message: ParsedMessage) -> SenderSignature | None:
    """What the sender's own signature says; bodies stay here, only these facts travel.
    Automated mail is skipped: its footer is a brand's, not a person's."""
    sender = next((p for p in message.participants if p.role == "from"), None)
    if message.automated or sender is None:
        return None
    signature = extract_signature(
        message.text_body, sender_address=sender.address, sender_display_name=sender.display_name
    )
    return SenderSignature(**asdict(signature)) if signature is not None else None
