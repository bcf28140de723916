"""The identity store kept in memory: one slice per workspace that is the whole state.

Same port as IdentityStore (MongoDB); used by the unit and property tests, so they drive
the real handlers, and by benchmarks as a baseline for the MongoDB store.
"""

from __future__ import annotations

from collections.abc import Iterable

from commsintel.identity.domain.model import Company, Contact, IdentitySlice, Person
from commsintel.identity.domain.workspace import WorkspaceSettings


class InMemoryIdentityStore:
    def __init__(self) -> None:
        self._slices: dict[str, IdentitySlice] = {}
        self._receipts: set[str] = set()

    def workspace(self, workspace_id: str) -> IdentitySlice:
        if workspace_id not in self._slices:
            self._slices[workspace_id] = IdentitySlice(WorkspaceSettings(workspace_id))
        return self._slices[workspace_id]

    async def ensure_indexes(self) -> None:
        return None

    async def settings(self, workspace_id: str) -> WorkspaceSettings:
        return self.workspace(workspace_id).settings

    async def load_slice(self, settings: WorkspaceSettings, addresses: Iterable[str]):
        state = self.workspace(settings.workspace_id)
        state.settings = settings
        return state

    async def load_contacts(self, state: IdentitySlice, addresses: Iterable[str]) -> None:
        return None

    async def load_people(self, state: IdentitySlice, person_ids: Iterable[str]) -> None:
        return None

    async def load_interactions(self, state: IdentitySlice, refs: Iterable[str]) -> None:
        return None

    async def refs_of(self, state: IdentitySlice, addresses: Iterable[str]) -> dict[str, set[str]]:
        return {a: set(state.refs_by_address.get(a, ())) for a in addresses}

    async def creation_candidates(self, state: IdentitySlice) -> list[Contact]:
        return [c for c in state.contacts.values() if c.reached_member and c.person_id is None]

    async def save(self, state: IdentitySlice) -> None:
        for dirty in (
            state.dirty_contacts,
            state.dirty_people,
            state.dirty_companies,
            state.new_interactions,
            state.dirty_resolutions,
        ):
            dirty.clear()

    async def record_receipts(self, event_ids: Iterable[str]) -> None:
        self._receipts.update(event_ids)

    async def has_receipt(self, event_id: str) -> bool:
        return event_id in self._receipts

    async def person(self, workspace_id: str, person_id: str) -> Person | None:
        return self.workspace(workspace_id).people.get(person_id)

    async def company(self, workspace_id: str, company_id: str) -> Company | None:
        return self.workspace(workspace_id).companies.get(company_id)

    async def contact(self, workspace_id: str, address: str) -> Contact | None:
        return self.workspace(workspace_id).contacts.get(address)
