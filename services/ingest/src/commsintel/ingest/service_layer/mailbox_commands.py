"""What a member can do with their mailboxes: connect, read, change settings, reconnect,
sync now, remove. Checks ownership, stores, publishes, and asks the instance that syncs
the mailbox (whichever it is) to start, sync, restart or remove it: a SyncRequested on
ingest.sync-requests, keyed by mailbox, reaches that instance (docs/decisions/0027).

Hosts and calendar URLs a member gives are checked against the destination policy before
anything is stored or fetched; a calendar URL is sealed with the credentials, and only
its redacted form is kept in the clear (decision 0020)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from urllib.parse import quote

from commsintel.contracts import ids
from commsintel.contracts.auth import Caller
from commsintel.contracts.errors import AlreadyKnown, InvalidValue
from commsintel.contracts.events import MailboxRemoved, MailboxSettingsChanged, SyncRequested
from commsintel.ingest.adapters.content_store import ContentStore
from commsintel.ingest.adapters.destinations import PUBLIC_ONLY, check_before_saving
from commsintel.ingest.adapters.store import IngestStore, MailboxRecord
from commsintel.ingest.domain.blocklist import BlocklistEntry, InvalidBlocklistEntry, parse_entries
from commsintel.ingest.domain.destinations import (
    DestinationPolicy,
    DestinationRefused,
    calendar_url_destination,
)
from commsintel.ingest.domain.mailboxes import (
    CalendarLink,
    ImapEndpoint,
    SmtpEndpoint,
    imap_mailbox_id,
)
from commsintel.ingest.domain.oauth import OAuthCredential, ProviderName
from commsintel.ingest.domain.secret_forms import redacted_url
from commsintel.ingest.domain.sightings import Mailbox, mailbox_connected
from commsintel.ingest.service_layer.intake import IntakeCounts, MessageIntake
from commsintel.ingest.service_layer.oauth_accounts import (
    OAuthAccounts,
    OAuthGrantRequest,
    StartedAuthorization,
    sealed_tokens,
)
from commsintel.platform.streaming import EventPublisher

# Other stores that keep something per mailbox (e.g. the calendar store): each is
# told to forget a removed mailbox.
Forgetter = Callable[[str], object]


@dataclass(frozen=True)
class ImapConnection:
    endpoint: ImapEndpoint
    secret: str  # the password or the OAuth2 access token, per endpoint.auth
    # An OAuth2 grant kept fresh by ingest (decision 0025): then `secret` is empty, and an
    # empty host takes the provider's preset.
    oauth: OAuthGrantRequest | None = None


@dataclass(frozen=True)
class SmtpConnection:
    endpoint: SmtpEndpoint
    password: str = ""  # empty: the IMAP secret


@dataclass(frozen=True)
class CalendarConnection:
    link: CalendarLink
    password: str = ""


class MailboxCommands:
    def __init__(
        self,
        *,
        store: IngestStore,
        contents: ContentStore,
        intake: MessageIntake,
        publisher: EventPublisher,
        forgetters: tuple[Forgetter, ...] = (),
        destinations: DestinationPolicy = PUBLIC_ONLY,
        oauth: OAuthAccounts | None = None,
        removal_wait: float = 10.0,
    ) -> None:
        self._store = store
        self._oauth = oauth
        self._destinations = destinations
        self._contents = contents
        self._intake = intake
        self._publisher = publisher
        self._forgetters = forgetters
        self._removal_wait = removal_wait

    async def connect(
        self,
        caller: Caller,
        imap: ImapConnection,
        owner_addresses: tuple[str, ...],
        calendar: CalendarConnection | None,
        blocklist: tuple[str, ...],
        now: datetime,
        smtp: SmtpConnection | None = None,
        sender_name: str = "",
    ) -> MailboxRecord:
        imap, smtp, calendar = await self._with_preset(caller, imap, smtp, calendar)
        owners = _owner_addresses(owner_addresses, imap.endpoint.username)
        entries = _entries(blocklist)
        await self._check_destinations(imap, calendar, smtp)
        mailbox_id = imap_mailbox_id(caller.workspace_id, caller.member_id, imap.endpoint)
        if await self._store.exists(mailbox_id):  # before a one-time code is spent
            raise AlreadyKnown(f"this account is already connected as mailbox {mailbox_id}")
        secrets, oauth = await self._secrets(caller, imap, calendar, smtp)
        mailbox = Mailbox(
            workspace_id=caller.workspace_id,
            mailbox_id=imap_mailbox_id(caller.workspace_id, caller.member_id, imap.endpoint),
            member_id=caller.member_id,
            owner_addresses=owners,
        )
        record = await self._store.create_imap_mailbox(
            mailbox,
            imap=imap.endpoint,
            calendar=_shown_link(calendar),
            blocklist=entries,
            secrets=secrets,
            now=now,
            smtp=smtp.endpoint if smtp else None,
            sender_name=sender_name.strip(),
            oauth=oauth,
        )
        await self._publisher.publish(
            [mailbox_connected(mailbox, "imap", now), self._request(mailbox, "connected", now)]
        )
        return record

    async def start_authorization(
        self, caller: Caller, provider: ProviderName, login_hint: str
    ) -> StartedAuthorization:
        if self._oauth is None:
            raise InvalidValue("OAuth2 accounts are not configured on this server")
        return await self._oauth.start(caller, provider, login_hint)

    async def get(self, caller: Caller, mailbox_id: str) -> MailboxRecord:
        return await self._store.mailbox(
            caller.workspace_id, mailbox_id, member_id=caller.member_id
        )

    async def list(self, caller: Caller) -> list[MailboxRecord]:
        return await self._store.mailboxes_of(caller.workspace_id, caller.member_id)

    async def update_settings(
        self,
        caller: Caller,
        mailbox_id: str,
        *,
        blocklist: tuple[str, ...] | None,
        calendar_enabled: bool | None,
        now: datetime,
    ) -> tuple[MailboxRecord, IntakeCounts]:
        record = await self.get(caller, mailbox_id)
        before = record.blocklist
        after = _entries(blocklist) if blocklist is not None else before
        enabled = record.calendar_enabled if calendar_enabled is None else calendar_enabled
        if enabled and record.calendar is None:
            raise InvalidValue("this mailbox has no calendar to turn on")
        await self._store.save_settings(mailbox_id, blocklist=after, calendar_enabled=enabled)
        if enabled != record.calendar_enabled:  # the calendar starts (or stops) now
            await self._publisher.publish([self._request(record.mailbox, "settings_changed", now)])
        counts = await self._intake.blocklist_changed(record.mailbox, before, after, now)
        await self._publisher.publish(
            [
                MailboxSettingsChanged(
                    event_id=ids.event_id(
                        caller.workspace_id, "MailboxSettingsChanged", mailbox_id, now.isoformat()
                    ),
                    workspace_id=caller.workspace_id,
                    mailbox_id=mailbox_id,
                    member_id=caller.member_id,
                    calendar_enabled=enabled,
                    blocklist=tuple(entry.value for entry in after),
                    changed_at=now,
                )
            ]
        )
        return await self.get(caller, mailbox_id), counts

    async def reconnect(
        self,
        caller: Caller,
        mailbox_id: str,
        imap: ImapConnection,
        calendar: CalendarConnection | None,
        now: datetime,
        smtp: SmtpConnection | None = None,
    ) -> MailboxRecord:
        record = await self.get(caller, mailbox_id)
        if record.source != "imap":
            raise InvalidValue("an imported archive has no credentials to replace")
        imap, smtp, calendar = await self._with_preset(caller, imap, smtp, calendar)
        if record.imap is not None and (
            imap.endpoint.host.lower(),
            imap.endpoint.port,
            imap.endpoint.username.lower(),
        ) != (record.imap.host.lower(), record.imap.port, record.imap.username.lower()):
            raise InvalidValue(
                "reconnect takes new credentials for the same account; "
                "connect a different account as a new mailbox"
            )
        await self._check_destinations(imap, calendar, smtp)
        secrets, oauth = await self._secrets(caller, imap, calendar, smtp)
        old = await self._store.secrets(mailbox_id)
        kept = {
            "calendar_password": calendar is None,
            "calendar_url": calendar is None,
            "smtp_password": smtp is None,
        }
        for name, keep in kept.items():  # what is not replaced stays
            if keep and name in old:
                secrets[name] = old[name]
        await self._store.replace_credentials(
            mailbox_id,
            imap=imap.endpoint,
            calendar=_shown_link(calendar),
            secrets=secrets,
            now=now,
            smtp=smtp.endpoint if smtp else None,
            oauth=oauth,
        )
        record = await self.get(caller, mailbox_id)
        await self._publisher.publish([self._request(record.mailbox, "reconnected", now)])
        return record

    async def _with_preset(
        self,
        caller: Caller,
        imap: ImapConnection,
        smtp: SmtpConnection | None,
        calendar: CalendarConnection | None,
    ) -> tuple[ImapConnection, SmtpConnection | None, CalendarConnection | None]:
        """An OAuth2 account's servers from its provider's preset where the member left
        them out: IMAP when no host is given, SMTP when no SMTP settings are, the CalDAV
        URL when a CalDAV calendar is asked for without one."""
        no_caldav_url = calendar is not None and not calendar.link.url
        if imap.oauth is None:
            if no_caldav_url:
                raise InvalidValue("calendar.caldav.url must be an http(s) URL")
            return imap, smtp, calendar
        if self._oauth is None:
            raise InvalidValue("OAuth2 accounts are not configured on this server")
        if not imap.endpoint.username:
            raise InvalidValue("imap.username is required: the account's address")
        provider = imap.oauth.provider
        if provider is None and imap.oauth.state:  # the provider the state was started for
            provider = await self._store.authorization_provider(
                imap.oauth.state, workspace_id=caller.workspace_id, member_id=caller.member_id
            )
        provider_name = provider or "an unknown provider"
        preset = self._oauth.client(provider).provider if provider is not None else None
        if not imap.endpoint.host:
            if preset is None or preset.imap is None:
                raise InvalidValue(
                    f"imap.host is required (no IMAP preset for {provider_name}, "
                    "or no provider given)"
                )
            endpoint = replace(
                imap.endpoint,
                host=preset.imap.host,
                port=preset.imap.port,
                security=preset.imap.security,
            )
            imap = replace(imap, endpoint=endpoint)
        if smtp is None and preset is not None and preset.smtp is not None:
            smtp = SmtpConnection(
                SmtpEndpoint(
                    preset.smtp.host,
                    preset.smtp.port,
                    preset.smtp.security,
                    imap.endpoint.username,
                )
            )
        if calendar is not None and no_caldav_url:
            if preset is None or not preset.caldav_url:
                raise InvalidValue(
                    f"calendar.caldav.url is required (no CalDAV preset for {provider_name})"
                )
            url = preset.caldav_url.format(username=quote(imap.endpoint.username, safe="@"))
            link = replace(calendar.link, url=url, username=imap.endpoint.username)
            calendar = replace(calendar, link=link)
        return imap, smtp, calendar

    async def _secrets(
        self,
        caller: Caller,
        imap: ImapConnection,
        calendar: CalendarConnection | None,
        smtp: SmtpConnection | None,
    ) -> tuple[dict[str, str], OAuthCredential | None]:
        """What is sealed for the mailbox, and the OAuth2 credential's first state. The
        authorization code is exchanged here, after every other check passed: it is good
        only once."""
        secrets = _secrets(imap, calendar, smtp)
        if imap.oauth is None or self._oauth is None:
            return secrets, None
        _, tokens, credential = await self._oauth.grant(caller, imap.oauth)
        secrets.pop("oauth2_access_token", None)
        return secrets | sealed_tokens(tokens), credential

    async def _check_destinations(
        self,
        imap: ImapConnection,
        calendar: CalendarConnection | None,
        smtp: SmtpConnection | None,
    ) -> None:
        """INVALID_ARGUMENT for a host or URL this server does not connect to, before
        anything is stored or fetched. The answer never depends on this server's files."""
        targets = [("imap.host", imap.endpoint.host, imap.endpoint.port)]
        if smtp is not None:
            targets.append(("smtp.host", smtp.endpoint.host, smtp.endpoint.port))
        try:
            if calendar is not None:
                _, host, port = calendar_url_destination(calendar.link.url)
                targets.append(("the calendar URL's host", host, port))
            for field_name, host, port in targets:
                try:
                    await check_before_saving(self._destinations, host, port)
                except DestinationRefused as refused:
                    raise DestinationRefused(f"{field_name}: {refused}") from None
        except DestinationRefused as refused:
            raise InvalidValue(str(refused)) from None

    async def sync_now(self, caller: Caller, mailbox_id: str, now: datetime) -> MailboxRecord:
        record = await self.get(caller, mailbox_id)
        await self._publisher.publish([self._request(record.mailbox, "sync_now", now)])
        return record

    async def remove(self, caller: Caller, mailbox_id: str, now: datetime) -> None:
        """Gone for the member at once; the instance that syncs it stops it and deletes
        it (finish_removal). Waits a little for that, so that in the usual case it is
        done when the call returns; if not, it completes when that instance can."""
        record = await self.get(caller, mailbox_id)
        await self._store.request_removal(mailbox_id, now)
        await self._publisher.publish([self._request(record.mailbox, "removed", now)])
        deadline = time.monotonic() + self._removal_wait
        while await self._store.exists(mailbox_id) and time.monotonic() < deadline:  # noqa: ASYNC110 (another process deletes it)
            await asyncio.sleep(0.1)

    async def finish_removal(self, mailbox_id: str) -> None:
        """On the instance that syncs the mailbox, once its sync has stopped: announce,
        then delete: content key first (crypto-shredding), then the content, cursors,
        sightings and credentials. Done again after a crash, it ends the same way."""
        pending = await self._store.removal_pending(mailbox_id)
        if pending is None:
            return
        record, requested_at = pending
        mailbox = record.mailbox
        await self._publisher.publish(
            [
                MailboxRemoved(
                    event_id=ids.event_id(
                        mailbox.workspace_id, "MailboxRemoved", mailbox_id, requested_at.isoformat()
                    ),
                    workspace_id=mailbox.workspace_id,
                    mailbox_id=mailbox_id,
                    member_id=mailbox.member_id,
                    removed_at=requested_at,
                )
            ]
        )
        await self._contents.forget_mailbox(mailbox_id)
        for forget in self._forgetters:
            result = forget(mailbox_id)
            if hasattr(result, "__await__"):
                await result  # type: ignore[misc]
        await self._store.forget_mailbox(mailbox_id)

    @staticmethod
    def _request(
        mailbox: Mailbox,
        reason: Literal["connected", "reconnected", "sync_now", "settings_changed", "removed"],
        now: datetime,
    ) -> SyncRequested:
        return SyncRequested(
            event_id=ids.event_id(
                mailbox.workspace_id, "SyncRequested", mailbox.mailbox_id, reason, now.isoformat()
            ),
            workspace_id=mailbox.workspace_id,
            mailbox_id=mailbox.mailbox_id,
            reason=reason,
            requested_at=now,
        )

    async def quarantined(
        self, caller: Caller, mailbox_id: str, *, after: str, limit: int
    ) -> list[dict]:
        await self.get(caller, mailbox_id)
        return await self._store.quarantined(mailbox_id, after=after, limit=limit)


