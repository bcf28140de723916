"""A sighting: one message as found in one mailbox, turned into the MessageSynced fact."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from commsintel.contracts import ids
from commsintel.contracts.events import (
    MailboxConnected,
    MessageParticipant,
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


def mailbox_connected(mailbox: Mailbox, source: str, connected_at) -> MailboxConnected:
    return MailboxConnected(
        event_id=ids.event_id(mailbox.workspace_id, "MailboxConnected", mailbox.mailbox_id),
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
