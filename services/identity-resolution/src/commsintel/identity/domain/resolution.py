"""Who becomes a record, decided from one message at a time.

Rules (enhanced record creation ON, the default):
- a person record for every external address a member sent a message to (to/cc/bcc);
- never a member, an address on the workspace's own domains, or a role/automated address;
- a company for the registrable domain of each person's address, unless free mail;
- a person links to the company of their domain.
Every message yields InteractionResolved naming the records that took part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from commsintel.contracts import ids
from commsintel.contracts.events import (
    CompanyCreated,
    Event,
    InteractionRecord,
    InteractionResolved,
    MessageSynced,
    PersonCreated,
    PersonLinkedToCompany,
)
from commsintel.identity.domain.addresses import (
    company_name_from_domain,
    is_free_mail_domain,
    is_role_address,
    normalize_address,
    registrable_domain,
)

RECIPIENT_ROLES = ("to", "cc", "bcc")


@dataclass(frozen=True, slots=True)
class WorkspaceDirectory:
    """Who "we" are: members' addresses and the workspace's own domains."""

    member_addresses: frozenset[str] = frozenset()
    own_domains: frozenset[str] = frozenset()

    def with_members(self, addresses: tuple[str, ...]) -> WorkspaceDirectory:
        normalized = {a for a in map(normalize_address, addresses) if a}
        if normalized <= self.member_addresses:
            return self
        domains = {registrable_domain(a.rpartition("@")[2]) for a in normalized}
        own = {d for d in domains if d and not is_free_mail_domain(d)}
        return WorkspaceDirectory(self.member_addresses | normalized, self.own_domains | own)

    def is_internal(self, address: str) -> bool:
        return address in self.member_addresses or (
            registrable_domain(address.rpartition("@")[2]) in self.own_domains
        )


@dataclass(frozen=True, slots=True)
class KnownPerson:
    person_id: str
    company_id: str | None


@dataclass(slots=True)
class RecordBook:
    """The records of one workspace that a batch touches, keyed by normalized address
    (people) and registrable domain (companies)."""

    people: dict[str, KnownPerson] = field(default_factory=dict)
    companies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewPerson:
    person_id: str
    address: str
    display_name: str
    company_id: str | None


@dataclass(frozen=True, slots=True)
class NewCompany:
    company_id: str
    domain: str
    name: str


@dataclass(slots=True)
class Resolution:
    events: list[Event] = field(default_factory=list)
    new_people: list[NewPerson] = field(default_factory=list)
    new_companies: list[NewCompany] = field(default_factory=list)


def resolve_message(
    message: MessageSynced, directory: WorkspaceDirectory, book: RecordBook
) -> tuple[Resolution, WorkspaceDirectory]:
    """Apply one sighting: returns the events it causes and the updated directory; the
    record book is updated in place with any record created."""
    directory = directory.with_members(message.mailbox_owner_addresses)
    resolution = Resolution()
    if message.direction == "sent" and not message.automated_reasons:
        for participant in message.participants:
            if participant.role in RECIPIENT_ROLES:
                _create_person_if_allowed(
                    message,
                    participant.address,
                    participant.display_name,
                    directory,
                    book,
                    resolution,
                )
    resolution.events.append(_interaction(message, book))
    return resolution, directory


def _create_person_if_allowed(
    message: MessageSynced,
    raw_address: str,
    display_name: str,
    directory: WorkspaceDirectory,
    book: RecordBook,
    resolution: Resolution,
) -> None:
    address = normalize_address(raw_address)
    if address is None or address in book.people:
        return
    if directory.is_internal(address) or is_role_address(address):
        return
    workspace = message.workspace_id
    company_id = _company_for(address, message, book, resolution)
    person = NewPerson(ids.person_id(workspace, address), address, display_name, company_id)
    book.people[address] = KnownPerson(person.person_id, company_id)
    resolution.new_people.append(person)
    resolution.events.append(
        PersonCreated(
            event_id=ids.event_id(workspace, "PersonCreated", person.person_id),
            workspace_id=workspace,
            person_id=person.person_id,
            address=address,
            display_name=display_name,
            created_because=(
                f"member {message.member_id} emailed them (message {message.message_key})"
            ),
        )
    )
    if company_id is not None:
        resolution.events.append(
            PersonLinkedToCompany(
                event_id=ids.event_id(workspace, "PersonLinked", person.person_id, company_id),
                workspace_id=workspace,
                person_id=person.person_id,
                company_id=company_id,
                domain=registrable_domain(address.rpartition("@")[2]) or "",
            )
        )


def _company_for(
    address: str, message: MessageSynced, book: RecordBook, resolution: Resolution
) -> str | None:
    domain = registrable_domain(address.rpartition("@")[2])
    if domain is None or is_free_mail_domain(domain):
        return None
    if domain in book.companies:
        return book.companies[domain]
    workspace = message.workspace_id
    company = NewCompany(
        ids.company_id(workspace, domain), domain, company_name_from_domain(domain)
    )
    book.companies[domain] = company.company_id
    resolution.new_companies.append(company)
    resolution.events.append(
        CompanyCreated(
            event_id=ids.event_id(workspace, "CompanyCreated", company.company_id),
            workspace_id=workspace,
            company_id=company.company_id,
            domain=domain,
            name=company.name,
        )
    )
    return company.company_id


def _interaction(message: MessageSynced, book: RecordBook) -> InteractionResolved:
    records: dict[str, InteractionRecord] = {}
    for participant in message.participants:
        address = normalize_address(participant.address)
        known = book.people.get(address) if address else None
        if known is None:
            continue
        records.setdefault(
            known.person_id,
            InteractionRecord(
                record_id=known.person_id, record_kind="person", role=participant.role
            ),
        )
        if known.company_id is not None:
            records.setdefault(
                known.company_id,
                InteractionRecord(
                    record_id=known.company_id, record_kind="company", role=participant.role
                ),
            )
    return InteractionResolved(
        event_id=ids.event_id(message.workspace_id, "InteractionResolved", message.event_id),
        workspace_id=message.workspace_id,
        interaction_key=message.message_key,
        kind="email",
        mailbox_id=message.mailbox_id,
        member_id=message.member_id,
        occurred_at=message.sent_at,
        direction=message.direction,
        participant_count=len({p.address for p in message.participants}),
        records=tuple(records.values()),
    )


def participant_addresses(message: MessageSynced) -> set[str]:
    return {a for a in (normalize_address(p.address) for p in message.participants) if a}