def _owner_addresses(given: tuple[str, ...], username: str) -> frozenset[str]:
    addresses = {a.strip().lower() for a in given if a.strip()}
    if not addresses and "@" in username:
        addresses = {username.strip().lower()}
    if not addresses:
        raise InvalidValue(
            "owner_addresses is empty and the IMAP username is not an address: "
            "say which addresses are the member's in this mailbox"
        )
    bad = sorted(a for a in addresses if "@" not in a or a.startswith("@") or a.endswith("@"))
    if bad:
        raise InvalidValue(f"not an email address: {bad[0]!r}")
    return frozenset(addresses)


def _entries(texts: tuple[str, ...]) -> tuple[BlocklistEntry, ...]:
    try:
        return parse_entries(texts)
    except InvalidBlocklistEntry as error:
        raise InvalidValue(str(error)) from None


def _secrets(
    imap: ImapConnection, calendar: CalendarConnection | None, smtp: SmtpConnection | None
) -> dict[str, str]:
    key = "password" if imap.endpoint.auth == "password" else "oauth2_access_token"
    secrets = {key: imap.secret}
    if calendar is not None and calendar.password:
        secrets["calendar_password"] = calendar.password
    if calendar is not None:
        secrets["calendar_url"] = calendar.link.url
    if smtp is not None and smtp.password:
        secrets["smtp_password"] = smtp.password
    return secrets


def _shown_link(calendar: CalendarConnection | None) -> CalendarLink | None:
    """The calendar as stored in the clear: its URL redacted (the whole URL is sealed)."""
    if calendar is None:
        return None
    return replace(calendar.link, url=redacted_url(calendar.link.url))
