"""Event models: immutable facts, named in the past tense, versioned in their type.

A breaking change (a field removed, renamed or retyped) is a new class with a new `TYPE`
suffix (`...v2`); v1 stays readable. Adding an optional field is not breaking: readers
ignore fields they do not know (docs/decisions/0007).
Bodies and attachments never appear here: they stay in ingest's content store.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    SOURCE: ClassVar[str]
    # The field whose value is the record's key (the partition it lands on).
    KEY_FIELD: ClassVar[str] = "workspace_id"

    event_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1)


# --- ingest ---------------------------------------------------------------------------


class MailboxConnected(Event):
    TYPE = "commsintel.ingest.MailboxConnected.v1"
    TOPIC = "ingest.mailboxes"
    SOURCE = "commsintel/ingest"

    mailbox_id: str
    member_id: str
    owner_addresses: tuple[str, ...]
    source: Literal["imap", "archive"]
    connected_at: AwareDatetime


class MailboxRemoved(Event):
    TYPE = "commsintel.ingest.MailboxRemoved.v1"
    TOPIC = "ingest.mailboxes"
    SOURCE = "commsintel/ingest"

    mailbox_id: str
    member_id: str
    removed_at: AwareDatetime


class MailboxSettingsChanged(Event):
    """The member changed what ingest does with the mailbox (the state after the change)."""

    TYPE = "commsintel.ingest.MailboxSettingsChanged.v1"
    TOPIC = "ingest.mailboxes"
    SOURCE = "commsintel/ingest"

    mailbox_id: str
    member_id: str
    calendar_enabled: bool
    blocklist: tuple[str, ...]  # normalized addresses and domains
    changed_at: AwareDatetime


class SyncProgressed(Event):
    """Where a mailbox's sync stands: syncing (with progress), idle, or error."""

    TYPE = "commsintel.ingest.SyncProgressed.v1"
    TOPIC = "ingest.mailboxes"
    SOURCE = "commsintel/ingest"

    mailbox_id: str
    member_id: str
    state: Literal["syncing", "idle", "error"]
    messages_done: int = 0
    messages_total: int = 0
    error_kind: Literal[
        "", "auth_failed", "unreachable", "server_error", "reauthorization_needed"
    ] = ""
    error_message: str = ""
    last_success_at: AwareDatetime | None = None
    reported_at: AwareDatetime
    # The ingest instance that syncs the mailbox, and its claim's fence: a newer claim
    # has a higher fence, and no report of an older one follows it (docs/decisions/0027).
    synced_by: str = ""
    sync_fence: int = 0


class SyncRequested(Event):
    """Work for the ingest instance that syncs the mailbox: start it (connected or
    reconnected), sync it now (asked, or its settings changed), or stop it and delete what
    ingest keeps of it (removed). Keyed by mailbox: the instance assigned the mailbox's
    partition of ingest.sync-requests is the one that syncs it (docs/decisions/0027)."""

    TYPE = "commsintel.ingest.SyncRequested.v1"
    TOPIC = "ingest.sync-requests"
    SOURCE = "commsintel/ingest"
    KEY_FIELD = "mailbox_id"

    mailbox_id: str = Field(min_length=1)
    reason: Literal["connected", "reconnected", "sync_now", "settings_changed", "removed"]
    requested_at: AwareDatetime


class MessageParticipant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Literal["from", "sender", "reply_to", "to", "cc", "bcc"]
    address: str
    display_name: str = ""


