"""One handler per batch of input events: decode -> domain -> publish -> store."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from commsintel.contracts.events import Event, MailboxConnected, MessageSynced
from commsintel.contracts.streaming import EventPublisher
from commsintel.identity.adapters.store import IdentityStore
from commsintel.identity.domain.addresses import registrable_domain
from commsintel.identity.domain.resolution import participant_addresses, resolve_message


class IdentityHandlers:
    def __init__(self, store: IdentityStore, publisher: EventPublisher) -> None:
        self._store = store
        self._publisher = publisher

    async def handle_batch(self, events: Sequence[Event]) -> None:
        # Topics are keyed by workspace, so a workspace's events arrive in order; a batch
        # is cut into runs per workspace and each run is folded in that order.
        for workspace_id, run in groupby(events, key=lambda event: event.workspace_id):
            await self._handle_workspace_run(workspace_id, list(run))

    async def _handle_workspace_run(self, workspace_id: str, events: list[Event]) -> None:
        directory = await self._store.directory(workspace_id)
        messages = [event for event in events if isinstance(event, MessageSynced)]
        addresses = set().union(*(participant_addresses(m) for m in messages))
        domains = {registrable_domain(a.rpartition("@")[2]) for a in addresses} - {None}
        book = await self._store.record_book(workspace_id, addresses, domains)
        out: list[Event] = []
        new_people, new_companies = [], []
        for event in events:
            if isinstance(event, MailboxConnected):
                directory = directory.with_members(event.owner_addresses)
            elif isinstance(event, MessageSynced):
                resolution, directory = resolve_message(event, directory, book)
                out.extend(resolution.events)
                new_people.extend(resolution.new_people)
                new_companies.extend(resolution.new_companies)
        # Publish before storing: if we crash in between, the redelivered batch publishes
        # the same events again (same ids) instead of never publishing them.
        await self._publisher.publish(out)
        await self._store.save_records(workspace_id, new_people, new_companies)
        await self._store.save_directory(workspace_id, directory)
