"""The slice of one workspace's identity state that a batch works on.

Contacts are every external participant ever seen, record or not, with the evidence the
creation policy needs (their interactions are found through the interactions' addresses);
people and companies are the records. The adapters load a slice, the domain changes it,
the adapters save what changed (`dirty_*`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from commsintel.identity.domain.workspace import WorkspaceSettings


@dataclass(frozen=True, slots=True)
class Claim:
    """Another address's signature said it is also this address's owner."""

    claimant_address: str
    name_key: str
    message_key: str


@dataclass(slots=True)
class Contact:
    address: str
    display_name: str = ""
    reached_by_member: bool = False  # a member emailed them (to/cc/bcc) or invited them
    reached_member: bool = False  # they emailed or invited a member
    person_id: str | None = None  # the record made for this address, once there is one
    claims: list[Claim] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)  # addresses this one's signature named
    # Whether the store holds an earlier version (then its history may lie outside the
    # slice), and whether that stored history has been loaded into the slice.
    known_to_store: bool = field(default=False, compare=False)
    history_loaded: bool = field(default=False, compare=False)

    def evidence(self) -> tuple:
        return (self.display_name, self.reached_by_member, self.reached_member, self.person_id)


@dataclass(frozen=True, slots=True)
class SourcedValue:
    values: tuple[str, ...]
    source: str  # display_name | signature | domain | user
    message_key: str | None
    member_id: str | None
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class MergeRecord:
    survivor_id: str
    merged_id: str
    automatic: bool
    merged_by: str | None
    rule: str
    description: str
    message_key: str | None
    addresses: tuple[str, ...]
    names: tuple[str, ...]
    merged_at: datetime


@dataclass(slots=True)
class Person:
    person_id: str
    address: str
    created_because: str
    company_id: str | None = None
    merged_into: str | None = None
    absorbed: list[str] = field(default_factory=list)  # ids merged into this one, transitively
    never_merge_with: list[str] = field(default_factory=list)
    merges: list[MergeRecord] = field(default_factory=list)
    fields: dict[str, SourcedValue] = field(default_factory=dict)


@dataclass(slots=True)
class Company:
    company_id: str
    domains: list[str]
    fields: dict[str, SourcedValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InteractionFacts:
    """One sighting of a message or calendar event, as identity needs it to resolve."""

    mailbox_id: str
    member_id: str
    key: str
    kind: str  # email | calendar
    at: datetime
    direction: str  # sent | received
    participants: tuple[tuple[str, str], ...]  # (normalized address, role)
    participant_count: int

    @property
    def ref(self) -> str:
        return interaction_ref(self.mailbox_id, self.key)


def interaction_ref(mailbox_id: str, key: str) -> str:
    return f"{mailbox_id}\x1f{key}"


@dataclass
class IdentitySlice:
    settings: WorkspaceSettings
    stored_settings: WorkspaceSettings | None = None
    contacts: dict[str, Contact] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)  # by company id
    interactions: dict[str, InteractionFacts] = field(default_factory=dict)
    refs_by_address: dict[str, set[str]] = field(default_factory=dict)
    domains_loaded: set[str] = field(default_factory=set)
    # The records each interaction was last resolved to: (record_id, kind, role) triples.
    resolved: dict[str, tuple[tuple[str, str, str], ...]] = field(default_factory=dict)
    dirty_resolutions: set[str] = field(default_factory=set)
    dirty_contacts: set[str] = field(default_factory=set)
    dirty_people: set[str] = field(default_factory=set)
    dirty_companies: set[str] = field(default_factory=set)
    new_interactions: set[str] = field(default_factory=set)

    @property
    def workspace_id(self) -> str:
        return self.settings.workspace_id

    def contact(self, address: str) -> Contact:
        found = self.contacts.get(address)
        if found is None:
            found = self.contacts[address] = Contact(address)
            self.dirty_contacts.add(address)
        return found

    def remember(self, facts: InteractionFacts) -> None:
        self.interactions[facts.ref] = facts
        for address, _ in facts.participants:
            self.refs_by_address.setdefault(address, set()).add(facts.ref)

    def root(self, person_id: str) -> str:
        """The record a person's interactions count for: itself, or whom it merged into."""
        seen = set()
        while (parent := self.people[person_id].merged_into) is not None:
            if person_id in seen:  # pragma: no cover - a cycle would be a bug elsewhere
                raise RuntimeError(f"merge cycle at {person_id}")
            seen.add(person_id)
            person_id = parent
        return person_id

    def company_of(self, root_id: str) -> str | None:
        """A merged record's company: its own, else the first of those merged into it.
        Derived, not copied, so an unmerge gives every record its own company back."""
        root = self.people[root_id]
        if root.company_id is not None:
            return root.company_id
        return next(
            (c for p in root.absorbed if (c := self.people[p].company_id) is not None), None
        )

    def listed_company_of(self, person_id: str) -> str | None:
        """The company a live record is listed under (`company_of`); none for a person
        merged into another record."""
        if self.people[person_id].merged_into is not None:
            return None
        return self.company_of(person_id)

    def company_with_domain(self, domain: str) -> Company | None:
        return next((c for c in self.companies.values() if domain in c.domains), None)
