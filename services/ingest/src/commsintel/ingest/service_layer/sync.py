"""Keeping connected mailboxes in sync: one task per IMAP mailbox (and one per calendar).

A task logs in, runs a pass (backfill the first time, then only what is new), and then
waits in IMAP IDLE on INBOX (or sleeps where IDLE is not offered) until the server
reports news, the poll interval passes, or the member asks for a sync now. Every
folder's cursor is saved after each batch, so a pass stopped anywhere (crash, network
drop, restart) resumes where it stopped and never duplicates: a dropped connection is
retried with backoff, a refused login waits for new credentials (ReconnectMailbox).
The status the member sees (syncing with progress, idle, error with the time of the
last success, the instance that syncs it) is saved and published as SyncProgressed.

Instances share the mailboxes through Kafka (docs/decisions/0027): each syncs the
mailboxes of the ingest.sync-requests partitions its consumer group assigns it, and
stops them before the group hands them on. Each sync claims its mailbox with a fence
that every status and cursor write carries, so an instance that lost a mailbox cannot
write over the new owner's progress. Waiting costs no thread: the IMAP client is
asyncio's. Backfills take one of a bounded number of slots; new mail in a mailbox that
is caught up needs none, so it is never stuck behind other mailboxes' backfills.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from commsintel.contracts.errors import UnknownItem
from commsintel.contracts.events import Event, SyncProgressed, SyncRequested
from commsintel.ingest.adapters.caldav_source import CalDavAccount, CalDavSource
from commsintel.ingest.adapters.calendar_source import CalendarSource, CalendarSourceError
from commsintel.ingest.adapters.calendar_store import CalendarStore
from commsintel.ingest.adapters.destinations import PUBLIC_ONLY
from commsintel.ingest.adapters.ics_source import IcsFeed, IcsSource
from commsintel.ingest.adapters.imap import (
    ImapAccount,
    ImapAuthFailed,
    ImapError,
    ImapSession,
    ImapUnavailable,
    UidValidityChanged,
)
from commsintel.ingest.adapters.oauth import TokenEndpointUnavailable
from commsintel.ingest.adapters.store import IngestStore, MailboxRecord, SyncFenced
from commsintel.ingest.domain.destinations import DestinationPolicy
from commsintel.ingest.domain.folder_sync import (
    INBOX,
    FolderCursor,
    FolderPlan,
    FolderStatus,
    advance,
    folders_to_sync,
    plan_folder_sync,
)
from commsintel.ingest.domain.mailboxes import (
    SyncErrorKind,
    SyncState,
    SyncStatus,
    jittered,
    retry_delay,
    sync_advanced,
    sync_failed,
    sync_started,
    sync_succeeded,
)
from commsintel.ingest.domain.oauth import refresh_due_at
from commsintel.ingest.domain.parsing import MalformedMessage, ParsedMessage, parse_message
from commsintel.ingest.domain.sharding import PartitionOf, hand_over, owned
from commsintel.ingest.domain.sightings import Mailbox
from commsintel.ingest.service_layer.calendar import CalendarSyncResult, sync_calendar
from commsintel.ingest.service_layer.intake import MessageIntake
from commsintel.ingest.service_layer.oauth_accounts import OAuthAccounts, ReauthorizationNeeded
from commsintel.platform.metrics import forget, observe
from commsintel.platform.streaming import EventPublisher

log = logging.getLogger(__name__)
tracer = trace.get_tracer("commsintel.ingest.sync")
CONCURRENT_CLAIMS = 32


@dataclass(frozen=True)
class SyncTimings:
    poll_interval: float = 300.0  # seconds between passes when nothing is reported
    idle_slice: float = 540.0  # longest single IDLE before it is renewed (RFC 2177)
    batch_size: int = 200
    retry_base: float = 2.0
    retry_ceiling: float = 300.0
    calendar_interval: float = 300.0  # seconds between two calendar passes
    backfill_concurrency: int = 8  # passes of more than one batch running at once
    connect_concurrency: int = 16  # logins in progress at once (after an outage, a start)

    def retry_after(self, failures: int) -> float:
        delay = retry_delay(failures, base=self.retry_base, ceiling=self.retry_ceiling)
        return jittered(delay, random.random())

    def next_poll(self) -> float:
        """Over [3/4, 1] of the poll interval (it is the longest wait), so that mailboxes
        started together (after a restart or a rebalance) do not poll together."""
        return jittered(self.poll_interval, random.random(), low=0.75)

    def next_idle_slice(self) -> float:
        """Over [3/4, 5/4] of the slice: mailboxes that started together would otherwise
        end their IDLEs together, a burst of EXAMINEs on the server every slice (measured
        at 1,000 mailboxes: new mail waited 15-28 s)."""
        return jittered(self.idle_slice, random.random(), low=0.75, high=1.25)


@dataclass
class SyncSlots:
    """What the mailboxes of one instance share: slots for backfills and for logins."""

    backfills: asyncio.Semaphore
    logins: asyncio.Semaphore

    @classmethod
    def of(cls, timings: SyncTimings) -> SyncSlots:
        return cls(
            asyncio.Semaphore(timings.backfill_concurrency),
            asyncio.Semaphore(timings.connect_concurrency),
        )


@dataclass(frozen=True)
class SyncClaim:
    """This instance syncs the mailbox under `fence` (IngestStore.claim_sync)."""

    instance_id: str
    fence: int


def utc_now() -> datetime:
    return datetime.now(UTC)


class _WakeableLoop:
    """What both sync loops share: a "sync now" wake-up, and a count of failures in a
    row for the backoff."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._failures = 0

    def wake(self) -> None:
        self._wake.set()

    async def _sleep_or_wake(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()


class MailboxSyncer(_WakeableLoop):
    """The sync of one IMAP mailbox, as a long-running task."""

    def __init__(
        self,
        record: MailboxRecord,
        *,
        store: IngestStore,
        intake: MessageIntake,
        publisher: EventPublisher,
        timings: SyncTimings,
        clock: Callable[[], datetime] = utc_now,
        destinations: DestinationPolicy = PUBLIC_ONLY,
        tracer: trace.Tracer = tracer,
        oauth: OAuthAccounts | None = None,
        claim: SyncClaim = SyncClaim("", 0),
        slots: SyncSlots | None = None,
    ) -> None:
        super().__init__()
        self._tracer = tracer
        self.mailbox = record.mailbox
        self._claim = claim
        self._slots = slots or SyncSlots.of(timings)
        self._status = record.status
        self._oauth = oauth if record.oauth is not None else None
        self._auth_failed = False  # the server refused the last token: refresh first
        self._destinations = destinations
        self._store = store
        self._intake = intake
        self._publisher = publisher
        self._timings = timings
        self._clock = clock
        # Where each folder's sync stopped: read once, then kept as this syncer saves
        # them (no other writer while it holds the claim), so a pass that finds
        # nothing new reads nothing from the store.
        self._cursors: dict[str, FolderCursor] | None = None

    @property
    def status(self) -> SyncStatus:
        return self._status

    async def run(self) -> None:
        try:
            await self._run()
        except SyncFenced:
            # Another instance claimed the mailbox since (a rebalance this one has not
            # seen yet), or it is being removed: its sync is not ours any more.
            log.info("mailbox %s is synced elsewhere now; stopped here", self.mailbox.mailbox_id)

    async def _run(self) -> None:
        while True:
            try:
                async with contextlib.AsyncExitStack() as session:
                    async with self._slots.logins:
                        account = await self._account()
                        imap = await session.enter_async_context(ImapSession(account))
                    self._failures = 0
                    self._auth_failed = False
                    while True:
                        await self.sync_pass(imap)
                        if not await self._wait_for_news(imap, await self._token_due()):
                            break  # the access token is due: log in again with a new one
            except SyncFenced:
                raise
            except ImapAuthFailed as error:
                if self._oauth is not None and not self._auth_failed:
                    # The provider may have ended the token early: refresh and try once
                    # more before calling it an auth failure.
                    self._auth_failed = True
                    continue
                self._auth_failed = False
                await self._report(
                    sync_failed(self._status, "auth_failed", str(error), self._clock())
                )
                await self._wake.wait()  # new credentials or "sync now"
                self._wake.clear()
            except ReauthorizationNeeded:
                message = (
                    "the provider refused to renew access (revoked or consent withdrawn): "
                    "authorize again and reconnect the mailbox"
                )
                await self._report(
                    sync_failed(self._status, "reauthorization_needed", message, self._clock())
                )
                await self._wake.wait()  # ReconnectMailbox restarts this task
                self._wake.clear()
            except TokenEndpointUnavailable as error:
                self._failures += 1
                await self._report(
                    sync_failed(self._status, "unreachable", str(error), self._clock())
                )
                await self._sleep_or_wake(self._timings.retry_after(self._failures))
            except (ImapUnavailable, ImapError) as error:
                kind: SyncErrorKind = (
                    "unreachable" if isinstance(error, ImapUnavailable) else "server_error"
                )
                self._failures += 1
                await self._report(sync_failed(self._status, kind, str(error), self._clock()))
                delay = self._timings.retry_after(self._failures)
                await self._sleep_or_wake(delay)
            except Exception:
                # Our side failed (e.g. the store): keep the details in the log, tell the
                # member only that it is retried, and retry like a network error.
                log.exception("sync of mailbox %s failed", self.mailbox.mailbox_id)
                self._failures += 1
                message = "the sync failed on our side; it is retried automatically"
                with contextlib.suppress(Exception):
                    await self._report(
                        sync_failed(self._status, "server_error", message, self._clock())
                    )
                await self._sleep_or_wake(self._timings.retry_after(self._failures))

    async def _token_due(self) -> float | None:
        """Seconds (monotonic clock) until the OAuth2 access token should be replaced, or
        None for a password or a token ingest does not refresh."""
        if self._oauth is None:
            return None
        record = await self._store.mailbox_by_id(self.mailbox.mailbox_id)
        due = refresh_due_at(record.oauth) if record.oauth is not None else None
        if due is None:
            return None
        return time.monotonic() + max(0.0, (due - self._clock()).total_seconds())

    async def sync_pass(self, imap: ImapSession) -> int:
        """Every folder worth syncing, from its cursor; the number of messages read."""
        with self._tracer.start_as_current_span("ingest.sync_pass") as span:
            span.set_attribute("commsintel.mailbox_id", self.mailbox.mailbox_id)
            if self._cursors is None:
                self._cursors = await self._store.folder_cursors(self.mailbox.mailbox_id)
            cursors = self._cursors
            plans: list[tuple[FolderPlan, FolderStatus]] = []
            for folder in folders_to_sync(await imap.folders()):
                status = await imap.status(folder)
                plan = plan_folder_sync(cursors.get(folder), status)
                if plan is not None:
                    plans.append((plan, status))
            done = 0
            if not plans:  # nothing new: no "syncing" blip, nothing published unless it
                # recovers from an error
                await self._report(sync_succeeded(self._status, self._clock()))
                return done
            record = await self._store.mailbox(self.mailbox.workspace_id, self.mailbox.mailbox_id)
            blocklist = record.blocklist
            total = sum(_expected(plan, status) for plan, status in plans)
            await self._report(sync_started(self._status, total, self._clock()))
            # More than a batch to read is a backfill (or a long absence): it waits for a
            # slot. A pass of new mail only needs none, so it never waits behind others.
            backfill = self._slots.backfills if total > self._timings.batch_size else None
            async with backfill or contextlib.nullcontext():
                for plan, status in plans:
                    done = await self._sync_folder(imap, plan, status, cursors, blocklist, done)
            await self._report(
                sync_succeeded(sync_advanced(self._status, done, self._clock()), self._clock())
            )
            span.set_attribute("commsintel.messages", done)
            return done

    async def _sync_folder(self, imap, plan, status, cursors, blocklist, done) -> int:
        folder, uidvalidity = plan.folder, status.uidvalidity
        try:
            async for fetched in imap.fetch_from(
                folder, plan.first_uid, self._timings.batch_size, uidvalidity=uidvalidity
            ):
                batch: list[tuple[bytes, ParsedMessage]] = []
                for message in fetched:
                    await asyncio.sleep(0)  # parsing is CPU: let other mailboxes' I/O in
                    try:
                        parsed = parse_message(
                            message.raw, owner_addresses=self.mailbox.owner_addresses
                        )
                    except MalformedMessage as malformed:
                        source = f"imap:{folder}/{uidvalidity}/{message.uid}"
                        await self._store.quarantine(
                            self.mailbox, source, message.raw, malformed.reason
                        )
                        continue
                    batch.append((message.raw, parsed))
                await self._intake.take(self.mailbox, blocklist, batch, self._clock())
                cursor = advance(cursors.get(folder), folder, uidvalidity, (m.uid for m in fetched))
                await self._store.save_folder_cursor(
                    self.mailbox.mailbox_id, cursor, self._claim.fence
                )
                cursors[folder] = cursor
                done += len(fetched)
                await self._report(sync_advanced(self._status, done, self._clock()))
            if status.highest_modseq is not None:
                # Only once the whole folder is done: a modseq saved mid-folder would let
                # the next pass skip what is left.
                cursor = advance(
                    cursors.get(folder),
                    folder,
                    uidvalidity,
                    (),
                    highest_modseq=status.highest_modseq,
                )
                await self._store.save_folder_cursor(
                    self.mailbox.mailbox_id, cursor, self._claim.fence
                )
                cursors[folder] = cursor
        except UidValidityChanged:
            # Recreated while we read it: the next pass plans the folder from scratch.
            log.info("folder %r of mailbox %s was recreated", folder, self.mailbox.mailbox_id)
            self._wake.set()
        return done

    async def _wait_for_news(self, imap: ImapSession, token_due: float | None = None) -> bool:
        """Waits for news, a wake-up or the poll interval; False when the session's
        access token is due for renewal first (the caller logs in again)."""
        deadline = time.monotonic() + self._timings.next_poll()
        while not self._wake.is_set():
            if token_due is not None and time.monotonic() >= token_due:
                return False
            remaining = deadline - time.monotonic()
            if token_due is not None:
                remaining = min(remaining, max(0.05, token_due - time.monotonic()))
            if remaining <= 0:
                return True
            slice_ = min(self._timings.next_idle_slice(), remaining)
            started = time.monotonic()
            changed = await imap.idle_or_wait(INBOX, slice_, interrupt=self._wake)
            if self._wake.is_set():
                break  # "sync now", new settings or a stop: the IDLE ended at once
            if changed or time.monotonic() - started < slice_ * 0.9:
                return True  # the server reported something
        self._wake.clear()
        return True

    async def _account(self) -> ImapAccount:
        record = await self._store.mailbox(self.mailbox.workspace_id, self.mailbox.mailbox_id)
        secrets = await self._store.secrets(self.mailbox.mailbox_id)
        if self._oauth is not None and record.oauth is not None:
            token = await self._oauth.access_token(
                self.mailbox.mailbox_id, auth_failed=self._auth_failed
            )
            secrets = secrets | {"oauth2_access_token": token}
        return imap_account(record, secrets, self._destinations)

    async def _report(self, status: SyncStatus) -> None:
        changed = (status.state, status.error_kind) != (self._status.state, self._status.error_kind)
        self._status = status
        await self._store.save_status(self.mailbox.mailbox_id, status, self._claim.fence)
        if changed or status.state == "syncing":
            await self._publisher.publish(
                [sync_progressed(self.mailbox, status, self._clock(), self._claim)]
            )


def imap_account(
    record: MailboxRecord,
    secrets: dict[str, str],
    destinations: DestinationPolicy = PUBLIC_ONLY,
) -> ImapAccount:
    endpoint = record.imap
    if endpoint is None:
        raise ValueError(f"mailbox {record.mailbox.mailbox_id} has no IMAP account")
    return ImapAccount(
        host=endpoint.host,
        port=endpoint.port,
        username=endpoint.username,
        password=secrets.get("password"),
        oauth2_token=secrets.get("oauth2_access_token"),
        security=endpoint.security,
        destinations=destinations,
    )


def sync_progressed(
    mailbox: Mailbox, status: SyncStatus, now: datetime, claim: SyncClaim = SyncClaim("", 0)
) -> SyncProgressed:
    return SyncProgressed(
        event_id=str(uuid.uuid4()),
        workspace_id=mailbox.workspace_id,
        mailbox_id=mailbox.mailbox_id,
        member_id=mailbox.member_id,
        state=status.state,
        messages_done=status.messages_done,
        messages_total=status.messages_total,
        error_kind=status.error_kind,
        error_message=status.error_message,
        last_success_at=status.last_success_at,
        reported_at=now,
        synced_by=claim.instance_id,
        sync_fence=claim.fence,
    )


def _expected(plan: FolderPlan, status: FolderStatus) -> int:
    """Messages a plan will read: all of a folder read from the start, else at most the
    UIDs between the cursor and UIDNEXT."""
    if plan.full_resync:
        return status.messages
    return max(0, min(status.messages, status.uidnext - plan.first_uid))


class CalendarSyncer(_WakeableLoop):
    """The calendar of one mailbox (CalDAV or an .ics feed): a pass every
    `calendar_interval` seconds while the member has it turned on, or when woken. Its
    status is kept apart from the mail's: a calendar that fails stops no mail."""

    def __init__(
        self,
        record: MailboxRecord,
        *,
        store: IngestStore,
        calendars: CalendarStore,
        publisher: EventPublisher,
        timings: SyncTimings,
        clock: Callable[[], datetime] = utc_now,
        destinations: DestinationPolicy = PUBLIC_ONLY,
        tracer: trace.Tracer = tracer,
        oauth: OAuthAccounts | None = None,
    ) -> None:
        super().__init__()
        self._tracer = tracer
        self.mailbox = record.mailbox
        self._oauth = oauth
        self._bearer_refused = False  # the server refused the last access token
        self._status = record.calendar_status
        self._destinations = destinations
        self._store = store
        self._calendars = calendars
        self._publisher = publisher
        self._timings = timings
        self._clock = clock

    async def run(self) -> None:
        while True:
            delay = self._timings.calendar_interval
            try:
                await self.sync_pass()
                self._failures = 0
            except (ReauthorizationNeeded, TokenEndpointUnavailable) as error:
                self._failures += 1
                kind: SyncErrorKind = (
                    "reauthorization_needed"
                    if isinstance(error, ReauthorizationNeeded)
                    else "unreachable"
                )
                message = str(error) or "the provider refused to renew access: authorize again"
                self._status = sync_failed(self._status, kind, message, self._clock())
                await self._store.save_calendar_status(self.mailbox.mailbox_id, self._status)
                delay = self._timings.retry_after(self._failures)
            except CalendarSourceError as error:
                self._failures += 1
                self._bearer_refused = error.kind == "auth_failed"
                self._status = sync_failed(self._status, error.kind, str(error), self._clock())
                await self._store.save_calendar_status(self.mailbox.mailbox_id, self._status)
                if error.kind != "auth_failed":
                    delay = self._timings.retry_after(self._failures)
            except Exception:
                log.exception("calendar sync of mailbox %s failed", self.mailbox.mailbox_id)
                self._failures += 1
                delay = self._timings.retry_after(self._failures)
            await self._sleep_or_wake(delay)

    async def sync_pass(self) -> None:
        record = await self._store.mailbox(self.mailbox.workspace_id, self.mailbox.mailbox_id)
        link = record.calendar
        if link is None or not record.calendar_enabled:
            return
        secrets = await self._store.secrets(self.mailbox.mailbox_id)
        password = secrets.get("calendar_password") or None
        # The URL is sealed with the credentials; a mailbox connected before it was
        # (decision 0020) still has it in the clear.
        url = secrets.get("calendar_url") or link.url
        policy = self._destinations
        self._status = sync_started(self._status, 0, self._clock())
        await self._store.save_calendar_status(self.mailbox.mailbox_id, self._status)
        with self._tracer.start_as_current_span("ingest.calendar_pass") as span:
            span.set_attribute("commsintel.mailbox_id", self.mailbox.mailbox_id)
            if link.kind == "caldav":
                bearer = None
                if password is None and record.oauth is not None and self._oauth is not None:
                    # The mailbox's own OAuth2 access token (e.g. Google's CalDAV).
                    bearer = await self._oauth.access_token(
                        self.mailbox.mailbox_id, auth_failed=self._bearer_refused
                    )
                    self._bearer_refused = False
                caldav = CalDavSource(
                    CalDavAccount(
                        url,
                        link.username or None,
                        password,
                        destinations=policy,
                        bearer_token=bearer,
                    )
                )
                try:
                    result = await self._sync(caldav)
                finally:
                    await caldav.aclose()
            else:
                result = await self._sync(
                    IcsSource(IcsFeed(url, None, password, destinations=policy))
                )
        done = result.published + result.cancelled
        self._status = sync_succeeded(
            sync_advanced(self._status, done, self._clock()), self._clock()
        )
        await self._store.save_calendar_status(self.mailbox.mailbox_id, self._status)

    async def _sync(self, source: CalendarSource) -> CalendarSyncResult:
        return await sync_calendar(
            source,
            self.mailbox,
            store=self._calendars,
            publisher=self._publisher,
            now=self._clock(),
        )


Syncer = MailboxSyncer | CalendarSyncer


Removal = Callable[[str], Awaitable[None]]


class SyncSupervisor:
    """This instance's share of the mailboxes: one MailboxSyncer task per IMAP mailbox of
    the ingest.sync-requests partitions assigned to it, and one CalendarSyncer per such
    mailbox with a calendar. It follows the assignment (`assigned`, `revoked`) and the
    requests for its mailboxes (`handle`)."""

    def __init__(
        self,
        *,
        store: IngestStore,
        intake: MessageIntake,
        publisher: EventPublisher,
        timings: SyncTimings,
        calendars: CalendarStore,
        destinations: DestinationPolicy = PUBLIC_ONLY,
        tracer_provider: TracerProvider | None = None,
        oauth: OAuthAccounts | None = None,
        instance_id: str = "",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        # The sync passes' spans, in ingest's traces (the services may share a process).
        self._tracer = trace.get_tracer("commsintel.ingest.sync", tracer_provider=tracer_provider)
        self._store = store
        self._oauth = oauth
        self._destinations = destinations
        self._intake = intake
        self._publisher = publisher
        self._timings = timings
        self._calendars = calendars
        self._instance_id = instance_id
        self._clock = clock
        self._slots = SyncSlots.of(timings)  # asyncio primitives bind no loop until used
        # Set by the wiring once the consumer exists: a mailbox's partition, and what
        # finishes a removal (MailboxCommands.finish_removal).
        self.partition_of: PartitionOf = lambda mailbox_id: 0
        self.remove: Removal | None = None
        self._stopped = False  # after stop(), a late request or assignment starts nothing
        self._handing_over = asyncio.Lock()
        self._syncers: dict[
            str, list[tuple[MailboxSyncer | CalendarSyncer, asyncio.Task[None]]]
        ] = {}

    @property
    def syncing(self) -> frozenset[str]:
        """The mailboxes this instance syncs now."""
        return frozenset(self._syncers)

    async def start(self) -> None:
        observe("commsintel.mailboxes", self.mailboxes_by_state)
        observe("commsintel.backfill.backlog", self.backlog)

    async def assigned(self, partitions: frozenset[int]) -> None:
        """The group gave this instance `partitions`: sync their mailboxes (and only those)."""
        async with self._handing_over:
            records = {r.mailbox.mailbox_id: r for r in await self._store.imap_mailboxes()}
            change = hand_over(self._syncers, records, partitions, self.partition_of)
            await self._stop(change.stop)
            # Claims go to the store a few dozen at a time: thousands of mailboxes, one
            # round trip after the other, would hold the group's rebalance for seconds.
            claiming = asyncio.Semaphore(CONCURRENT_CLAIMS)

            async def watch(record: MailboxRecord) -> None:
                async with claiming:
                    await self._watch(record)

            await asyncio.gather(*(watch(records[m]) for m in sorted(change.start)))
            log.info(
                "ingest %s syncs %d mailboxes of partitions %s",
                self._instance_id,
                len(self._syncers),
                sorted(partitions),
            )

    async def revoked(self, partitions: frozenset[int]) -> None:
        """The group takes `partitions` back: their mailboxes stop here (cursors saved
        after each batch, IDLE ended) before the consumer rejoins, so before any other
        instance starts them."""
        async with self._handing_over:
            await self._stop(owned(self._syncers, partitions, self.partition_of))

    async def handle(self, events: list[Event]) -> None:
        """Requests for mailboxes of this instance's partitions, in their order."""
        for event in events:
            if isinstance(event, SyncRequested):
                await self._handle(event)

    async def _handle(self, request: SyncRequested) -> None:
        mailbox_id = request.mailbox_id
        if request.reason == "removed":
            await self.forget(mailbox_id)
            if self.remove is not None:
                await self.remove(mailbox_id)
            return
        if request.reason == "reconnected":
            await self.forget(mailbox_id)  # the new credentials: log in again
        if mailbox_id in self._syncers:
            self.wake(mailbox_id)
            return
        try:
            record = await self._store.mailbox_by_id(mailbox_id)
        except UnknownItem:
            return  # removed since
        if record.source == "imap" and not record.removal_requested:
            await self._watch(record)

    async def _stop(self, mailbox_ids: Iterable[str]) -> None:
        await asyncio.gather(*(self.forget(mailbox_id) for mailbox_id in mailbox_ids))

    def _mail_syncers(self) -> list[MailboxSyncer]:
        return [
            syncer
            for running in list(self._syncers.values())
            for syncer, _ in running
            if isinstance(syncer, MailboxSyncer)
        ]

    def mailboxes_by_state(self) -> list[tuple[float, dict]]:
        """The commsintel.mailboxes gauge: this instance's IMAP mailboxes per sync state."""
        counts = dict.fromkeys(get_args(SyncState), 0)
        for syncer in self._mail_syncers():
            counts[syncer.status.state] = counts.get(syncer.status.state, 0) + 1
        return [(count, {"commsintel.sync.state": state}) for state, count in counts.items()]

    def backlog(self) -> list[tuple[float, dict]]:
        """The commsintel.backfill.backlog gauge: messages the running passes still have
        to fetch (a backfill's remainder; an incremental pass's few)."""
        remaining = sum(
            max(0, syncer.status.messages_total - syncer.status.messages_done)
            for syncer in self._mail_syncers()
            if syncer.status.state == "syncing"
        )
        return [(remaining, {})]

    async def _watch(self, record: MailboxRecord) -> None:
        mailbox_id = record.mailbox.mailbox_id
        if mailbox_id in self._syncers or self._stopped:
            return
        fence = await self._store.claim_sync(mailbox_id, self._instance_id, self._clock())
        if fence is None or self._stopped:
            return  # removed meanwhile, or this instance is stopping
        syncers: list[Syncer] = [
            MailboxSyncer(
                record,
                store=self._store,
                intake=self._intake,
                publisher=self._publisher,
                timings=self._timings,
                destinations=self._destinations,
                tracer=self._tracer,
                oauth=self._oauth,
                claim=SyncClaim(self._instance_id, fence),
                slots=self._slots,
            )
        ]
        if record.calendar is not None:
            syncers.append(
                CalendarSyncer(
                    record,
                    store=self._store,
                    calendars=self._calendars,
                    publisher=self._publisher,
                    timings=self._timings,
                    destinations=self._destinations,
                    tracer=self._tracer,
                    oauth=self._oauth,
                )
            )
        running = []
        for syncer in syncers:
            kind = "calendar" if isinstance(syncer, CalendarSyncer) else "mail"
            task = asyncio.create_task(syncer.run(), name=f"sync {kind} {mailbox_id}")
            task.add_done_callback(_log_crash)
            running.append((syncer, task))
        running[0][1].add_done_callback(lambda task: self._ended(mailbox_id, task))
        self._syncers[mailbox_id] = running

    def _ended(self, mailbox_id: str, task: asyncio.Task[None]) -> None:
        """A mail sync that stopped by itself (fenced: synced elsewhere now) is no longer
        this instance's; its calendar stops with it."""
        running = self._syncers.get(mailbox_id)
        if task.cancelled() or not running or running[0][1] is not task:
            return
        del self._syncers[mailbox_id]
        for _, other in running[1:]:
            other.cancel()

    def wake(self, mailbox_id: str) -> None:
        for syncer, _ in self._syncers.get(mailbox_id, ()):
            syncer.wake()

    async def forget(self, mailbox_id: str) -> None:
        for _, task in self._syncers.pop(mailbox_id, ()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        self._stopped = True
        forget("commsintel.mailboxes", self.mailboxes_by_state)
        forget("commsintel.backfill.backlog", self.backlog)
        await self._stop(list(self._syncers))


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("mailbox sync task %s crashed", task.get_name(), exc_info=task.exception())
