"""MailboxService and ContentService servicers: request -> commands/store -> response.

Credentials are read from requests and handed on; no response field can carry them.
ContentService answers only the access service (its service token in metadata).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from datetime import datetime

import grpc

from commsintel.contracts.auth import SERVICE_TOKEN_METADATA, InvalidToken, verify_service_token
from commsintel.contracts.errors import InvalidValue, NotAllowed
from commsintel.contracts.proto.ingest.v1 import ingest_pb2 as pb
from commsintel.contracts.proto.ingest.v1 import ingest_pb2_grpc as pb_grpc
from commsintel.ingest.adapters.content_store import ContentStore, StoredAttachment
from commsintel.ingest.adapters.store import MailboxRecord
from commsintel.ingest.domain.mailboxes import (
    CalendarLink,
    ImapEndpoint,
    ImapSecurity,
    SmtpEndpoint,
    SyncStatus,
)
from commsintel.ingest.domain.oauth import ProviderName
from commsintel.ingest.domain.secret_forms import redacted_url
from commsintel.ingest.domain.sending import Draft, MessageTemplate, OutgoingAttachment
from commsintel.ingest.service_layer.mailbox_commands import (
    CalendarConnection,
    ImapConnection,
    MailboxCommands,
    SmtpConnection,
)
from commsintel.ingest.service_layer.oauth_accounts import OAuthGrantRequest
from commsintel.ingest.service_layer.sending import SendCommands
from commsintel.platform.api_values import (
    cursor_field,
    decode_page_token,
    next_page_token,
    page_size,
    timestamp,
)
from commsintel.platform.grpc_runtime import current_caller

Clock = Callable[[], datetime]
MAX_QUARANTINE_PAGE = 500
_SECURITY: dict[int, ImapSecurity] = {
    pb.IMAP_SECURITY_UNSPECIFIED: "tls",
    pb.IMAP_SECURITY_TLS: "tls",
    pb.IMAP_SECURITY_STARTTLS: "starttls",
    pb.IMAP_SECURITY_NONE: "none",
}
_STATE = {
    "syncing": pb.SYNC_STATE_SYNCING,
    "idle": pb.SYNC_STATE_IDLE,
    "error": pb.SYNC_STATE_ERROR,
}
_DELIVERY = {
    "queued": pb.DELIVERY_STATE_QUEUED,
    "sending": pb.DELIVERY_STATE_QUEUED,
    "sent": pb.DELIVERY_STATE_SENT,
    "failed": pb.DELIVERY_STATE_FAILED,
}
_PROVIDER: dict[int, ProviderName] = {
    pb.OAUTH_PROVIDER_GOOGLE: "google",
    pb.OAUTH_PROVIDER_MICROSOFT: "microsoft",
    pb.OAUTH_PROVIDER_GENERIC: "generic",
}
_ERROR = {
    "": pb.SYNC_ERROR_UNSPECIFIED,
    "reauthorization_needed": pb.SYNC_ERROR_REAUTHORIZATION_NEEDED,
    "auth_failed": pb.SYNC_ERROR_AUTH_FAILED,
    "unreachable": pb.SYNC_ERROR_UNREACHABLE,
    "server_error": pb.SYNC_ERROR_SERVER,
}


class MailboxServicer(pb_grpc.MailboxServiceServicer):
    def __init__(self, commands: MailboxCommands, clock: Clock) -> None:
        self._commands = commands
        self._clock = clock

    async def ConnectMailbox(self, request, context):
        if not request.HasField("imap"):
            raise InvalidValue("imap is required: host, port, username and a secret")
        record = await self._commands.connect(
            current_caller(),
            _imap(request.imap),
            tuple(request.owner_addresses),
            _calendar(request.calendar) if request.HasField("calendar") else None,
            tuple(request.blocklist),
            self._clock(),
            smtp=_smtp(request.smtp, request.imap) if request.HasField("smtp") else None,
            sender_name=request.sender_name,
        )
        return pb.ConnectMailboxResponse(mailbox=_mailbox(record))

    async def GetMailbox(self, request, context):
        record = await self._commands.get(current_caller(), _mailbox_id(request.mailbox_id))
        return pb.GetMailboxResponse(mailbox=_mailbox(record))

    async def ListMailboxes(self, request, context):
        records = await self._commands.list(current_caller())
        return pb.ListMailboxesResponse(mailboxes=[_mailbox(r) for r in records])

    async def UpdateMailboxSettings(self, request, context):
        record, counts = await self._commands.update_settings(
            current_caller(),
            _mailbox_id(request.mailbox_id),
            blocklist=tuple(request.blocklist) if request.replace_blocklist else None,
            calendar_enabled=(
                request.calendar_enabled if request.HasField("calendar_enabled") else None
            ),
            now=self._clock(),
        )
        return pb.UpdateMailboxSettingsResponse(
            mailbox=_mailbox(record),
            messages_retracted=counts.retracted,
            messages_restored=counts.shown_again,
        )

    async def ReconnectMailbox(self, request, context):
        if not request.HasField("imap"):
            raise InvalidValue("imap is required: the account's new credentials")
        record = await self._commands.reconnect(
            current_caller(),
            _mailbox_id(request.mailbox_id),
            _imap(request.imap),
            _calendar(request.calendar) if request.HasField("calendar") else None,
            self._clock(),
            smtp=_smtp(request.smtp, request.imap) if request.HasField("smtp") else None,
        )
        return pb.ReconnectMailboxResponse(mailbox=_mailbox(record))

    async def StartAuthorization(self, request, context):
        provider = _PROVIDER.get(request.provider)
        if provider is None:
            raise InvalidValue("provider is required: google, microsoft or generic")
        started = await self._commands.start_authorization(
            current_caller(), provider, request.login_hint
        )
        return pb.StartAuthorizationResponse(
            authorization_url=started.url,
            state=started.state,
            expires_at=timestamp(started.expires_at),
        )

    async def SyncMailboxNow(self, request, context):
        record = await self._commands.sync_now(
            current_caller(), _mailbox_id(request.mailbox_id), self._clock()
        )
        return pb.SyncMailboxNowResponse(mailbox=_mailbox(record))

    async def RemoveMailbox(self, request, context):
        await self._commands.remove(
            current_caller(), _mailbox_id(request.mailbox_id), self._clock()
        )
        return pb.RemoveMailboxResponse()

    async def ListQuarantinedMessages(self, request, context):
        size = page_size(request.page_size, default=100, maximum=MAX_QUARANTINE_PAGE)
        cursor = decode_page_token(request.page_token)
        after = cursor_field(cursor, "after", str) if cursor else ""
        found = await self._commands.quarantined(
            current_caller(), _mailbox_id(request.mailbox_id), after=after, limit=size + 1
        )
        return pb.ListQuarantinedMessagesResponse(
            messages=[
                pb.QuarantinedMessage(
                    quarantine_id=d["_id"], source=d["source"], reason=d["reason"], size=d["size"]
                )
                for d in found[:size]
            ],
            next_page_token=next_page_token(found, size, lambda d: {"after": d["_id"]}),
        )


class SendServicer(pb_grpc.SendServiceServicer):
    def __init__(self, commands: SendCommands) -> None:
        self._commands = commands

    async def SendEmail(self, request, context):
        def draft_of(record: MailboxRecord) -> Draft:
            return Draft(
                sender_address=record.sender_address,
                sender_name=record.sender_name,
                to=tuple(request.to),
                cc=tuple(request.cc),
                bcc=tuple(request.bcc),
                subject=request.subject,
                text_body=request.text_body,
                html_body=request.html_body,
                attachments=tuple(
                    OutgoingAttachment(
                        a.filename or "attachment", a.content_type or _guess(a.filename), a.content
                    )
                    for a in request.attachments
                ),
            )

        sent = await self._commands.send_email(
            current_caller(),
            request.mailbox_id.strip(),
            request.idempotency_key,
            draft_of,
            request.in_reply_to_message_key,
        )
        return pb.SendEmailResponse(
            state=_DELIVERY[sent["state"]],
            message_key=sent["message_key"],
            refused=[pb.RecipientFailure(**r) for r in sent.get("refused", ())],
            failure=sent.get("failure", ""),
        )

    async def StartMassSend(self, request, context):
        document = await self._commands.start_mass_send(
            current_caller(),
            request.mailbox_id.strip(),
            request.idempotency_key,
            _template(request.template),
            list(request.person_ids),
        )
        return pb.StartMassSendResponse(mass_send=_mass_send(document))

    async def GetMassSend(self, request, context):
        if not request.mass_send_id.strip():
            raise InvalidValue("mass_send_id is required")
        document = await self._commands.get_mass_send(
            current_caller(), request.mass_send_id.strip()
        )
        return pb.GetMassSendResponse(mass_send=_mass_send(document))

    async def PreviewMassSend(self, request, context):
        if not request.person_id.strip():
            raise InvalidValue("person_id is required")
        address, rendered = await self._commands.preview(
            current_caller(),
            request.mailbox_id.strip(),
            _template(request.template),
            request.person_id.strip(),
        )
        if isinstance(rendered, str):
            return pb.PreviewMassSendResponse(address=address, failure=rendered)
        return pb.PreviewMassSendResponse(
            address=address,
            subject=rendered.subject,
            text_body=rendered.text_body,
            html_body=rendered.html_body,
        )


class ContentServicer(pb_grpc.ContentServiceServicer):
    def __init__(self, contents: ContentStore, signing_key: str) -> None:
        self._contents = contents
        self._signing_key = signing_key

    async def GetMessageContent(self, request, context):
        self._check_access_service(context)
        found = await self._contents.content(
            current_caller().workspace_id, _message_key(request.message_key), request.mailbox_id
        )
        return pb.GetMessageContentResponse(
            message_key=found.message_key,
            mailbox_id=found.mailbox_id,
            text_body=found.text_body,
            html_body=found.html_body,
            attachments=[_attachment(a) for a in found.attachments],
        )

    async def GetAttachment(self, request, context):
        self._check_access_service(context)
        info, content = await self._contents.attachment(
            current_caller().workspace_id,
            _message_key(request.message_key),
            _mailbox_id(request.mailbox_id),
            request.index,
        )
        return pb.GetAttachmentResponse(attachment=_attachment(info), content=content)

    def _check_access_service(self, context: grpc.aio.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata() or ())
        token = metadata.get(SERVICE_TOKEN_METADATA, "")
        try:
            service = verify_service_token(self._signing_key, token)
        except InvalidToken:
            service = ""
        if service != "access":
            raise NotAllowed(
                "message content is served to the access service only; ask access for it"
            )


def _template(request: pb.MessageTemplate) -> MessageTemplate:
    return MessageTemplate(request.subject, request.text_body, request.html_body)


def _mass_send(document: dict) -> pb.MassSend:
    return pb.MassSend(
        mass_send_id=document["_id"],
        mailbox_id=document["mailbox_id"],
        created_at=timestamp(document["created_at"]),
        recipients=[
            pb.MassSendRecipient(
                person_id=r["person_id"],
                address=r["address"],
                state=_DELIVERY[r["state"]],
                reason=r.get("reason", ""),
                message_key=r.get("message_key", ""),
            )
            for r in document["recipients"]
        ],
    )


def _guess(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _imap(request: pb.ImapCredentials) -> ImapConnection:
    if request.WhichOneof("secret") == "oauth2":
        return _oauth_imap(request)
    if not request.host.strip() or not request.username.strip():
        raise InvalidValue("imap.host and imap.username are required")
    if not 0 < request.port < 65536:
        raise InvalidValue("imap.port must be between 1 and 65535")
    secret_kind = request.WhichOneof("secret")
    secret = getattr(request, secret_kind) if secret_kind else ""
    if not secret:
        raise InvalidValue("imap needs a password or an oauth2_access_token")
    endpoint = ImapEndpoint(
        host=request.host.strip(),
        port=request.port,
        security=_SECURITY.get(request.security, "tls"),
        username=request.username.strip(),
        auth="password" if secret_kind == "password" else "xoauth2",
    )
    return ImapConnection(endpoint, secret)


def _oauth_imap(request: pb.ImapCredentials) -> ImapConnection:
    """An OAuth2 account: host, port and security may come from the provider's preset."""
    grant = request.oauth2
    if not request.username.strip():
        raise InvalidValue("imap.username is required: the account's address")
    if request.host.strip() and not 0 < request.port < 65536:
        raise InvalidValue("imap.port must be between 1 and 65535")
    if grant.provider != pb.OAUTH_PROVIDER_UNSPECIFIED and grant.provider not in _PROVIDER:
        raise InvalidValue("imap.oauth2.provider has an unknown value")
    endpoint = ImapEndpoint(
        host=request.host.strip(),
        port=request.port if request.host.strip() else 0,
        security=_SECURITY.get(request.security, "tls"),
        username=request.username.strip(),
        auth="xoauth2",
    )
    oauth = OAuthGrantRequest(
        provider=_PROVIDER.get(grant.provider),
        state=grant.state.strip(),
        code=grant.code.strip(),
        refresh_token=grant.refresh_token.strip(),
    )
    return ImapConnection(endpoint, "", oauth)


