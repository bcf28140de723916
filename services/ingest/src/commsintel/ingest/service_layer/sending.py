"""Sending from a member's own mailbox: one email, or a personalized mass send.

- Idempotent: a request is stored under (mailbox, idempotency key) before anything is
  sent; the same key again answers with what the first request did. A send interrupted
  after it was handed to the server cannot be known to have failed, so it is reported
  as interrupted and never sent again.
- Paced: one mailbox sends at most `per_minute` messages a minute (this instance).
- Recorded: a message the server accepted is copied to the Sent folder (where the
  server allows) and taken in like synced mail (MessageSynced, direction "sent"), so it
  counts for record creation and intelligence at once; the later IMAP sync of the Sent
  folder recognizes it by its Message-ID and publishes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from commsintel.contracts.auth import Caller
from commsintel.contracts.errors import InvalidValue, UnknownItem
from commsintel.ingest.adapters.content_store import ContentStore
from commsintel.ingest.adapters.destinations import PUBLIC_ONLY
from commsintel.ingest.adapters.imap import ImapError, ImapSession
from commsintel.ingest.adapters.oauth import TokenEndpointUnavailable
from commsintel.ingest.adapters.record_directory import PersonCard, RecordDirectory
from commsintel.ingest.adapters.send_store import SendStore, new_document, send_id
from commsintel.ingest.adapters.smtp import SmtpAccount, SmtpError, submit
from commsintel.ingest.adapters.store import IngestStore, MailboxRecord
from commsintel.ingest.domain.destinations import DestinationPolicy
from commsintel.ingest.domain.folder_sync import sent_folder
from commsintel.ingest.domain.parsing import MalformedMessage, parse_message
from commsintel.ingest.domain.sending import (
    Draft,
    MessageTemplate,
    RenderedMessage,
    TemplateProblem,
    ThreadParent,
    check_template,
    compose,
    message_id_for,
    next_send_at,
    person_context,
    render,
)
from commsintel.ingest.service_layer.intake import MessageIntake
from commsintel.ingest.service_layer.oauth_accounts import OAuthAccounts, ReauthorizationNeeded
from commsintel.ingest.service_layer.sync import imap_account

REAUTHORIZE = "the mailbox needs a new authorization from its provider: reconnect it"
TOKEN_UNAVAILABLE = "the provider did not renew access in time; retry later"
log = logging.getLogger(__name__)
MAX_RECIPIENTS = 100
MAX_MASS_RECIPIENTS = 5_000
INTERRUPTED_AFTER = timedelta(minutes=5)
INTERRUPTED = "interrupted while being sent; not retried, so that it is never sent twice"


class MailboxPacer:
    """Spaces one mailbox's messages at least 60/per_minute seconds apart."""

    def __init__(self, per_minute: float, clock: Callable[[], datetime]) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, datetime] = {}

    @contextlib.asynccontextmanager
    async def slot(self, mailbox_id: str):
        async with self._locks.setdefault(mailbox_id, asyncio.Lock()):
            wait = next_send_at(self._last.get(mailbox_id), self._clock(), self._per_minute)
            delay = (wait - self._clock()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                yield
            finally:
                self._last[mailbox_id] = self._clock()


class SendCommands:
    def __init__(
        self,
        *,
        store: IngestStore,
        sends: SendStore,
        contents: ContentStore,
        intake: MessageIntake,
        directory: RecordDirectory,
        per_minute: float,
        clock: Callable[[], datetime],
        destinations: DestinationPolicy = PUBLIC_ONLY,
        oauth: OAuthAccounts | None = None,
    ) -> None:
        self._store = store
        self._oauth = oauth
        self._destinations = destinations
        self._sends = sends
        self._contents = contents
        self._intake = intake
        self._directory = directory
        self._clock = clock
        self._pacer = MailboxPacer(per_minute, clock)
        self._workers: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        for document in await self._sends.unfinished_mass_sends():
            self._work_on(document["_id"], document["workspace_id"])

    async def stop(self) -> None:
        for task in self._workers.values():
            task.cancel()
        for task in list(self._workers.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()

    # -- one email -------------------------------------------------------------------

    async def send_email(
        self,
        caller: Caller,
        mailbox_id: str,
        idempotency_key: str,
        draft_of: Callable[[MailboxRecord], Draft],
        in_reply_to_key: str,
    ) -> dict[str, Any]:
        record = await self._sending_mailbox(caller, mailbox_id)
        draft = draft_of(record)
        _check_addresses((*draft.to, *draft.cc, *draft.bcc), limit=MAX_RECIPIENTS)
        parent = await self._parent(mailbox_id, in_reply_to_key) if in_reply_to_key else None
        key = _idempotency(idempotency_key)
        now = self._clock()
        message_id = message_id_for(mailbox_id, key, draft.sender_address)
        raw = compose(draft, message_id=message_id, date=now, parent=parent)
        document, created = await self._sends.create(
            new_document(
                "single",
                caller.workspace_id,
                caller.member_id,
                mailbox_id,
                key,
                now,
                state="sending",
                message_key=message_id.strip("<>"),
            )
        )
        if not created:
            return _settled(document, now)
        outcome = await self._deliver(record, draft.recipients, raw)
        await self._sends.finish_single(document["_id"], outcome)
        return {**document, **outcome}

    # -- mass send -------------------------------------------------------------------

    async def start_mass_send(
        self,
        caller: Caller,
        mailbox_id: str,
        idempotency_key: str,
        template: MessageTemplate,
        person_ids: list[str],
    ) -> dict[str, Any]:
        record = await self._sending_mailbox(caller, mailbox_id)
        _check_template(template)
        people = list(dict.fromkeys(p.strip() for p in person_ids if p.strip()))
        if not people:
            raise InvalidValue("person_ids is empty")
        if len(people) > MAX_MASS_RECIPIENTS:
            raise InvalidValue(f"a mass send has at most {MAX_MASS_RECIPIENTS} recipients")
        key = _idempotency(idempotency_key)
        existing = await self._sends.get(caller.workspace_id, send_id(mailbox_id, key))
        if existing is not None:
            return existing
        now = self._clock()
        document = new_document(
            "mass", caller.workspace_id, caller.member_id, mailbox_id, key, now, recipients=[]
        )
        for person_id in people:
            document["recipients"].append(
                await self._prepared(record, template, person_id, key, document["_id"], now)
            )
        document, created = await self._sends.create(document)
        if created:
            self._work_on(document["_id"], caller.workspace_id)
        return document

    async def get_mass_send(self, caller: Caller, mass_send_id: str) -> dict[str, Any]:
        document = await self._sends.get(caller.workspace_id, mass_send_id)
        if (
            document is None
            or document["kind"] != "mass"
            or document["member_id"] != caller.member_id
        ):
            raise UnknownItem(f"no mass send {mass_send_id}")
        return document

    async def preview(
        self, caller: Caller, mailbox_id: str, template: MessageTemplate, person_id: str
    ) -> tuple[str, RenderedMessage | str]:
        """(address, the rendering) or (address, why it cannot be rendered)."""
        record = await self._sending_mailbox(caller, mailbox_id, need_smtp=False)
        _check_template(template)
        card = await self._directory.person(person_id)
        try:
            return card.address, render(template, _context(record, card))
        except TemplateProblem as problem:
            return card.address, str(problem)

    async def _prepared(
        self,
        record: MailboxRecord,
        template: MessageTemplate,
        person_id: str,
        key: str,
        document_id: str,
        now: datetime,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {"person_id": person_id, "address": "", "message_key": ""}
        try:
            card = await self._directory.person(person_id)
        except UnknownItem:
            return {**entry, "state": "failed", "reason": "no such person"}
        entry["address"] = card.address
        if not card.address:
            return {**entry, "state": "failed", "reason": "the person has no email address"}
        try:
            rendered = render(template, _context(record, card))
        except TemplateProblem as problem:
            return {**entry, "state": "failed", "reason": str(problem)}
        draft = Draft(
            sender_address=record.sender_address,
            sender_name=record.sender_name,
            to=(card.address,),
            subject=rendered.subject,
            text_body=rendered.text_body,
            html_body=rendered.html_body,
        )
        message_id = message_id_for(
            record.mailbox.mailbox_id, f"{key}\x1f{person_id}", draft.sender_address
        )
        raw = compose(draft, message_id=message_id, date=now)
        sealed = await self._contents.seal(
            record.mailbox.mailbox_id, raw, f"send:{document_id}:{person_id}"
        )
        return {
            **entry,
            "state": "queued",
            "reason": "",
            "message_key": message_id.strip("<>"),
            "sealed": sealed,
        }

    def _work_on(self, document_id: str, workspace_id: str) -> None:
        if document_id in self._workers and not self._workers[document_id].done():
            return
        task = asyncio.create_task(
            self._work(document_id, workspace_id), name=f"send {document_id}"
        )
        self._workers[document_id] = task

    async def _work(self, document_id: str, workspace_id: str) -> None:
        document = await self._sends.get(workspace_id, document_id)
        if document is None:
            return
        mailbox_id = document["mailbox_id"]
        record = await self._store.mailbox(workspace_id, mailbox_id)
        for index, recipient in enumerate(document["recipients"]):
            if recipient["state"] == "sending":  # we stopped after handing it over
                await self._sends.set_recipient(
                    document_id, index, {"state": "failed", "reason": INTERRUPTED}, drop_sealed=True
                )
            if recipient["state"] != "queued":
                continue
            if not await self._sends.claim_recipient(document_id, index):
                continue  # another worker has it
            raw = await self._contents.unseal(
                mailbox_id,
                bytes(recipient["sealed"]),
                f"send:{document_id}:{recipient['person_id']}",
            )
            outcome = await self._deliver(record, (recipient["address"],), raw)
            failed = outcome["state"] == "failed" or outcome["refused"]
            reason = outcome["failure"] or "; ".join(r["reason"] for r in outcome["refused"])
            await self._sends.set_recipient(
                document_id,
                index,
                {"state": "failed" if failed else "sent", "reason": reason if failed else ""},
                drop_sealed=True,
            )

    # -- shared --------------------------------------------------------------------------

    async def _deliver(
        self, record: MailboxRecord, recipients: tuple[str, ...], raw: bytes
    ) -> dict[str, Any]:
        mailbox = record.mailbox
        secrets = await self._store.secrets(mailbox.mailbox_id)
        if self._oauth is not None and record.oauth is not None:
            # The same fresh access token as the sync's (decision 0025).
            try:
                token = await self._oauth.access_token(mailbox.mailbox_id)
            except ReauthorizationNeeded:
                return {"state": "failed", "failure": REAUTHORIZE, "refused": []}
            except TokenEndpointUnavailable:
                return {"state": "failed", "failure": TOKEN_UNAVAILABLE, "refused": []}
            secrets = secrets | {"oauth2_access_token": token}
        account = smtp_account(record, secrets, self._destinations)
        try:
            async with self._pacer.slot(mailbox.mailbox_id):
                submitted = await submit(account, record.sender_address, recipients, raw)
        except SmtpError as error:
            return {"state": "failed", "failure": str(error), "refused": []}
        refused = [{"address": a, "reason": r} for a, r in sorted(submitted.refused.items())]
        if len(refused) < len(recipients):
            await self._record_sent(record, secrets, raw)
        state = "failed" if len(refused) == len(recipients) else "sent"
        return {"state": state, "failure": "", "refused": refused}

    async def _record_sent(
        self, record: MailboxRecord, secrets: dict[str, str], raw: bytes
    ) -> None:
        mailbox = record.mailbox
        try:
            async with ImapSession(imap_account(record, secrets, self._destinations)) as imap:
                folder = sent_folder(await imap.folders())
                if folder is not None:
                    await imap.append(folder, raw)
        except ImapError as error:  # the copy is a courtesy; the event below is the record
            log.warning("sent mail of %s not copied to Sent: %s", mailbox.mailbox_id, error)
        try:
            parsed = parse_message(raw, owner_addresses=mailbox.owner_addresses)
        except MalformedMessage as malformed:  # our own composition: should never happen
            await self._store.quarantine(mailbox, "sent", raw, malformed.reason)
            return
        await self._intake.take(mailbox, record.blocklist, [(raw, parsed)], self._clock())

    async def _sending_mailbox(
        self, caller: Caller, mailbox_id: str, *, need_smtp: bool = True
    ) -> MailboxRecord:
        if not mailbox_id.strip():
            raise InvalidValue("mailbox_id is required")
        record = await self._store.mailbox(
            caller.workspace_id, mailbox_id, member_id=caller.member_id
        )
        if need_smtp and record.smtp is None:
            raise InvalidValue(
                "this mailbox has no SMTP settings: reconnect it with smtp to send from it"
            )
        return record

    async def _parent(self, mailbox_id: str, message_key: str) -> ThreadParent:
        sighting = await self._store.sighting(mailbox_id, message_key.strip().strip("<>"))
        if sighting is None:
            raise InvalidValue(
                f"in_reply_to_message_key {message_key!r} is not a message of this mailbox"
            )
        return ThreadParent(
            message_id=f"<{sighting['message_key']}>",
            references=tuple(f"<{ref}>" for ref in sighting.get("references", ())),
        )


def smtp_account(
    record: MailboxRecord,
    secrets: dict[str, str],
    destinations: DestinationPolicy = PUBLIC_ONLY,
) -> SmtpAccount:
    smtp = record.smtp
    assert smtp is not None
    password = secrets.get("smtp_password") or secrets.get("password")
    token = None if password else secrets.get("oauth2_access_token")
    return SmtpAccount(
        host=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=password,
        oauth2_token=token,
        security=smtp.security,
        destinations=destinations,
    )


def _context(record: MailboxRecord, card: PersonCard) -> dict[str, dict[str, str]]:
    return {
        "person": person_context(card.name, card.address, card.job_title, card.phone),
        "company": {
            "name": card.company_name,
            "domain": card.company_domain,
            "description": card.company_description,
        },
        "sender": {"name": record.sender_name, "email": record.sender_address},
    }


def _check_template(template: MessageTemplate) -> None:
    try:
        check_template(template)
    except TemplateProblem as problem:
        raise InvalidValue(str(problem)) from None


def _check_addresses(addresses: tuple[str, ...], *, limit: int) -> None:
    if not addresses:
        raise InvalidValue("a message needs at least one recipient (to, cc or bcc)")
    if len(addresses) > limit:
        raise InvalidValue(f"at most {limit} recipients per message")
    for address in addresses:
        parsed = parseaddr(address)[1]
        local, at, domain = parsed.rpartition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in parsed):
            raise InvalidValue(f"not an email address: {address!r}")


def _idempotency(key: str) -> str:
    key = key.strip()
    if not key or len(key) > 200:
        raise InvalidValue("idempotency_key is required (at most 200 characters)")
    return key


def _settled(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A retried request: what the first one did. Still "sending" after a while means the
    first was interrupted after handing the message over: failed, never sent again."""
    if document.get("state") == "sending":
        if now - document["created_at"] > INTERRUPTED_AFTER:
            return {**document, "state": "failed", "failure": INTERRUPTED, "refused": []}
        return {**document, "state": "queued", "failure": "", "refused": []}
    return document
