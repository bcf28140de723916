"""Identity's MongoDB projections. State lives here, not in memory: a batch loads the
slice it needs (bounded by the batch), the domain changes it, and the changes are saved
with one bulk write per collection.

- `settings`: one per workspace; `contacts`: every external participant (the id is the
  person id the contact would get); `people`, `companies`: the records;
  `interactions`: what identity knows of each sighting and what it last resolved to;
  `receipts`: user commands already applied (the gRPC API waits on them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

from pymongo import ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.contracts import ids
from commsintel.identity.domain.addresses import registrable_domain
from commsintel.identity.domain.model import (
    Claim,
    Company,
    Contact,
    IdentitySlice,
    InteractionFacts,
    MergeRecord,
    Person,
    SourcedValue,
)
from commsintel.identity.domain.workspace import Member, WorkspaceSettings
from commsintel.platform.mongo import all_or_nothing, find_scoped


class IdentityStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._database = database
        self._settings = database["settings"]
        self._contacts = database["contacts"]
        self._people = database["people"]
        self._companies = database["companies"]
        self._interactions = database["interactions"]
        self._receipts = database["receipts"]

    async def ensure_indexes(self) -> None:
        await self._contacts.create_index(
            [("workspace_id", 1), ("reached_member", 1), ("person_id", 1)]
        )
        await self._people.create_index([("workspace_id", 1), ("record_company_id", 1), ("_id", 1)])
        await self._people.create_index([("workspace_id", 1), ("merged_into", 1), ("_id", 1)])
        await self._companies.create_index([("workspace_id", 1), ("domains", 1)])
        await self._companies.create_index([("workspace_id", 1), ("_id", 1)])  # pages
        await self._interactions.create_index([("workspace_id", 1), ("addresses", 1)])

    # --- settings -----------------------------------------------------------------------

    async def settings(self, workspace_id: str) -> WorkspaceSettings:
        document = await self._settings.find_one({"_id": workspace_id})
        if document is None:
            return WorkspaceSettings(workspace_id)
        return WorkspaceSettings(
            workspace_id=workspace_id,
            members=tuple(
                Member(m["member_id"], tuple(m["addresses"]), m["is_admin"])
                for m in document["members"]
            ),
            declared_domains=frozenset(document["declared_domains"]),
            mailbox_owner_addresses=frozenset(document["mailbox_owner_addresses"]),
            enhanced_record_creation=document["enhanced_record_creation"],
        )

    # --- loading a slice ----------------------------------------------------------------

    async def load_slice(
        self, settings: WorkspaceSettings, addresses: Iterable[str]
    ) -> IdentitySlice:
        state = IdentitySlice(settings)
        await self.load_contacts(state, addresses)
        return state

    async def load_contacts(self, state: IdentitySlice, addresses: Iterable[str]) -> None:
        """Contacts for these addresses, the contacts that claim them, and every record
        they reach (through merges too), with the companies of those records."""
        ws = state.workspace_id
        wanted = sorted(set(addresses) - state.contacts.keys())
        loaded: set[str] = set()
        for _ in range(3):  # addresses, then the ones they claim or are claimed by
            if not wanted:
                break
            found = self._contacts.find({"_id": {"$in": [ids.person_id(ws, a) for a in wanted]}})
            async for document in found:
                state.contacts[document["address"]] = _contact(document)
                loaded.add(document["address"])
            related = {
                c.claimant_address for a in wanted if (k := state.contacts.get(a)) for c in k.claims
            }
            related |= {o for a in wanted if (k := state.contacts.get(a)) for o in k.claimed}
            wanted = sorted(related - state.contacts.keys())
        person_ids = {state.contacts[a].person_id for a in loaded} - {None}
        await self.load_people(state, person_ids)
        domains = {registrable_domain(a.rpartition("@")[2]) for a in addresses} - {None}
        await self.load_companies(state, domains - state.domains_loaded, set())
        state.domains_loaded |= domains

    async def load_people(self, state: IdentitySlice, person_ids: Iterable[str]) -> None:
        wanted = set(person_ids) - state.people.keys()
        while wanted:
            async for document in self._people.find({"_id": {"$in": sorted(wanted)}}):
                state.people[document["_id"]] = _person(document)
            linked = {p.merged_into for p in state.people.values() if p.merged_into}
            linked |= {a for p in state.people.values() for a in p.absorbed}
            wanted = linked - state.people.keys()
        company_ids = {p.company_id for p in state.people.values() if p.company_id}
        await self.load_companies(state, set(), company_ids)

    async def load_companies(
        self, state: IdentitySlice, domains: set[str], company_ids: set[str]
    ) -> None:
        company_ids = company_ids - state.companies.keys()
        if not domains and not company_ids:
            return
        # Two indexed lookups rather than one $or, which some servers answer by a scan.
        queries = []
        if domains:
            queries.append(
                {"workspace_id": state.workspace_id, "domains": {"$in": sorted(domains)}}
            )
        if company_ids:
            queries.append({"_id": {"$in": sorted(company_ids)}})
        for query in queries:
            async for document in self._companies.find(query):
                if document["_id"] not in state.companies:
                    state.companies[document["_id"]] = _company(document)

    async def load_interactions(self, state: IdentitySlice, refs: Iterable[str]) -> None:
        wanted = sorted(set(refs) - state.interactions.keys())
        if not wanted:
            return
        keys = [_interaction_id(state.workspace_id, ref) for ref in wanted]
        async for document in self._interactions.find({"_id": {"$in": keys}}):
            facts = _facts(document)
            state.remember(facts)
            state.resolved[facts.ref] = tuple(tuple(r) for r in document.get("resolved", ()))
        participants = {
            a for ref in wanted if (f := state.interactions.get(ref)) for a, _ in f.participants
        }
        await self.load_contacts(state, participants)

    async def refs_of(self, state: IdentitySlice, addresses: Iterable[str]) -> dict[str, set[str]]:
        """The interactions each address took part in: those in the slice, and, for
        contacts the store knew before this batch, those stored."""
        found = {a: set(state.refs_by_address.get(a, ())) for a in addresses}
        stored = sorted(
            a
            for a in found
            if (c := state.contacts.get(a)) and c.known_to_store and not c.history_loaded
        )
        if stored:
            query = {"workspace_id": state.workspace_id, "addresses": {"$in": stored}}
            async for document in self._interactions.find(query, {"ref": 1, "addresses": 1}):
                for address in document["addresses"]:
                    if address in found:
                        found[address].add(document["ref"])
        return found

    async def creation_candidates(self, state: IdentitySlice) -> list[Contact]:
        """Contacts that emailed a member but are no record (for Enhanced creation OFF):
        the stored ones, and the ones this batch has not saved yet."""
        query = {"workspace_id": state.workspace_id, "reached_member": True, "person_id": None}
        addresses = [d["address"] async for d in self._contacts.find(query, {"address": 1})]
        await self.load_contacts(state, addresses)
        return [c for c in state.contacts.values() if c.reached_member and c.person_id is None]

    # --- saving -------------------------------------------------------------------------

    async def save(self, state: IdentitySlice) -> None:
        """Every change of the batch in one transaction. Saved in part, the slice would
        mislead the redelivered batch: a contact saved with its person id but without its
        person makes the redo skip creating the person, and it is lost for good."""
        async with all_or_nothing(self._database) as session:
            await self._save(state, session)

    async def _save(self, state: IdentitySlice, session) -> None:
        ws = state.workspace_id
        await self._settings.replace_one(
            {"_id": ws}, _settings_document(state.settings), upsert=True, session=session
        )
        await _replace_all(
            self._contacts,
            [
                (ids.person_id(ws, a), _contact_document(ws, state.contacts[a]))
                for a in sorted(state.dirty_contacts)
            ],
            session,
        )
        # A record's company can come from a person merged into it, so the records above a
        # changed person are written again with it.
        people = state.dirty_people | {state.root(p) for p in state.dirty_people}
        await _replace_all(
            self._people,
            [
                (p, _person_document(ws, state.people[p], state.listed_company_of(p)))
                for p in sorted(people)
            ],
            session,
        )
        await _replace_all(
            self._companies,
            [(c, _company_document(ws, state.companies[c])) for c in sorted(state.dirty_companies)],
            session,
        )
        refs = sorted(state.new_interactions | state.dirty_resolutions)
        await _replace_all(
            self._interactions,
            [
                (
                    _interaction_id(ws, ref),
                    _facts_document(ws, state.interactions[ref], state.resolved.get(ref, ())),
                )
                for ref in refs
                if ref in state.interactions
            ],
            session,
        )

    async def record_receipts(self, event_ids: Iterable[str]) -> None:
        writes = [
            UpdateOne({"_id": e}, {"$set": {"applied": True}}, upsert=True) for e in event_ids
        ]
        if writes:
            await self._receipts.bulk_write(writes, ordered=False)

    async def has_receipt(self, event_id: str) -> bool:
        return await self._receipts.find_one({"_id": event_id}) is not None

    # --- reading ------------------------------------------------------------------------

    async def person(self, workspace_id: str, person_id: str) -> Person | None:
        document = await find_scoped(self._people, person_id, workspace_id=workspace_id)
        return _person(document) if document else None

    async def people_page(
        self, workspace_id: str, *, company_id: str | None, after: str, limit: int
    ) -> list[Person]:
        query: dict = {"workspace_id": workspace_id, "_id": {"$gt": after}}
        if company_id:
            query["record_company_id"] = company_id  # never set on a merged person
        else:
            query["merged_into"] = None
        cursor = self._people.find(query).sort("_id", 1).limit(limit)
        return [_person(d) async for d in cursor]

    async def company(self, workspace_id: str, company_id: str) -> Company | None:
        document = await find_scoped(self._companies, company_id, workspace_id=workspace_id)
        return _company(document) if document else None

    async def companies_page(
        self, workspace_id: str, *, domain: str | None, after: str, limit: int
    ) -> list[Company]:
        if domain:
            # One company holds a domain; the page bound is checked here, since beside the
            # domain index it made the MongoDB-protocol stand-in scan the collection.
            found = self._companies.find({"workspace_id": workspace_id, "domains": domain})
            page = sorted([d async for d in found if d["_id"] > after], key=lambda d: d["_id"])
            return [_company(d) for d in page[:limit]]
        query: dict = {"workspace_id": workspace_id, "_id": {"$gt": after}}
        cursor = self._companies.find(query).sort("_id", 1).limit(limit)
        return [_company(d) async for d in cursor]

    async def contact(self, workspace_id: str, address: str) -> Contact | None:
        document = await self._contacts.find_one({"_id": ids.person_id(workspace_id, address)})
        return _contact(document) if document else None


async def _replace_all(collection, documents: list[tuple[str, dict]], session=None) -> None:
    if documents:
        await collection.bulk_write(
            [ReplaceOne({"_id": key}, document, upsert=True) for key, document in documents],
            ordered=False,
            session=session,
        )


def _interaction_id(workspace_id: str, ref: str) -> str:
    return f"{workspace_id}\x1f{ref}"


# --- documents <-> domain -------------------------------------------------------------


def _settings_document(settings: WorkspaceSettings) -> dict:
    return {
        "members": [asdict(m) | {"addresses": list(m.addresses)} for m in settings.members],
        "declared_domains": sorted(settings.declared_domains),
        "mailbox_owner_addresses": sorted(settings.mailbox_owner_addresses),
        "enhanced_record_creation": settings.enhanced_record_creation,
    }


def _contact_document(workspace_id: str, contact: Contact) -> dict:
    return {
        "workspace_id": workspace_id,
        "address": contact.address,
        "display_name": contact.display_name,
        "reached_by_member": contact.reached_by_member,
        "reached_member": contact.reached_member,
        "person_id": contact.person_id,
        "claims": [asdict(c) for c in contact.claims],
        "claimed": contact.claimed,
    }


def _contact(document: dict) -> Contact:
    return Contact(
        address=document["address"],
        display_name=document["display_name"],
        reached_by_member=document["reached_by_member"],
        reached_member=document["reached_member"],
        person_id=document["person_id"],
        claims=[Claim(**c) for c in document["claims"]],
        claimed=list(document.get("claimed", ())),
        known_to_store=True,
    )


def _value_document(value: SourcedValue) -> dict:
    return asdict(value) | {"values": list(value.values)}


def _value(document: dict) -> SourcedValue:
    return SourcedValue(
        tuple(document["values"]),
        document["source"],
        document["message_key"],
        document["member_id"],
        document["observed_at"],
    )


def _person_document(workspace_id: str, person: Person, record_company_id: str | None) -> dict:
    return {
        "workspace_id": workspace_id,
        "address": person.address,
        "created_because": person.created_because,
        "company_id": person.company_id,
        "record_company_id": record_company_id,  # derived: what ListPeople filters on
        "merged_into": person.merged_into,
        "absorbed": person.absorbed,
        "never_merge_with": person.never_merge_with,
        "merges": [
            asdict(m) | {"addresses": list(m.addresses), "names": list(m.names)}
            for m in person.merges
        ],
        "fields": {name: _value_document(v) for name, v in sorted(person.fields.items())},
    }


def _person(document: dict) -> Person:
    return Person(
        person_id=document["_id"],
        address=document["address"],
        created_because=document["created_because"],
        company_id=document["company_id"],
        merged_into=document["merged_into"],
        absorbed=list(document["absorbed"]),
        never_merge_with=list(document["never_merge_with"]),
        merges=[
            MergeRecord(**(m | {"addresses": tuple(m["addresses"]), "names": tuple(m["names"])}))
            for m in document["merges"]
        ],
        fields={name: _value(v) for name, v in document["fields"].items()},
    )


def _company_document(workspace_id: str, company: Company) -> dict:
    return {
        "workspace_id": workspace_id,
        "domains": company.domains,
        "fields": {name: _value_document(v) for name, v in sorted(company.fields.items())},
    }


def _company(document: dict) -> Company:
    return Company(
        company_id=document["_id"],
        domains=list(document["domains"]),
        fields={name: _value(v) for name, v in document["fields"].items()},
    )


def _facts_document(workspace_id: str, facts: InteractionFacts, resolved) -> dict:
    return {
        "workspace_id": workspace_id,
        "mailbox_id": facts.mailbox_id,
        "member_id": facts.member_id,
        "key": facts.key,
        "kind": facts.kind,
        "at": facts.at,
        "direction": facts.direction,
        "ref": facts.ref,
        "addresses": sorted({a for a, _ in facts.participants}),
        "participants": [list(p) for p in facts.participants],
        "participant_count": facts.participant_count,
        "resolved": [list(r) for r in resolved],
    }


def _facts(document: dict) -> InteractionFacts:
    return InteractionFacts(
        mailbox_id=document["mailbox_id"],
        member_id=document["member_id"],
        key=document["key"],
        kind=document["kind"],
        at=document["at"],
        direction=document["direction"],
        participants=tuple((a, r) for a, r in document["participants"]),
        participant_count=document["participant_count"],
    )
