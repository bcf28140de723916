"""Who becomes a record, and which records took part in each interaction.

Every external participant is tracked as a contact with the evidence the policy needs;
a person record materializes once the policy allows it, with its whole history (its past
interactions are resolved again). The policy (Attio's "Enhanced record creation"):
- ON (default): a person once a member has emailed them (to/cc/bcc) or invited them;
- OFF: also once they have emailed or invited a member. Switching OFF creates the
  now-allowed records from history; switching ON deletes nothing.
- never: workspace members, addresses on the workspace's own domains, role and automated
  senders; automated mail (lists, bulk, noreply) is no evidence at all.
A company for the registrable domain of each person's address, unless free mail; the
person links to the company holding that domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from commsintel.contracts import ids
from commsintel.contracts.events import (
    CompanyCreated,
    EnhancedRecordCreationChanged,
    EnrichmentSource,
    Event,
    EventSynced,
    InteractionRecord,
    InteractionResolved,
    MergeEvidence,
    MessageSynced,
    PersonCreated,
    PersonLinkedToCompany,
    RecordEnriched,
)
from commsintel.identity.domain.addresses import (
    company_name_from_domain,
    is_free_mail_domain,
    is_role_address,
    normalize_address,
    registrable_domain,
)
from commsintel.identity.domain.enrichment import from_signature, propose
from commsintel.identity.domain.merging import (
    SIGNATURE_NAMES_OTHER_ADDRESS,
    full_name_key,
    may_merge,
    merge,
)
from commsintel.identity.domain.model import (
    Claim,
    Company,
    Contact,
    IdentitySlice,
    InteractionFacts,
    Person,
    SourcedValue,
    interaction_ref,
)

RECIPIENT_ROLES = frozenset({"to", "cc", "bcc"})


@dataclass
class Outcome:
    events: list[Event] = field(default_factory=list)
    # People whose interactions must be resolved again (their history, after a creation,
    # a merge or an unmerge), each with the id of the event that caused it.
    reresolve_people: dict[str, str] = field(default_factory=dict)

    def extend(self, other: Outcome) -> None:
        self.events += other.events
        self.reresolve_people.update(other.reresolve_people)


# --- facts ------------------------------------------------------------------------------


def message_facts(message: MessageSynced) -> InteractionFacts:
    return InteractionFacts(
        mailbox_id=message.mailbox_id,
        member_id=message.member_id,
        key=message.message_key,
        kind="email",
        at=message.sent_at,
        direction=message.direction,
        participants=_normalized((p.address, p.role) for p in message.participants),
        participant_count=len({p.address.lower() for p in message.participants}),
    )


def calendar_facts(event: EventSynced, member_addresses: frozenset[str]) -> InteractionFacts:
    organizer = normalize_address(event.organizer)
    pairs = [(event.organizer, "organizer")]
    # A declined invitation is still an invitation (record creation) but no meeting
    # (intelligence weighs the "declined" role at nothing).
    pairs += [
        (a.address, "declined" if a.rsvp == "declined" else "attendee") for a in event.attendees
    ]
    return InteractionFacts(
        mailbox_id=event.mailbox_id,
        member_id=event.member_id,
        key=event.calendar_event_key,
        kind="calendar",
        at=event.starts_at,
        direction="sent" if organizer in member_addresses else "received",
        participants=_normalized(pairs),
        participant_count=len(event.attendees) + 1,
    )


def _normalized(pairs) -> tuple[tuple[str, str], ...]:
    seen: dict[tuple[str, str], None] = {}
    for address, role in pairs:
        clean = normalize_address(address)
        if clean is not None:
            seen.setdefault((clean, role), None)
    return tuple(seen)


def addresses_in(message: MessageSynced) -> set[str]:
    found = {a for a, _ in message_facts(message).participants}
    if message.sender_signature is not None:
        found |= {a for a in map(normalize_address, message.sender_signature.email_addresses) if a}
    return found


# --- the policy -------------------------------------------------------------------------


def creation_reason(state: IdentitySlice, contact: Contact) -> str | None:
    if state.settings.is_internal(contact.address) or is_role_address(contact.address):
        return None
    if contact.reached_by_member:
        return "a workspace member emailed or invited them"
    if contact.reached_member and not state.settings.enhanced_record_creation:
        return "they emailed or invited a member (Enhanced record creation is off)"
    return None


# --- observing input --------------------------------------------------------------------


def observe_message(state: IdentitySlice, message: MessageSynced) -> Outcome:
    state.settings = state.settings.with_mailbox_owners(message.mailbox_owner_addresses)
    facts = message_facts(message)
    if is_applied_already(state, facts):
        return Outcome()
    names = {normalize_address(p.address): p.display_name.strip() for p in message.participants}
    automated = bool(message.automated_reasons)

    def evidence(contact: Contact, role: str) -> None:
        if automated:
            return
        if message.direction == "sent" and role in RECIPIENT_ROLES:
            contact.reached_by_member = True
        elif message.direction == "received" and role == "from":
            contact.reached_member = True

    outcome = _observe(state, facts, names, evidence, cause=message.event_id)
    sender = next((a for a, role in facts.participants if role == "from"), None)
    if sender is not None and not automated:
        outcome.extend(_sender_evidence(state, message, sender, names.get(sender, "")))
    outcome.events.append(resolve_interaction(state, facts, cause=message.event_id))
    return outcome


def observe_calendar_event(state: IdentitySlice, event: EventSynced) -> Outcome:
    state.settings = state.settings.with_mailbox_owners(event.mailbox_owner_addresses)
    facts = calendar_facts(event, state.settings.member_addresses)
    if is_applied_already(state, facts):
        return Outcome()
    names = {normalize_address(a.address): a.display_name.strip() for a in event.attendees}

    def evidence(contact: Contact, role: str) -> None:
        if facts.direction == "sent" and role in ("attendee", "declined"):
            contact.reached_by_member = True
        elif facts.direction == "received" and role == "organizer":
            contact.reached_member = True

    outcome = _observe(state, facts, names, evidence, cause=event.event_id)
    outcome.events.append(resolve_interaction(state, facts, cause=event.event_id))
    return outcome


def _observe(state: IdentitySlice, facts, names, evidence, *, cause: str) -> Outcome:
    state.remember(facts)
    state.new_interactions.add(facts.ref)
    touched: list[Contact] = []
    for address, role in facts.participants:
        if state.settings.is_internal(address) or is_role_address(address):
            continue
        contact = state.contact(address)
        before = contact.evidence()
        if names.get(address):
            contact.display_name = names[address]
        evidence(contact, role)
        if contact.evidence() != before:
            state.dirty_contacts.add(address)
        touched.append(contact)
    outcome = Outcome()
    for contact in touched:
        if contact.person_id is None and (reason := creation_reason(state, contact)):
            outcome.extend(
                create_person(
                    state,
                    contact,
                    reason,
                    cause=cause,
                    at=facts.at,
                    member_id=facts.member_id,
                    message_key=facts.key,
                )
            )
        elif contact.person_id is not None and names.get(contact.address):
            _propose_display_name(state, contact, facts, outcome, cause)
    return outcome


def is_applied_already(state: IdentitySlice, facts: InteractionFacts) -> bool:
    """The same sighting, with the same facts, seen again (a redelivery after a crash, an
    import run again): it changes nothing. Applied a second time, its evidence would land
    on records made since, which the first time it did not (a signature's job title on a
    person the member wrote to later), so the result would depend on redeliveries. A
    changed meeting or a message shown again after a retraction has other facts."""
    known = state.interactions.get(facts.ref)
    if known is None:
        return False
    return replace(known, at=_to_millisecond(known.at)) == replace(
        facts, at=_to_millisecond(facts.at)
    )


def _to_millisecond(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def withdraw(state: IdentitySlice, mailbox_id: str, key: str, cause: str) -> Outcome:
    """A retracted message or a cancelled event: its sighting resolves to no records any
    more (downstream, a replacement with nothing). Evidence it gave stays: a record made
    from it remains, as records made from a removed mailbox do."""
    ref = interaction_ref(mailbox_id, key)
    facts = state.interactions.get(ref)
    if facts is None:
        return Outcome()
    empty = replace(facts, participants=())
    state.remember(empty)
    state.new_interactions.add(ref)
    return Outcome(events=[resolve_interaction(state, empty, cause=cause)])


def enhanced_creation_changed(
    state: IdentitySlice, event: EnhancedRecordCreationChanged, candidates: list[Contact]
) -> Outcome:
    """Switching OFF creates, from history, the records that are allowed now."""
    outcome = Outcome()
    if event.enabled:
        return outcome
    for contact in sorted(candidates, key=lambda c: c.address):
        if contact.person_id is None and (reason := creation_reason(state, contact)):
            outcome.extend(
                create_person(
                    state,
                    contact,
                    reason,
                    cause=event.event_id,
                    at=event.changed_at,
                    member_id=None,
                    message_key=None,
                )
            )
    return outcome


# --- records ----------------------------------------------------------------------------


def create_person(
    state: IdentitySlice,
    contact: Contact,
    reason: str,
    *,
    cause: str,
    at: datetime,
    member_id: str | None,
    message_key: str | None,
) -> Outcome:
    ws = state.workspace_id
    person = Person(ids.person_id(ws, contact.address), contact.address, reason)
    state.people[person.person_id] = person
    state.dirty_people.add(person.person_id)
    contact.person_id = person.person_id
    state.dirty_contacts.add(contact.address)
    outcome = Outcome()
    outcome.events.append(
        PersonCreated(
            event_id=ids.event_id(ws, "PersonCreated", person.person_id),
            workspace_id=ws,
            person_id=person.person_id,
            address=contact.address,
            display_name=contact.display_name,
            created_because=reason,
        )
    )
    if contact.display_name:
        value = SourcedValue((contact.display_name,), "display_name", message_key, member_id, at)
        if enriched := propose(state, person, "name", value, cause):
            outcome.events.append(enriched)
    _link_company(state, person, outcome, at)
    # The record comes with its whole history.
    outcome.reresolve_people[person.person_id] = person.person_id
    # A claim is settled from whichever side becomes a record last.
    _merge_by_claims(state, contact, outcome, at)
    for other in contact.claimed:
        if other in state.contacts:
            _merge_by_claims(state, state.contacts[other], outcome, at)
    return outcome


def _link_company(state: IdentitySlice, person: Person, outcome: Outcome, at: datetime) -> None:
    domain = registrable_domain(person.address.rpartition("@")[2])
    if domain is None or is_free_mail_domain(domain) or domain in state.settings.own_domains:
        return
    ws = state.workspace_id
    company = state.company_with_domain(domain)
    if company is None:
        company = Company(ids.company_id(ws, domain), [domain])
        state.companies[company.company_id] = company
        state.dirty_companies.add(company.company_id)
        name = company_name_from_domain(domain)
        outcome.events.append(
            CompanyCreated(
                event_id=ids.event_id(ws, "CompanyCreated", company.company_id),
                workspace_id=ws,
                company_id=company.company_id,
                domain=domain,
                name=name,
            )
        )
        value = SourcedValue((name,), "domain", None, None, at)
        if enriched := propose(state, company, "name", value, company.company_id):
            outcome.events.append(enriched)
    person.company_id = company.company_id
    outcome.events.append(
        PersonLinkedToCompany(
            event_id=ids.event_id(ws, "PersonLinked", person.person_id, company.company_id),
            workspace_id=ws,
            person_id=person.person_id,
            company_id=company.company_id,
            domain=domain,
        )
    )


def _add_company_domain(
    state: IdentitySlice,
    company: Company,
    website: str,
    outcome: Outcome,
    cause: str,
    source: SourcedValue,
) -> None:
    """A company keeps all its domains: the website its people give in their signatures
    joins it, unless free mail, the workspace's own, or already another company's."""
    domain = registrable_domain(website)
    if domain is None or domain in company.domains or is_free_mail_domain(domain):
        return
    if domain in state.settings.own_domains or state.company_with_domain(domain) is not None:
        return
    value = SourcedValue(
        (*company.domains, domain),
        source.source,
        source.message_key,
        source.member_id,
        source.observed_at,
    )
    company.domains = list(value.values)
    state.dirty_companies.add(company.company_id)
    outcome.events.append(
        RecordEnriched(
            event_id=ids.event_id(
                state.workspace_id, "RecordEnriched", company.company_id, "domains", cause
            ),
            workspace_id=state.workspace_id,
            record_id=company.company_id,
            record_kind="company",
            field="domains",
            value=value.values,
            source=EnrichmentSource(
                kind="signature",
                message_key=source.message_key,
                member_id=source.member_id,
                observed_at=source.observed_at,
            ),
        )
    )


def _propose_display_name(state, contact: Contact, facts, outcome: Outcome, cause: str) -> None:
    person = state.people[state.root(contact.person_id)]
    value = SourcedValue(
        (contact.display_name,), "display_name", facts.key, facts.member_id, facts.at
    )
    if enriched := propose(state, person, "name", value, cause):
        outcome.events.append(enriched)


def _sender_evidence(
    state: IdentitySlice, message: MessageSynced, sender: str, display_name: str
) -> Outcome:
    """What the sender's signature says: their details, their company's, other addresses."""
    outcome = Outcome()
    signature = message.sender_signature
    contact = state.contacts.get(sender)
    if signature is None or contact is None:
        return outcome
    at, key, member = message.sent_at, message.message_key, message.member_id
    cause = message.event_id
    if contact.person_id is not None:
        person = state.people[state.root(contact.person_id)]
        for field_name, value in from_signature(
            signature, message_key=key, member_id=member, at=at
        ).items():
            if enriched := propose(state, person, field_name, value, cause):
                outcome.events.append(enriched)
        company = state.companies.get(state.company_of(person.person_id) or "")
        if company is not None and signature.company_name:
            value = SourcedValue((signature.company_name,), "signature", key, member, at)
            if enriched := propose(state, company, "name", value, cause):
                outcome.events.append(enriched)
        if company is not None and signature.website_domain:
            _add_company_domain(
                state,
                company,
                signature.website_domain,
                outcome,
                cause,
                SourcedValue((), "signature", key, member, at),
            )
    name_key = full_name_key(signature.name or display_name)
    if name_key is None:
        return outcome
    for other in sorted({a for a in map(normalize_address, signature.email_addresses) if a}):
        if other == sender or state.settings.is_internal(other) or is_role_address(other):
            continue
        other_contact = state.contact(other)
        claim = Claim(sender, name_key, key)
        if claim not in other_contact.claims:
            other_contact.claims.append(claim)
            state.dirty_contacts.add(other)
        if other not in contact.claimed:
            contact.claimed.append(other)
            state.dirty_contacts.add(sender)
        _merge_by_claims(state, other_contact, outcome, at)
    return outcome


def _merge_by_claims(state: IdentitySlice, contact: Contact, outcome: Outcome, at) -> None:
    """Merge `contact`'s record with every claimant whose claim the evidence supports."""
    if contact.person_id is None:
        return
    own_name = full_name_key(contact.display_name)
    for claim in contact.claims:
        claimant = state.contacts.get(claim.claimant_address)
        if claimant is None or claimant.person_id is None or claim.name_key != own_name:
            continue
        if not may_merge(state, claimant.person_id, contact.person_id):
            continue
        evidence = MergeEvidence(
            rule=SIGNATURE_NAMES_OTHER_ADDRESS,
            description=(
                f"the signature of {claim.claimant_address} in message {claim.message_key} "
                f"gives {contact.address} as another address, and both were seen with the "
                f"name {claim.name_key!r}"
            ),
            message_key=claim.message_key,
            addresses=(claim.claimant_address, contact.address),
            names=(claim.name_key,),
        )
        merged = merge(
            state,
            claimant.person_id,
            contact.person_id,
            evidence=evidence,
            automatic=True,
            merged_by=None,
            at=at,
            cause=f"{claim.message_key}:{contact.address}",
        )
        outcome.events.append(merged)
        outcome.reresolve_people[merged.merged_id] = merged.event_id
        outcome.reresolve_people[merged.survivor_id] = merged.event_id


