"""What access's service layer and API need from the outside world, as Protocols: the
MongoDB projections (adapters/store.py) and ingest's ContentService (adapters/content.py)
implement them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from commsintel.access.domain.state import AccessState, ListedRecord
from commsintel.contracts.events import Event


class AccessProjections(Protocol):
    """Each workspace's state, saved as the fold (`AccessState.apply`) changes it."""

    async def ensure_indexes(self) -> None: ...

    async def apply(self, events: Sequence[Event]) -> dict[str, int]:
        """Fold a batch and save what changed; the new version of each workspace."""
        ...

    async def version(self, workspace_id: str) -> int: ...

    async def load_state(self, workspace_id: str) -> AccessState: ...

    async def has_receipt(self, event_id: str) -> bool: ...


class RecordDirectory(Protocol):
    """People and companies as identity-resolution published them, for the API's lists."""

    async def record(self, workspace_id: str, record_id: str) -> ListedRecord | None: ...

    async def records(
        self, workspace_id: str, kind: str | None, after_id: str, limit: int
    ) -> list[ListedRecord]: ...


class Content(Protocol):
    """Bodies and attachments, asked for only once the viewer may see them (FULL)."""

    async def message(self, message_key: str, mailbox_id: str) -> Any: ...

    async def attachment(self, message_key: str, mailbox_id: str, index: int) -> Any: ...


class RecordIntelligence(Protocol):
    """What the intelligence service knows of a record, asked on the caller's behalf."""

    async def record_intelligence(self, record_id: str) -> Any: ...
