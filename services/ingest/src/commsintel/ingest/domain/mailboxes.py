"""A connected mailbox as ingest knows it: where it syncs from (never its secrets), the
member's settings for it, and where its sync stands."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from commsintel.contracts import ids
from commsintel.ingest.domain.blocklist import BlocklistEntry

SyncState = Literal["syncing", "idle", "error"]
SyncErrorKind = Literal["", "auth_failed", "unreachable", "server_error", "reauthorization_needed"]
ImapSecurity = Literal["tls", "starttls", "none"]


@dataclass(frozen=True, slots=True)
class ImapEndpoint:
    host: str
    port: int
    security: ImapSecurity
    username: str
    auth: Literal["password", "xoauth2"]


@dataclass(frozen=True, slots=True)
class SmtpEndpoint:
    host: str
    port: int
    security: ImapSecurity
    username: str


@dataclass(frozen=True, slots=True)
class CalendarLink:
    kind: Literal["caldav", "ics"]
    url: str
    username: str = ""


@dataclass(frozen=True, slots=True)
class SyncStatus:
    state: SyncState = "idle"
    messages_done: int = 0
    messages_total: int = 0
    error_kind: SyncErrorKind = ""
    error_message: str = ""
    last_success_at: datetime | None = None
    updated_at: datetime | None = None


def sync_started(status: SyncStatus, total: int, now: datetime) -> SyncStatus:
    """A pass begins: progress counts from zero; a previous error stays until it succeeds."""
    return replace(status, state="syncing", messages_done=0, messages_total=total, updated_at=now)


def sync_advanced(status: SyncStatus, done: int, now: datetime) -> SyncStatus:
    return replace(
        status,
        messages_done=done,
        messages_total=max(status.messages_total, done),
        updated_at=now,
    )


def sync_succeeded(status: SyncStatus, now: datetime) -> SyncStatus:
    return replace(
        status,
        state="idle",
        error_kind="",
        error_message="",
        last_success_at=now,
        updated_at=now,
    )


def sync_failed(status: SyncStatus, kind: SyncErrorKind, message: str, now: datetime) -> SyncStatus:
    """Errors keep the time of the last success, so the member sees how stale it is."""
    return replace(status, state="error", error_kind=kind, error_message=message, updated_at=now)


def retry_delay(failures: int, *, base: float = 2.0, ceiling: float = 300.0) -> float:
    """Seconds before the next attempt after `failures` consecutive failures (1, 2, ...):
    doubling from `base`, capped at `ceiling`."""
    if failures < 1:
        return 0.0
    return min(ceiling, base * 2 ** min(failures - 1, 30))


def jittered(delay: float, draw: float, low: float = 0.5, high: float = 1.0) -> float:
    """`delay` spread over [low * delay, high * delay) by `draw` in [0, 1) (by default
    [delay/2, delay)): mailboxes that failed, started or polled together (after a server
    outage, a restart, a rebalance) do not all act again at the same moment."""
    return delay * (low + (high - low) * min(max(draw, 0.0), 1.0))


def imap_mailbox_id(workspace_id: str, member_id: str, endpoint: ImapEndpoint) -> str:
    """The same account connected again by the same member is the same mailbox."""
    account = f"imap://{endpoint.username.lower()}@{endpoint.host.lower()}:{endpoint.port}"
    return ids.mailbox_id(workspace_id, member_id, account)


def blocklist_values(entries: tuple[BlocklistEntry, ...]) -> tuple[str, ...]:
    return tuple(entry.value for entry in entries)
