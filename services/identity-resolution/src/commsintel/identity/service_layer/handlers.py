"""One handler for each batch: load the slice it needs -> domain -> publish -> store.

Inputs are folded in order, one workspace run at a time (topics are keyed by workspace,
so each workspace has a single writer). After each input, the interactions whose records
it changed (a person made from history, a merge, an unmerge) are resolved again.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from commsintel.contracts.events import (
    EnhancedRecordCreationChanged,
    Event,
    EventCancelled,
    EventSynced,
    MailboxConnected,
    MemberAdded,
    MemberRemoved,
    MessageRetracted,
    MessageSynced,
    OwnDomainAdded,
    OwnDomainRemoved,
    PersonUnmerged,
    RecordEnriched,
)
from commsintel.identity.domain.addresses import normalize_address
from commsintel.identity.domain.enrichment import apply_user_value
from commsintel.identity.domain.merging import apply_unmerge
from commsintel.identity.domain.model import IdentitySlice, interaction_ref
from commsintel.identity.domain.resolution import (
    Outcome,
    addresses_in,
    enhanced_creation_changed,
    observe_calendar_event,
    observe_message,
    resolve_again,
    withdraw,
)
from commsintel.identity.domain.workspace import apply_setting
from commsintel.identity.ports import IdentityProjections, Publisher

SETTINGS_EVENTS = (
    MemberAdded,
    MemberRemoved,
    OwnDomainAdded,
    OwnDomainRemoved,
    EnhancedRecordCreationChanged,
)


def is_user_command(event: Event) -> bool:
    """Events on identity.records that a user caused and identity must apply; the rest
    of that topic is identity's own output."""
    return isinstance(event, PersonUnmerged) or (
        isinstance(event, RecordEnriched) and event.source.kind == "user"
    )


class IdentityHandlers:
    def __init__(self, store: IdentityProjections, publisher: Publisher) -> None:
        self._store = store
        self._publisher = publisher

    async def handle_batch(self, events: Sequence[Event]) -> None:
        for workspace_id, run in groupby(events, key=lambda event: event.workspace_id):
            await self._handle_run(workspace_id, list(run))

    async def _handle_run(self, workspace_id: str, events: list[Event]) -> None:
        settings = await self._store.settings(workspace_id)
        state = await self._store.load_slice(settings, _addresses(events))
        await self._store.load_people(state, _people_named(events))
        await self._store.load_interactions(state, _sightings_of(events))
        published: list[Event] = []
        receipts: list[str] = []
        for event in events:
            # Each input is followed by the resolutions it changed, so the output depends
            # only on the sequence of inputs, never on how they were cut into batches.
            outcome = await self._apply(state, event)
            published += outcome.events
            published += await self._resolve_again(state, outcome)
            if isinstance(event, SETTINGS_EVENTS) or is_user_command(event):
                receipts.append(event.event_id)
        # Publish before storing: a crash in between republishes the same events (same
        # ids) on redelivery instead of losing them.
        await self._publisher.publish(published)
        await self._store.save(state)
        await self._store.record_receipts(receipts)

    async def _apply(self, state: IdentitySlice, event: Event) -> Outcome:
        match event:
            case MessageSynced():
                return observe_message(state, event)
            case EventSynced():
                return observe_calendar_event(state, event)
            case MessageRetracted():
                return withdraw(state, event.mailbox_id, event.message_key, event.event_id)
            case EventCancelled():
                return withdraw(state, event.mailbox_id, event.calendar_event_key, event.event_id)
            case MailboxConnected():
                state.settings = state.settings.with_mailbox_owners(event.owner_addresses)
            case EnhancedRecordCreationChanged():
                state.settings = apply_setting(state.settings, event)
                candidates = [] if event.enabled else await self._store.creation_candidates(state)
                return enhanced_creation_changed(state, event, candidates)
            case MemberAdded() | MemberRemoved() | OwnDomainAdded() | OwnDomainRemoved():
                state.settings = apply_setting(state.settings, event)
            case PersonUnmerged():
                moved = apply_unmerge(state, event)
                return Outcome(reresolve_people={p: event.event_id for p in moved})
            case RecordEnriched() if event.source.kind == "user":
                apply_user_value(state, event)
        return Outcome()

    async def _resolve_again(self, state: IdentitySlice, outcome: Outcome) -> list[Event]:
        """The interactions of every person whose records changed, resolved again."""
        if not outcome.reresolve_people:
            return []
        await self._store.load_people(state, outcome.reresolve_people)
        addresses: dict[str, str] = {}
        for person_id, cause in outcome.reresolve_people.items():
            for member in (person_id, *state.people[person_id].absorbed):
                addresses[state.people[member].address] = cause
        await self._store.load_contacts(state, addresses)
        history = await self._store.refs_of(state, addresses)
        refs: dict[str, str] = {}
        for address, cause in sorted(addresses.items()):
            for ref in sorted(history.get(address, ())):
                refs.setdefault(ref, cause)
        await self._store.load_interactions(state, refs)
        return list(resolve_again(state, refs))


def _addresses(events: list[Event]) -> set[str]:
    found: set[str] = set()
    for event in events:
        if isinstance(event, MessageSynced):
            found |= addresses_in(event)
        elif isinstance(event, EventSynced):
            raw = [event.organizer, *(a.address for a in event.attendees)]
            found |= {a for a in map(normalize_address, raw) if a}
    return found


def _sightings_of(events: list[Event]) -> set[str]:
    """The sightings a batch names: those it withdraws, whose facts the fold needs, and
    those it reports, which identity may have applied already (then they are no news)."""
    refs = set()
    for event in events:
        if isinstance(event, MessageRetracted | MessageSynced):
            refs.add(interaction_ref(event.mailbox_id, event.message_key))
        elif isinstance(event, EventCancelled | EventSynced):
            refs.add(interaction_ref(event.mailbox_id, event.calendar_event_key))
    return refs


def _people_named(events: list[Event]) -> set[str]:
    named: set[str] = set()
    for event in events:
        if isinstance(event, PersonUnmerged):
            named |= {event.survivor_id, event.restored_id}
        elif isinstance(event, RecordEnriched) and event.source.kind == "user":
            named.add(event.record_id)
    return named
