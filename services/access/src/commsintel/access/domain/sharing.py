"""Commands on sharing, checked against a workspace's state. Each returns the events that
record it (none when nothing would change); the guards raise the domain errors the gRPC
interceptor turns into status codes. Anything of another workspace is simply not in the
state, so it is NOT_FOUND like anything that does not exist.
"""

from __future__ import annotations

from datetime import datetime

from commsintel.access.domain.state import AccessRequest, AccessState
from commsintel.access.domain.visibility import (
    SETTABLE_SHARING_LEVELS,
    TARGET_KINDS,
    Level,
    Mailbox,
    Message,
)
from commsintel.contracts import ids
from commsintel.contracts.errors import AlreadyKnown, InvalidValue, NotAllowed, UnknownItem
from commsintel.contracts.events import (
    AccessRequestDecided,
    AccessRequested,
    MailboxAccessGranted,
    MailboxAccessRevoked,
    MailboxSharingLevelChanged,
    RecordEmailsShared,
    RecordEmailsUnshared,
)

MAX_NOTE_LENGTH = 500


def set_sharing_level(
    state: AccessState, *, caller: str, mailbox_id: str, level: Level, at: datetime
) -> MailboxSharingLevelChanged | None:
    if level not in SETTABLE_SHARING_LEVELS:
        raise InvalidValue("level must be METADATA, SUBJECT or FULL")
    mailbox = own_mailbox(state, caller, mailbox_id)
    if mailbox.sharing_level is level:
        return None
    return MailboxSharingLevelChanged(
        event_id=_event_id(state, "MailboxSharingLevelChanged", mailbox_id, level.name, at),
        workspace_id=state.workspace_id,
        mailbox_id=mailbox_id,
        owner_member_id=caller,
        level=level.name.lower(),  # type: ignore[arg-type]
        changed_at=at,
    )


def grant_mailbox_access(
    state: AccessState, *, caller: str, mailbox_id: str, member_id: str, at: datetime
) -> MailboxAccessGranted | None:
    member_id = _member(member_id)
    mailbox = own_mailbox(state, caller, mailbox_id)
    if member_id == caller:
        raise InvalidValue("the owner already sees their own mail in full")
    if member_id in mailbox.full_access:
        return None
    return MailboxAccessGranted(
        event_id=_event_id(state, "MailboxAccessGranted", mailbox_id, member_id, at),
        workspace_id=state.workspace_id,
        mailbox_id=mailbox_id,
        owner_member_id=caller,
        member_id=member_id,
        changed_at=at,
    )


def revoke_mailbox_access(
    state: AccessState, *, caller: str, mailbox_id: str, member_id: str, at: datetime
) -> MailboxAccessRevoked | None:
    member_id = _member(member_id)
    mailbox = own_mailbox(state, caller, mailbox_id)
    if member_id not in mailbox.full_access:
        return None
    return MailboxAccessRevoked(
        event_id=_event_id(state, "MailboxAccessRevoked", mailbox_id, member_id, at),
        workspace_id=state.workspace_id,
        mailbox_id=mailbox_id,
        owner_member_id=caller,
        member_id=member_id,
        changed_at=at,
    )


def share_record_emails(
    state: AccessState,
    *,
    caller: str,
    record_id: str,
    whole_workspace: bool,
    member_ids: list[str],
    at: datetime,
) -> RecordEmailsShared | None:
    members = _audience(whole_workspace, member_ids, caller)
    record_id = existing_record(state, record_id)
    if not state.has_mail_of_record(caller, record_id):
        raise NotAllowed(
            "only a member with email of this record can share it; ask its owners for access"
        )
    current = state.share_of(caller, record_id)
    added_whole = whole_workspace and not current.whole_workspace
    added = sorted(members - current.member_ids)
    if not added_whole and not added:
        return None
    return RecordEmailsShared(
        event_id=_event_id(
            state, "RecordEmailsShared", caller, record_id, str(added_whole), *added, at
        ),
        workspace_id=state.workspace_id,
        record_id=record_id,
        owner_member_id=caller,
        whole_workspace=added_whole,
        member_ids=tuple(added),
        changed_at=at,
    )


def unshare_record_emails(
    state: AccessState,
    *,
    caller: str,
    record_id: str,
    whole_workspace: bool,
    member_ids: list[str],
    at: datetime,
) -> RecordEmailsUnshared | None:
    members = _audience(whole_workspace, member_ids, caller)
    record_id = existing_record(state, record_id)
    current = state.share_of(caller, record_id)
    if current.empty and not state.has_mail_of_record(caller, record_id):
        raise NotAllowed("only a member with email of this record can change its sharing")
    removed_whole = whole_workspace and current.whole_workspace
    removed = sorted(members & current.member_ids)
    if not removed_whole and not removed:
        return None
    return RecordEmailsUnshared(
        event_id=_event_id(
            state, "RecordEmailsUnshared", caller, record_id, str(removed_whole), *removed, at
        ),
        workspace_id=state.workspace_id,
        record_id=record_id,
        owner_member_id=caller,
        whole_workspace=removed_whole,
        member_ids=tuple(removed),
        changed_at=at,
    )