# --- resolving interactions -------------------------------------------------------------


def resolve_interaction(
    state: IdentitySlice, facts: InteractionFacts, *, cause: str
) -> InteractionResolved:
    """The records that took part, by role, after merges; companies roll up from people."""
    records: dict[str, InteractionRecord] = {}
    for address, role in facts.participants:
        contact = state.contacts.get(address)
        if contact is None or contact.person_id is None:
            continue
        person_id = state.root(contact.person_id)
        records.setdefault(
            person_id,
            InteractionRecord(record_id=person_id, record_kind="person", role=role),
        )
        # A merged record's company may be one of its merged people's.
        if (company_id := state.company_of(person_id)) is not None:
            records.setdefault(
                company_id,
                InteractionRecord(record_id=company_id, record_kind="company", role=role),
            )
    state.resolved[facts.ref] = tuple(
        (r.record_id, r.record_kind, r.role) for r in records.values()
    )
    state.dirty_resolutions.add(facts.ref)
    return InteractionResolved(
        event_id=ids.event_id(state.workspace_id, "InteractionResolved", facts.ref, cause),
        workspace_id=state.workspace_id,
        interaction_key=facts.key,
        kind=facts.kind,  # type: ignore[arg-type]
        mailbox_id=facts.mailbox_id,
        member_id=facts.member_id,
        occurred_at=facts.at,
        direction=facts.direction,  # type: ignore[arg-type]
        participant_count=facts.participant_count,
        records=tuple(records.values()),
    )


def resolve_again(state: IdentitySlice, refs: dict[str, str]) -> list[InteractionResolved]:
    """Resolve these interactions again; only those whose records changed are emitted."""
    changed = []
    for ref, cause in sorted(refs.items()):
        facts = state.interactions.get(ref)
        if facts is None:
            continue
        before = state.resolved.get(ref)
        event = resolve_interaction(state, facts, cause=cause)
        if state.resolved[ref] != before:
            changed.append(event)
    return changed
