"""What intelligence's service layer and API need from the outside world, as Protocols:
the MongoDB projections (adapters/store.py) implement them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from commsintel.intelligence.domain.attributes import Interaction
from commsintel.intelligence.domain.book import InteractionBook, Pair
from commsintel.intelligence.domain.strength import StrengthModel

# What a load read, handed back to the save that follows it (so it writes only changes).
StoredBuckets = dict[Pair, dict[str, Any]]


class InteractionBooks(Protocol):
    """The interaction book of each workspace, with the strengths folded from it."""

    async def ensure_indexes(self) -> None: ...

    async def load(
        self,
        workspace_id: str,
        *,
        refs: Iterable[str] = (),
        members: Iterable[str] = (),
        pairs: Iterable[Pair] = (),
    ) -> tuple[InteractionBook, StoredBuckets]: ...

    async def save(
        self,
        workspace_id: str,
        book: InteractionBook,
        stored: StoredBuckets | None,
        model: StrengthModel,
    ) -> None: ...

    async def add_records(self, workspace_id: str, record_ids: Iterable[str]) -> None: ...


class IntelligenceQueries(Protocol):
    async def has_record(self, workspace_id: str, record_id: str) -> bool: ...

    async def interactions_of(self, workspace_id: str, record_id: str) -> list[Interaction]: ...

    async def strongest_records(
        self, workspace_id: str, limit: int, member_id: str | None = None
    ) -> list[str]: ...