def _smtp(request: pb.SmtpSettings, imap: pb.ImapCredentials) -> SmtpConnection:
    if not request.host.strip():
        raise InvalidValue("smtp.host is required")
    if not 0 < request.port < 65536:
        raise InvalidValue("smtp.port must be between 1 and 65535")
    security: ImapSecurity = (
        _SECURITY[request.security]
        if request.security != pb.IMAP_SECURITY_UNSPECIFIED
        else ("tls" if request.port == 465 else "starttls")
    )
    endpoint = SmtpEndpoint(
        host=request.host.strip(),
        port=request.port,
        security=security,
        username=request.username.strip() or imap.username.strip(),
    )
    return SmtpConnection(endpoint, request.password)


def _calendar(request: pb.CalendarSource) -> CalendarConnection:
    kind = request.WhichOneof("source")
    if kind == "caldav":
        # Empty: the OAuth2 provider's preset CalDAV URL (checked by the commands).
        if request.caldav.url and not request.caldav.url.startswith(("http://", "https://")):
            raise InvalidValue("calendar.caldav.url must be an http(s) URL")
        return CalendarConnection(
            CalendarLink("caldav", request.caldav.url, request.caldav.username),
            request.caldav.password,
        )
    if kind == "ics_url" and request.ics_url.strip():
        return CalendarConnection(CalendarLink("ics", request.ics_url.strip()))
    raise InvalidValue("calendar needs a caldav calendar or an ics_url")