def request_access(
    state: AccessState, *, requester: str, kind: str, key: str, note: str, at: datetime
) -> tuple[list[AccessRequested], list[AccessRequest]]:
    """One request per owner whose mail the requester sees less than FULL of: the new
    events, and the requests already pending for the same owner and target."""
    if kind not in TARGET_KINDS or not key.strip():
        raise InvalidValue("a message_key, thread_key or record_id is required")
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidValue(f"note is longer than {MAX_NOTE_LENGTH} characters")
    key, owners = _owners_to_ask(state, requester, kind, key.strip())
    if not owners:
        raise AlreadyKnown("you already see all of it in full")
    new: list[AccessRequested] = []
    pending: list[AccessRequest] = []
    for owner in sorted(owners):
        waiting = next(
            (
                r
                for r in state.requests.values()
                if r.state == "pending"
                and (r.requester_member_id, r.owner_member_id) == (requester, owner)
                and (r.target_kind, r.target_key) == (kind, key)
            ),
            None,
        )
        if waiting is not None:
            pending.append(waiting)
            continue
        request_id = _event_id(state, "AccessRequest", requester, owner, kind, key, at)
        new.append(
            AccessRequested(
                event_id=_event_id(state, "AccessRequested", request_id),
                workspace_id=state.workspace_id,
                request_id=request_id,
                requester_member_id=requester,
                owner_member_id=owner,
                target_kind=kind,  # type: ignore[arg-type]
                target_key=key,
                note=note,
                requested_at=at,
            )
        )
    return new, pending


def decide_access_request(
    state: AccessState, *, caller: str, request_id: str, approve: bool, at: datetime
) -> AccessRequestDecided | None:
    if not request_id.strip():
        raise InvalidValue("request_id is required")
    request = state.requests.get(request_id.strip())
    if request is None:
        raise UnknownItem(f"access request {request_id} not found")
    if request.owner_member_id != caller:
        raise NotAllowed("only the owner of the mail decides on a request for it")
    decision = "approved" if approve else "declined"
    if request.state == decision:
        return None
    return AccessRequestDecided(
        event_id=_event_id(state, "AccessRequestDecided", request.request_id, decision, at),
        workspace_id=state.workspace_id,
        request_id=request.request_id,
        owner_member_id=caller,
        requester_member_id=request.requester_member_id,
        target_kind=request.target_kind,  # type: ignore[arg-type]
        target_key=request.target_key,
        decision=decision,  # type: ignore[arg-type]
        decided_at=at,
    )


def _owners_to_ask(state: AccessState, requester: str, kind: str, key: str) -> tuple[str, set[str]]:
    """The target as stored (a record's live id) and the owners to ask. A target the
    requester cannot see at all is NOT_FOUND, like one that does not exist."""
    lens = state.lens(requester)
    messages: list[Message]
    if kind == "record":
        live = state.live_record(key)
        if live is None:
            raise UnknownItem(f"record {key} not found")
        key = live
        linked = state.email_links.of_record.get(key, {})
        messages = [m for k in sorted(linked) if (m := state.messages.get(k)) is not None]
    else:
        keys = [key] if kind == "message" else sorted(state.threads.get(key, ()))
        messages = [
            m
            for k in keys
            if (m := state.messages.get(k)) is not None
            and state.message_level(requester, k) is not Level.NONE
        ]
        if not messages:
            raise UnknownItem(f"{kind} {key} not found")
    owners: set[str] = set()
    for message in messages:
        via = state.email_links.records_via(message.message_key)
        for mailbox_id, owner in message.sightings.items():
            records = via.get(mailbox_id)
            if kind == "record" and (records is None or key not in records):
                continue  # an approval would not reach this copy
            if owner != requester and (
                lens.sighting_level(message, mailbox_id, owner, records) is not Level.FULL
            ):
                owners.add(owner)
    return key, owners


def own_mailbox(state: AccessState, caller: str, mailbox_id: str) -> Mailbox:
    if not mailbox_id.strip():
        raise InvalidValue("mailbox_id is required")
    mailbox = state.mailboxes.get(mailbox_id.strip())
    if mailbox is None:
        raise UnknownItem(f"mailbox {mailbox_id} not found")
    if mailbox.owner_member_id != caller:
        raise NotAllowed("only the mailbox's owner can change its sharing")
    return mailbox


def existing_record(state: AccessState, record_id: str) -> str:
    if not record_id.strip():
        raise InvalidValue("record_id is required")
    live = state.live_record(record_id.strip())
    if live is None:
        raise UnknownItem(f"record {record_id} not found")
    return live


def _member(member_id: str) -> str:
    if not member_id.strip():
        raise InvalidValue("member_id is required")
    return member_id.strip()


def _audience(whole_workspace: bool, member_ids: list[str], caller: str) -> set[str]:
    members = {m.strip() for m in member_ids}
    if "" in members:
        raise InvalidValue("member_ids must not be empty strings")
    if caller in members:
        raise InvalidValue("you already see your own mail in full")
    if not whole_workspace and not members:
        raise InvalidValue("name the whole workspace or at least one member")
    return members


def _event_id(state: AccessState, kind: str, *parts: str | datetime) -> str:
    text = [p.isoformat() if isinstance(p, datetime) else p for p in parts]
    return ids.event_id(state.workspace_id, kind, *text)