class SenderSignature(BaseModel):
    """What the sender's own signature block says about them: contact details the sender
    chose to publish, extracted by ingest so that no body ever travels on Kafka."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    phone_numbers: tuple[str, ...] = ()
    linkedin_url: str | None = None
    twitter_url: str | None = None
    github_url: str | None = None
    website_domain: str | None = None
    email_addresses: tuple[str, ...] = ()  # other addresses the sender gives for themself


class MessageSynced(Event):
    """One sighting of a message in one mailbox. The same message in two mailboxes is
    two MessageSynced events with the same `message_key`."""

    TYPE = "commsintel.ingest.MessageSynced.v1"
    TOPIC = "ingest.messages"
    SOURCE = "commsintel/ingest"

    mailbox_id: str
    member_id: str
    # Carried so consumers know who "we" are without waiting for MailboxConnected.
    mailbox_owner_addresses: tuple[str, ...]
    message_key: str  # workspace-wide identity of the message (Message-ID, else content hash)
    thread_key: str
    subject: str
    sent_at: AwareDatetime
    direction: Literal["sent", "received"]
    participants: tuple[MessageParticipant, ...]
    automated_reasons: tuple[str, ...] = ()
    attachment_count: int = 0
    sender_signature: SenderSignature | None = None


class MessageRetracted(Event):
    """A sighting that must no longer count: hidden by a blocklist entry, or deleted."""

    TYPE = "commsintel.ingest.MessageRetracted.v1"
    TOPIC = "ingest.messages"
    SOURCE = "commsintel/ingest"

    mailbox_id: str
    member_id: str
    message_key: str
    reason: str
    retracted_at: AwareDatetime


class CalendarAttendee(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    address: str
    display_name: str = ""
    rsvp: Literal["accepted", "declined", "tentative", "needs_action"] = "needs_action"


class EventSynced(Event):
    TYPE = "commsintel.ingest.EventSynced.v1"
    TOPIC = "ingest.calendar"
    SOURCE = "commsintel/ingest"

    mailbox_id: str
    member_id: str
    # As on MessageSynced: who "we" are, without waiting for MailboxConnected.
    mailbox_owner_addresses: tuple[str, ...] = ()
    calendar_event_key: str
    title: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    organizer: str
    attendees: tuple[CalendarAttendee, ...]
    # Added in place as optional fields (tolerant readers ignore them; old payloads
    # read with the defaults): the IANA zone the start was given in ("" for UTC or a
    # floating time), whole-day events, and the series an occurrence was expanded from.
    start_timezone: str = ""
    all_day: bool = False
    series_key: str = ""


class EventCancelled(Event):
    TYPE = "commsintel.ingest.EventCancelled.v1"
    TOPIC = "ingest.calendar"
    SOURCE = "commsintel/ingest"

    mailbox_id: str
    member_id: str
    calendar_event_key: str
    cancelled_at: AwareDatetime


# --- identity -------------------------------------------------------------------------


class PersonCreated(Event):
    TYPE = "commsintel.identity.PersonCreated.v1"
    TOPIC = "identity.records"
    SOURCE = "commsintel/identity-resolution"

    person_id: str
    address: str
    display_name: str
    created_because: str  # the product rule that made this record, in words


class CompanyCreated(Event):
    TYPE = "commsintel.identity.CompanyCreated.v1"
    TOPIC = "identity.records"
    SOURCE = "commsintel/identity-resolution"

    company_id: str
    domain: str
    name: str


class PersonLinkedToCompany(Event):
    TYPE = "commsintel.identity.PersonLinkedToCompany.v1"
    TOPIC = "identity.records"
    SOURCE = "commsintel/identity-resolution"

    person_id: str
    company_id: str
    domain: str


class InteractionRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    record_id: str
    record_kind: Literal["person", "company"]
    role: str  # the participant role that linked the record (from, to, cc, attendee, ...)


class InteractionResolved(Event):
    """Which records took part in one sighting of a message or calendar event.

    It is the whole set: a later InteractionResolved for the same mailbox and interaction
    replaces the earlier one (the set changes when a person is created from history, or
    when people are merged or unmerged)."""

    TYPE = "commsintel.identity.InteractionResolved.v1"
    TOPIC = "identity.interactions"
    SOURCE = "commsintel/identity-resolution"

    interaction_key: str  # message_key or calendar_event_key
    kind: Literal["email", "calendar"]
    mailbox_id: str
    member_id: str
    occurred_at: AwareDatetime
    direction: Literal["sent", "received"]
    participant_count: int
    records: tuple[InteractionRecord, ...]


class MergeEvidence(BaseModel):
    """Why two people are one: the rule that fired and the facts it saw."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    rule: str
    description: str
    message_key: str | None = None
    addresses: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


