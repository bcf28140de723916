"""The workspace as identity-resolution sees it: members, own domains, and the Enhanced
record creation setting. Commands check the rules and return events; `apply_setting`
folds an event into the settings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

from commsintel.contracts import ids
from commsintel.contracts.errors import InvalidValue, NotAllowed, UnknownItem
from commsintel.contracts.events import (
    EnhancedRecordCreationChanged,
    Event,
    MemberAdded,
    MemberRemoved,
    OwnDomainAdded,
    OwnDomainRemoved,
)
from commsintel.identity.domain.addresses import (
    is_free_mail_domain,
    normalize_address,
    registrable_domain,
)

SettingsEvent = (
    MemberAdded | MemberRemoved | OwnDomainAdded | OwnDomainRemoved | EnhancedRecordCreationChanged
)


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    addresses: tuple[str, ...]
    is_admin: bool


@dataclass(frozen=True)
class WorkspaceSettings:
    workspace_id: str
    members: tuple[Member, ...] = ()
    declared_domains: frozenset[str] = frozenset()
    # Owners of connected mailboxes are members even before anyone adds them by hand.
    mailbox_owner_addresses: frozenset[str] = frozenset()
    enhanced_record_creation: bool = True  # Attio's default: ON

    @cached_property
    def member_addresses(self) -> frozenset[str]:
        listed = {a for m in self.members for a in m.addresses}
        return frozenset(listed | self.mailbox_owner_addresses)

    @cached_property
    def own_domains(self) -> frozenset[str]:
        """Declared domains, plus the company domains of members' own addresses."""
        inferred = {registrable_domain(a.rpartition("@")[2]) for a in self.member_addresses}
        return self.declared_domains | {d for d in inferred if d and not is_free_mail_domain(d)}

    def is_internal(self, address: str) -> bool:
        if address in self.member_addresses:
            return True
        return registrable_domain(address.rpartition("@")[2]) in self.own_domains

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.member_id == member_id), None)

    def is_admin(self, member_id: str) -> bool:
        member = self.member(member_id)
        return member is not None and member.is_admin

    @property
    def has_admin(self) -> bool:
        return any(m.is_admin for m in self.members)

    def with_mailbox_owners(self, addresses: tuple[str, ...]) -> WorkspaceSettings:
        normalized = {a for a in map(normalize_address, addresses) if a}
        if normalized <= self.mailbox_owner_addresses:
            return self
        return replace(self, mailbox_owner_addresses=self.mailbox_owner_addresses | normalized)


def apply_setting(settings: WorkspaceSettings, event: Event) -> WorkspaceSettings:
    match event:
        case MemberAdded():
            others = tuple(m for m in settings.members if m.member_id != event.member_id)
            member = Member(event.member_id, event.addresses, event.is_admin)
            members = tuple(sorted((*others, member), key=lambda m: m.member_id))
            return replace(settings, members=members)
        case MemberRemoved():
            kept = tuple(m for m in settings.members if m.member_id != event.member_id)
            return replace(settings, members=kept)
        case OwnDomainAdded():
            return replace(settings, declared_domains=settings.declared_domains | {event.domain})
        case OwnDomainRemoved():
            return replace(settings, declared_domains=settings.declared_domains - {event.domain})
        case EnhancedRecordCreationChanged():
            return replace(settings, enhanced_record_creation=event.enabled)
    return settings


# --- commands ---------------------------------------------------------------------------


def check_admin(settings: WorkspaceSettings, caller: str) -> None:
    if not settings.is_admin(caller):
        raise NotAllowed("only a workspace admin may change workspace settings")


def add_member(
    settings: WorkspaceSettings,
    *,
    caller: str,
    member_id: str,
    addresses: list[str],
    is_admin: bool,
    at: datetime,
    by_operator: bool = False,
) -> MemberAdded:
    # Only admins add members. A workspace's first admin comes from the deployment's
    # operator, never from whoever asks first (docs/decisions/0021); the operator adds
    # admins only, the admins add everyone else.
    if by_operator:
        if not is_admin:
            raise InvalidValue("an operator adds admins only; an admin adds the members")
    else:
        check_admin(settings, caller)
    if not member_id.strip():
        raise InvalidValue("member_id is required")
    normalized = []
    for address in addresses:
        clean = normalize_address(address)
        if clean is None:
            raise InvalidValue(f"{address!r} is not an email address")
        normalized.append(clean)
    if not normalized:
        raise InvalidValue("a member needs at least one address")
    admins = {m.member_id for m in settings.members if m.is_admin}
    if not is_admin and admins == {member_id}:
        raise InvalidValue("the last admin cannot stop being an admin")
    return MemberAdded(
        event_id=ids.event_id(settings.workspace_id, "MemberAdded", member_id, at.isoformat()),
        workspace_id=settings.workspace_id,
        member_id=member_id,
        addresses=tuple(dict.fromkeys(normalized)),
        is_admin=is_admin,
        added_by=caller,
        added_at=at,
    )


def remove_member(
    settings: WorkspaceSettings, *, caller: str, member_id: str, at: datetime
) -> MemberRemoved:
    check_admin(settings, caller)
    if settings.member(member_id) is None:
        raise UnknownItem(f"member {member_id} not found")
    if member_id == caller and sum(m.is_admin for m in settings.members) == 1:
        raise InvalidValue("the last admin cannot remove themself")
    return MemberRemoved(
        event_id=ids.event_id(settings.workspace_id, "MemberRemoved", member_id, at.isoformat()),
        workspace_id=settings.workspace_id,
        member_id=member_id,
        removed_by=caller,
        removed_at=at,
    )


def own_domain_of(domain: str) -> str:
    registrable = registrable_domain(domain.strip().lower().rstrip("."))
    if registrable is None:
        raise InvalidValue(f"{domain!r} is not a registrable domain")
    if is_free_mail_domain(registrable):
        raise InvalidValue(f"{registrable} is a free mail provider, not a workspace domain")
    return registrable


def add_own_domain(
    settings: WorkspaceSettings, *, caller: str, domain: str, at: datetime
) -> OwnDomainAdded:
    check_admin(settings, caller)
    registrable = own_domain_of(domain)
    return OwnDomainAdded(
        event_id=ids.event_id(settings.workspace_id, "OwnDomainAdded", registrable, at.isoformat()),
        workspace_id=settings.workspace_id,
        domain=registrable,
        added_by=caller,
        added_at=at,
    )


def remove_own_domain(
    settings: WorkspaceSettings, *, caller: str, domain: str, at: datetime
) -> OwnDomainRemoved:
    check_admin(settings, caller)
    registrable = own_domain_of(domain)
    if registrable not in settings.declared_domains:
        raise UnknownItem(f"{registrable} is not a declared workspace domain")
    return OwnDomainRemoved(
        event_id=ids.event_id(
            settings.workspace_id, "OwnDomainRemoved", registrable, at.isoformat()
        ),
        workspace_id=settings.workspace_id,
        domain=registrable,
        removed_by=caller,
        removed_at=at,
    )


def set_enhanced_record_creation(
    settings: WorkspaceSettings, *, caller: str, enabled: bool, at: datetime
) -> EnhancedRecordCreationChanged:
    check_admin(settings, caller)
    return EnhancedRecordCreationChanged(
        event_id=ids.event_id(
            settings.workspace_id, "EnhancedRecordCreationChanged", str(enabled), at.isoformat()
        ),
        workspace_id=settings.workspace_id,
        enabled=enabled,
        changed_by=caller,
        changed_at=at,
    )
