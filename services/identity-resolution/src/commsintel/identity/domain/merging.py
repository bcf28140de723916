"""When two person records are one person, and undoing it.

The automatic rule (false merges are worse than duplicates, so it needs two independent
facts that agree):
  a message from address A carries A's own signature that names address B as another
  address of the same person, AND the full name on that message (signature name, else
  display name) equals the full name B has been seen with.
A full name has at least two words; case and accents do not count. Same-key addresses
(case, googlemail.com, Gmail dots, +tags) are one record to begin with, never a merge.
A pair a user unmerged is never merged again automatically.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from commsintel.contracts import ids
from commsintel.contracts.errors import InvalidValue, UnknownItem
from commsintel.contracts.events import MergeEvidence, PeopleMerged, PersonUnmerged
from commsintel.identity.domain.model import IdentitySlice, MergeRecord

SIGNATURE_NAMES_OTHER_ADDRESS = "signature-names-other-address"


def full_name_key(name: str | None) -> str | None:
    """ "José  Martínez" and "jose martinez" are the same full name; "Jose" is not one."""
    if not name:
        return None
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = [w for w in "".join(c if c.isalpha() else " " for c in letters).split() if w]
    return " ".join(words) if len(words) >= 2 else None


def may_merge(state: IdentitySlice, first_id: str, second_id: str) -> bool:
    a, b = state.root(first_id), state.root(second_id)
    if a == b:
        return False
    return b not in state.people[a].never_merge_with and a not in state.people[b].never_merge_with


def merge(
    state: IdentitySlice,
    first_id: str,
    second_id: str,
    *,
    evidence: MergeEvidence,
    automatic: bool,
    merged_by: str | None,
    at: datetime,
    cause: str,
) -> PeopleMerged:
    """The record with the smaller id survives, so the outcome never depends on order."""
    survivor_id, merged_id = sorted((state.root(first_id), state.root(second_id)))
    survivor, merged = state.people[survivor_id], state.people[merged_id]
    merged.merged_into = survivor_id
    survivor.absorbed = sorted({*survivor.absorbed, merged_id, *merged.absorbed})
    survivor.merges.append(
        MergeRecord(
            survivor_id=survivor_id,
            merged_id=merged_id,
            automatic=automatic,
            merged_by=merged_by,
            rule=evidence.rule,
            description=evidence.description,
            message_key=evidence.message_key,
            addresses=evidence.addresses,
            names=evidence.names,
            merged_at=at,
        )
    )
    state.dirty_people.update({survivor_id, merged_id})
    return PeopleMerged(
        event_id=ids.event_id(state.workspace_id, "PeopleMerged", survivor_id, merged_id, cause),
        workspace_id=state.workspace_id,
        survivor_id=survivor_id,
        merged_id=merged_id,
        automatic=automatic,
        merged_by=merged_by,
        evidence=evidence,
        merged_at=at,
    )


def unmerge(state: IdentitySlice, *, restored_id: str, caller: str, at: datetime) -> PersonUnmerged:
    """Split `restored_id` (and whatever had merged into it) back out of its survivor."""
    restored = state.people.get(restored_id)
    if restored is None:
        raise UnknownItem(f"person {restored_id} not found")
    if restored.merged_into is None:
        raise InvalidValue(f"person {restored_id} is not merged into another record")
    return PersonUnmerged(
        event_id=ids.event_id(state.workspace_id, "PersonUnmerged", restored_id, at.isoformat()),
        workspace_id=state.workspace_id,
        survivor_id=restored.merged_into,
        restored_id=restored_id,
        unmerged_by=caller,
        unmerged_at=at,
    )


def apply_unmerge(state: IdentitySlice, event: PersonUnmerged) -> list[str]:
    """Apply a PersonUnmerged; returns the ids whose interactions must be resolved again."""
    restored = state.people.get(event.restored_id)
    if restored is None or restored.merged_into != event.survivor_id:
        return []  # already applied (redelivery), or no longer that merge
    moved = {event.restored_id, *restored.absorbed}
    # Up the chain, a record whose company came through the moved people loses it, so its
    # interactions are resolved again too.
    chain = [event.survivor_id]
    while (parent := state.people[chain[-1]].merged_into) is not None:
        chain.append(parent)
    company_before = {holder: state.company_of(holder) for holder in chain}
    restored.merged_into = None
    restored.never_merge_with = sorted({*restored.never_merge_with, event.survivor_id})
    survivor = state.people[event.survivor_id]
    survivor.never_merge_with = sorted({*survivor.never_merge_with, event.restored_id})
    # Every record up the chain loses the moved ids.
    for holder in chain:
        person = state.people[holder]
        person.absorbed = [p for p in person.absorbed if p not in moved]
        person.merges = [m for m in person.merges if m.merged_id != event.restored_id]
        state.dirty_people.add(holder)
    state.dirty_people.add(event.restored_id)
    lost_company = {h for h in chain if state.company_of(h) != company_before[h]}
    return sorted(moved | {event.survivor_id} | lost_company)