class PeopleMerged(Event):
    TYPE = "commsintel.identity.PeopleMerged.v1"
    TOPIC = "identity.records"
    SOURCE = "commsintel/identity-resolution"

    survivor_id: str
    merged_id: str
    automatic: bool
    merged_by: str | None = None  # the member, for a manual merge
    evidence: MergeEvidence
    merged_at: AwareDatetime


class PersonUnmerged(Event):
    """Undoes one PeopleMerged: `restored_id` is a record of its own again."""

    TYPE = "commsintel.identity.PersonUnmerged.v1"
    TOPIC = "identity.records"
    SOURCE = "commsintel/identity-resolution"

    survivor_id: str
    restored_id: str
    unmerged_by: str
    unmerged_at: AwareDatetime


class EnrichmentSource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["display_name", "signature", "domain", "user"]
    message_key: str | None = None
    member_id: str | None = None
    observed_at: AwareDatetime


class RecordEnriched(Event):
    """A value of a record's field and where it came from. A later value of the same
    field replaces it, except that evidence never replaces what a user set."""

    TYPE = "commsintel.identity.RecordEnriched.v1"
    TOPIC = "identity.records"
    SOURCE = "commsintel/identity-resolution"

    record_id: str
    record_kind: Literal["person", "company"]
    field: Literal[
        "name",
        "job_title",
        "phone_numbers",
        "linkedin_url",
        "twitter_url",
        "github_url",
        "company_name",
        "domains",
        "description",
    ]
    value: str | tuple[str, ...]
    source: EnrichmentSource


# --- workspace ------------------------------------------------------------------------


class MemberAdded(Event):
    TYPE = "commsintel.workspace.MemberAdded.v1"
    TOPIC = "workspace.settings"
    SOURCE = "commsintel/identity-resolution"

    member_id: str
    addresses: tuple[str, ...]
    is_admin: bool
    added_by: str
    added_at: AwareDatetime


class MemberRemoved(Event):
    TYPE = "commsintel.workspace.MemberRemoved.v1"
    TOPIC = "workspace.settings"
    SOURCE = "commsintel/identity-resolution"

    member_id: str
    removed_by: str
    removed_at: AwareDatetime


class OwnDomainAdded(Event):
    TYPE = "commsintel.workspace.OwnDomainAdded.v1"
    TOPIC = "workspace.settings"
    SOURCE = "commsintel/identity-resolution"

    domain: str
    added_by: str
    added_at: AwareDatetime


class OwnDomainRemoved(Event):
    TYPE = "commsintel.workspace.OwnDomainRemoved.v1"
    TOPIC = "workspace.settings"
    SOURCE = "commsintel/identity-resolution"

    domain: str
    removed_by: str
    removed_at: AwareDatetime


class EnhancedRecordCreationChanged(Event):
    TYPE = "commsintel.workspace.EnhancedRecordCreationChanged.v1"
    TOPIC = "workspace.settings"
    SOURCE = "commsintel/identity-resolution"

    enabled: bool
    changed_by: str
    changed_at: AwareDatetime


# --- access ---------------------------------------------------------------------------
# Commands of the mailbox owners and members, as facts on `access.grants`. Access applies
# them to its projections; every grant is FULL (body and attachments) of the owner's own
# mail, and none outlives the mail it covers.


class MailboxSharingLevelChanged(Event):
    """The owner set what everyone else in the workspace sees of a mailbox's mail."""

    TYPE = "commsintel.access.MailboxSharingLevelChanged.v1"
    TOPIC = "access.grants"
    SOURCE = "commsintel/access"

    mailbox_id: str
    owner_member_id: str
    level: Literal["metadata", "subject", "full"]
    changed_at: AwareDatetime