def _mailbox(record: MailboxRecord) -> pb.Mailbox:
    imap = record.imap
    calendar = record.calendar
    return pb.Mailbox(
        mailbox_id=record.mailbox.mailbox_id,
        member_id=record.mailbox.member_id,
        owner_addresses=sorted(record.mailbox.owner_addresses),
        source=record.source,
        imap_host=imap.host if imap else "",
        imap_port=imap.port if imap else 0,
        imap_username=imap.username if imap else "",
        imap_auth=imap.auth if imap else "",
        calendar_kind=calendar.kind if calendar else "",
        calendar_url=redacted_url(calendar.url) if calendar else "",
        calendar_enabled=record.calendar_enabled,
        blocklist=[entry.value for entry in record.blocklist],
        status=_status(record.status),
        connected_at=timestamp(record.connected_at),
        smtp_host=record.smtp.host if record.smtp else "",
        smtp_port=record.smtp.port if record.smtp else 0,
        sender_name=record.sender_name,
        calendar_status=_status(record.calendar_status),
        oauth_provider=record.oauth.provider if record.oauth else "",
        synced_by=record.synced_by,
    )


def _status(status: SyncStatus) -> pb.SyncStatus:
    answer = pb.SyncStatus(
        state=_STATE[status.state],
        messages_done=status.messages_done,
        messages_total=status.messages_total,
        backlog=max(0, status.messages_total - status.messages_done)
        if status.state == "syncing"
        else 0,
        error=_ERROR[status.error_kind],
        error_message=status.error_message,
    )
    if status.last_success_at is not None:
        answer.last_success_at.CopyFrom(timestamp(status.last_success_at))
    if status.updated_at is not None:
        answer.updated_at.CopyFrom(timestamp(status.updated_at))
    return answer


def _attachment(info: StoredAttachment) -> pb.AttachmentInfo:
    return pb.AttachmentInfo(
        index=info.index, filename=info.filename, content_type=info.content_type, size=info.size
    )


def _mailbox_id(value: str) -> str:
    if not value.strip():
        raise InvalidValue("mailbox_id is required")
    return value.strip()


def _message_key(value: str) -> str:
    if not value.strip():
        raise InvalidValue("message_key is required")
    return value.strip()
