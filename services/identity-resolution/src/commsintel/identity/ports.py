"""What identity's service layer and API need from the outside world, as Protocols. The
MongoDB store (adapters/store.py) implements them, and so does the in-memory fake the
tests drive the real handlers with (tests/support/identity_memory_store.py); a contract
test runs both on the same cases."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from commsintel.contracts.events import Event
from commsintel.identity.domain.model import Company, Contact, IdentitySlice, Person
from commsintel.identity.domain.workspace import WorkspaceSettings


class IdentityProjections(Protocol):
    """The slice of a workspace a batch needs, loaded piece by piece, and saved with what
    the fold changed; receipts of the commands applied."""

    async def ensure_indexes(self) -> None: ...

    async def settings(self, workspace_id: str) -> WorkspaceSettings: ...

    async def load_slice(
        self, settings: WorkspaceSettings, addresses: Iterable[str]
    ) -> IdentitySlice: ...

    async def load_contacts(self, state: IdentitySlice, addresses: Iterable[str]) -> None: ...

    async def load_people(self, state: IdentitySlice, person_ids: Iterable[str]) -> None: ...

    async def load_interactions(self, state: IdentitySlice, refs: Iterable[str]) -> None: ...

    async def refs_of(
        self, state: IdentitySlice, addresses: Iterable[str]
    ) -> dict[str, set[str]]: ...

    async def creation_candidates(self, state: IdentitySlice) -> list[Contact]: ...

    async def save(self, state: IdentitySlice) -> None: ...

    async def record_receipts(self, event_ids: Iterable[str]) -> None: ...

    async def has_receipt(self, event_id: str) -> bool: ...

    async def person(self, workspace_id: str, person_id: str) -> Person | None: ...

    async def company(self, workspace_id: str, company_id: str) -> Company | None: ...

    async def contact(self, workspace_id: str, address: str) -> Contact | None: ...


class RecordPages(Protocol):
    """The API's paged lists (MongoDB only: the in-memory fake has no pages)."""

    async def people_page(
        self, workspace_id: str, *, company_id: str | None, after: str, limit: int
    ) -> list[Person]: ...

    async def companies_page(
        self, workspace_id: str, *, domain: str | None, after: str, limit: int
    ) -> list[Company]: ...


class IdentityQueries(IdentityProjections, RecordPages, Protocol):
    pass


class Publisher(Protocol):
    async def publish(self, events: Sequence[Event]) -> int: ...