class MailboxAccessGranted(Event):
    """The owner gave one member FULL access to a mailbox's mail."""

    TYPE = "commsintel.access.MailboxAccessGranted.v1"
    TOPIC = "access.grants"
    SOURCE = "commsintel/access"

    mailbox_id: str
    owner_member_id: str
    member_id: str
    changed_at: AwareDatetime


class MailboxAccessRevoked(Event):
    """The owner took back one member's FULL access to a mailbox's mail."""

    TYPE = "commsintel.access.MailboxAccessRevoked.v1"
    TOPIC = "access.grants"
    SOURCE = "commsintel/access"

    mailbox_id: str
    owner_member_id: str
    member_id: str
    changed_at: AwareDatetime


class RecordEmailsShared(Event):
    """The owner's emails with a record ("Manage access"), in full, for the whole workspace
    or for particular members (added to whatever was shared before)."""

    TYPE = "commsintel.access.RecordEmailsShared.v1"
    TOPIC = "access.grants"
    SOURCE = "commsintel/access"

    record_id: str
    owner_member_id: str
    whole_workspace: bool = False
    member_ids: tuple[str, ...] = ()
    changed_at: AwareDatetime


class RecordEmailsUnshared(Event):
    """The owner took back a share of their emails with a record (the audiences named)."""

    TYPE = "commsintel.access.RecordEmailsUnshared.v1"
    TOPIC = "access.grants"
    SOURCE = "commsintel/access"

    record_id: str
    owner_member_id: str
    whole_workspace: bool = False
    member_ids: tuple[str, ...] = ()
    changed_at: AwareDatetime


class AccessRequested(Event):
    """A member asked one owner for FULL access to a message, a thread or a record's
    emails in that owner's mail."""

    TYPE = "commsintel.access.AccessRequested.v1"
    TOPIC = "access.grants"
    SOURCE = "commsintel/access"

    request_id: str
    requester_member_id: str
    owner_member_id: str
    target_kind: Literal["message", "thread", "record"]
    target_key: str  # message_key, thread_key or record_id
    note: str = ""
    requested_at: AwareDatetime


class AccessRequestDecided(Event):
    """The owner approved or declined a request; a later decision replaces an earlier one
    (declining an approved request takes the access back)."""

    TYPE = "commsintel.access.AccessRequestDecided.v1"
    TOPIC = "access.grants"
    SOURCE = "commsintel/access"

    request_id: str
    owner_member_id: str
    requester_member_id: str
    target_kind: Literal["message", "thread", "record"]
    target_key: str
    decision: Literal["approved", "declined"]
    decided_at: AwareDatetime


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        MailboxConnected,
        SyncRequested,
        MailboxRemoved,
        MailboxSettingsChanged,
        SyncProgressed,
        MessageSynced,
        MessageRetracted,
        EventSynced,
        EventCancelled,
        PersonCreated,
        CompanyCreated,
        PersonLinkedToCompany,
        InteractionResolved,
        PeopleMerged,
        PersonUnmerged,
        RecordEnriched,
        MemberAdded,
        MemberRemoved,
        OwnDomainAdded,
        OwnDomainRemoved,
        EnhancedRecordCreationChanged,
        MailboxSharingLevelChanged,
        MailboxAccessGranted,
        MailboxAccessRevoked,
        RecordEmailsShared,
        RecordEmailsUnshared,
        AccessRequested,
        AccessRequestDecided,
    )
}


def event_time(event: Event) -> datetime | None:
    """The business time of an event, when it has one (used for the `ce_time` header)."""
    for name in (
        "sent_at",
        "occurred_at",
        "starts_at",
        "connected_at",
        "removed_at",
        "merged_at",
        "unmerged_at",
        "added_at",
        "changed_at",
        "requested_at",
        "decided_at",
    ):
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            return value
    return None
