"""AccessService servicer: request -> domain -> redacted response, nothing else.

The caller comes from the bearer token (CallerInterceptor); every answer is computed on
the caller's workspace's state, so a record, message, mailbox or request of another
workspace is NOT_FOUND exactly like one that does not exist. Changes go through the
domain's commands and the command gateway (applied before the call returns).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import grpc

from commsintel.access.domain import sharing
from commsintel.access.domain.links import EMAIL, position
from commsintel.access.domain.state import AccessState, ListedRecord
from commsintel.access.domain.visibility import Level
from commsintel.access.entrypoints.values import (
    EmailMessages,
    activity_pb,
    email_pb,
    level_of,
    mailbox_sharing_pb,
    position_of,
    position_token,
    record_sharing_pb,
    request_pb,
)
from commsintel.access.ports import Content, RecordDirectory, RecordIntelligence
from commsintel.access.service_layer.workspace_states import WorkspaceStates
from commsintel.contracts.auth import SERVICE_TOKEN_METADATA, InvalidToken, verify_service_token
from commsintel.contracts.errors import InvalidValue, NotAllowed, UnknownItem
from commsintel.contracts.events import Event
from commsintel.contracts.proto.access.v1 import access_pb2 as pb
from commsintel.contracts.proto.access.v1 import access_pb2_grpc as pb_grpc
from commsintel.platform.api_values import (
    cursor_field,
    decode_page_token,
    next_page_token,
    page_size,
)
from commsintel.platform.commands import CommandGateway
from commsintel.platform.grpc_runtime import current_caller

_KINDS = {pb.RECORD_KIND_PERSON: "person", pb.RECORD_KIND_COMPANY: "company"}
_KIND_PB = {name: kind for kind, name in _KINDS.items()}
_TARGETS = {"message_key": "message", "thread_key": "thread", "record_id": "record"}
MAX_RECORDS_PAGE = 500
MAX_EMAILS_PAGE = 200
MAX_REQUESTS_PAGE = 200
MAX_VISIBILITY_BATCH = 1000
Clock = Callable[[], datetime]


class AccessServicer(pb_grpc.AccessServiceServicer):
    def __init__(
        self,
        store: RecordDirectory,
        states: WorkspaceStates,
        gateway: CommandGateway,
        intelligence: RecordIntelligence,
        content: Content,
        signing_key: str,
        clock: Clock,
    ) -> None:
        self._store = store
        self._states = states
        self._gateway = gateway
        self._intelligence = intelligence
        self._content = content
        self._signing_key = signing_key
        self._clock = clock
        self._emails = EmailMessages()

    # --- records ----------------------------------------------------------------------

    async def ListRecords(self, request, context):
        size = page_size(request.page_size, default=50, maximum=MAX_RECORDS_PAGE)
        if request.kind not in (pb.RECORD_KIND_UNSPECIFIED, *_KINDS):
            raise InvalidValue(f"unknown record kind {request.kind}")
        cursor = decode_page_token(request.page_token)
        after = cursor_field(cursor, "after", str) if cursor else ""
        records = await self._store.records(
            current_caller().workspace_id, _KINDS.get(request.kind), after, size + 1
        )
        next_token = next_page_token(records, size, lambda r: {"after": r.record_id})
        return pb.ListRecordsResponse(
            records=[_record_pb(r) for r in records[:size]], next_page_token=next_token
        )

    async def GetRecord(self, request, context):
        if not request.record_id:
            raise InvalidValue("record_id is required")
        record = await self._store.record(current_caller().workspace_id, request.record_id)
        if record is None or record.kind is None:
            raise UnknownItem(f"record {request.record_id} not found")
        intelligence = await self._intelligence.record_intelligence(record.record_id)
        return pb.GetRecordResponse(record=_record_pb(record), intelligence=intelligence)

    # --- views ------------------------------------------------------------------------

    async def ListRecordEmails(self, request, context):
        size = page_size(request.page_size, default=50, maximum=MAX_EMAILS_PAGE)
        after = position_of(request.page_token, (EMAIL,))
        viewer, state = await self._viewer_state()
        record_id = sharing.existing_record(state, request.record_id)
        found = state.record_emails(viewer, record_id, after, size + 1)
        return pb.ListRecordEmailsResponse(
            emails=[self._emails.of(view) for _, view in found[:size]],
            next_page_token=next_page_token(found, size, lambda item: position_token(item[0])),
        )

    async def ListRecordActivity(self, request, context):
        size = page_size(request.page_size, default=50, maximum=MAX_EMAILS_PAGE)
        after = position_of(request.page_token)
        viewer, state = await self._viewer_state()
        record_id = sharing.existing_record(state, request.record_id)
        found = state.record_activity(viewer, record_id, after, size + 1)
        return pb.ListRecordActivityResponse(
            items=[activity_pb(view, self._emails) for _, view in found[:size]],
            next_page_token=next_page_token(found, size, lambda item: position_token(item[0])),
        )

    async def GetMessage(self, request, context):
        key = _required(request.message_key, "message_key")
        viewer, state = await self._viewer_state()
        view = state.email(viewer, key)
        if view is None:
            raise UnknownItem(f"message {key} not found")
        answer = pb.GetMessageResponse(email=email_pb(view))
        mailbox_id = state.full_copy(viewer, key)
        if view.level is Level.FULL and mailbox_id is not None:
            # Decided first; only now does the content leave ingest.
            content = await self._content.message(key, mailbox_id)
            answer.text_body = content.text_body
            answer.html_body = content.html_body
            answer.attachments.extend(
                pb.MessageAttachment(
                    index=a.index, filename=a.filename, content_type=a.content_type, size=a.size
                )
                for a in content.attachments
            )
        return answer

    async def GetMessageAttachment(self, request, context):
        key = _required(request.message_key, "message_key")
        if request.index < 0:
            raise InvalidValue("index must not be negative")
        viewer, state = await self._viewer_state()
        if state.email(viewer, key) is None:
            raise UnknownItem(f"message {key} not found")
        mailbox_id = state.full_copy(viewer, key)
        if mailbox_id is None:
            raise NotAllowed("attachments need FULL access; ask the owner for it")
        found = await self._content.attachment(key, mailbox_id, request.index)
        a = found.attachment
        return pb.GetMessageAttachmentResponse(
            attachment=pb.MessageAttachment(
                index=a.index, filename=a.filename, content_type=a.content_type, size=a.size
            ),
            content=found.content,
        )

    async def CheckVisibility(self, request, context):
        keys = request.message_keys
        if not 0 < len(keys) <= MAX_VISIBILITY_BATCH:
            raise InvalidValue(f"message_keys must hold 1 to {MAX_VISIBILITY_BATCH} keys")
        caller = current_caller()
        viewer = request.viewer_member_id or caller.member_id
        if viewer != caller.member_id:
            self._check_service_token(context)
        state = await self._states.current(caller.workspace_id)
        return pb.CheckVisibilityResponse(levels=state.levels(viewer, keys))

    # --- mailbox sharing ----------------------------------------------------------------

    async def GetMailboxSharing(self, request, context):
        viewer, state = await self._viewer_state()
        mailbox = sharing.own_mailbox(state, viewer, request.mailbox_id)
        return pb.GetMailboxSharingResponse(sharing=mailbox_sharing_pb(mailbox))

    async def SetMailboxSharingLevel(self, request, context):
        level = level_of(request.level)
        state = await self._run(
            sharing.set_sharing_level, mailbox_id=request.mailbox_id, level=level
        )
        return pb.SetMailboxSharingLevelResponse(sharing=self._sharing(state, request.mailbox_id))

    async def GrantMailboxAccess(self, request, context):
        state = await self._run(
            sharing.grant_mailbox_access,
            mailbox_id=request.mailbox_id,
            member_id=request.member_id,
        )
        return pb.GrantMailboxAccessResponse(sharing=self._sharing(state, request.mailbox_id))

    async def RevokeMailboxAccess(self, request, context):
        state = await self._run(
            sharing.revoke_mailbox_access,
            mailbox_id=request.mailbox_id,
            member_id=request.member_id,
        )
        return pb.RevokeMailboxAccessResponse(sharing=self._sharing(state, request.mailbox_id))

    # --- record sharing ("Manage access") ------------------------------------------------

    async def GetRecordSharing(self, request, context):
        viewer, state = await self._viewer_state()
        record_id = sharing.existing_record(state, request.record_id)
        share = state.share_of(viewer, record_id)
        return pb.GetRecordSharingResponse(sharing=record_sharing_pb(record_id, share))

    async def ShareRecordEmails(self, request, context):
        state = await self._run(
            sharing.share_record_emails,
            record_id=request.record_id,
            whole_workspace=request.whole_workspace,
            member_ids=list(request.member_ids),
        )
        return pb.ShareRecordEmailsResponse(sharing=self._record_sharing(state, request.record_id))

    async def UnshareRecordEmails(self, request, context):
        state = await self._run(
            sharing.unshare_record_emails,
            record_id=request.record_id,
            whole_workspace=request.whole_workspace,
            member_ids=list(request.member_ids),
        )
        return pb.UnshareRecordEmailsResponse(
            sharing=self._record_sharing(state, request.record_id)
        )

    # --- access requests ----------------------------------------------------------------

    async def RequestAccess(self, request, context):
        target = request.WhichOneof("target")
        if target is None:
            raise InvalidValue("a message_key, thread_key or record_id is required")
        viewer, state = await self._viewer_state()
        new, pending = sharing.request_access(
            state,
            requester=viewer,
            kind=_TARGETS[target],
            key=getattr(request, target),
            note=request.note,
            at=self._clock(),
        )
        await self._gateway.submit(new)
        state = await self._states.current(state.workspace_id)
        asked = [state.requests[e.request_id] for e in new] + pending
        asked.sort(key=lambda r: r.owner_member_id)
        return pb.RequestAccessResponse(requests=[request_pb(r) for r in asked])

    async def ListAccessRequests(self, request, context):
        if request.direction not in (
            pb.ACCESS_REQUEST_DIRECTION_INCOMING,
            pb.ACCESS_REQUEST_DIRECTION_OUTGOING,
        ):
            raise InvalidValue("direction must be INCOMING or OUTGOING")
        size = page_size(request.page_size, default=50, maximum=MAX_REQUESTS_PAGE)
        after = position_of(request.page_token, (EMAIL,))
        viewer, state = await self._viewer_state()
        found = state.requests_of(
            viewer,
            incoming=request.direction == pb.ACCESS_REQUEST_DIRECTION_INCOMING,
            include_decided=request.include_decided,
        )
        at = [(position(r.requested_at, EMAIL, r.request_id), r) for r in found]
        page = [item for item in at if after is None or item[0] > after][: size + 1]
        return pb.ListAccessRequestsResponse(
            requests=[request_pb(r) for _, r in page[:size]],
            next_page_token=next_page_token(page, size, lambda item: position_token(item[0])),
        )

    async def DecideAccessRequest(self, request, context):
        if request.decision not in (pb.ACCESS_DECISION_APPROVE, pb.ACCESS_DECISION_DECLINE):
            raise InvalidValue("decision must be APPROVE or DECLINE")
        state = await self._run(
            sharing.decide_access_request,
            request_id=request.request_id,
            approve=request.decision == pb.ACCESS_DECISION_APPROVE,
        )
        decided = state.requests[request.request_id.strip()]
        return pb.DecideAccessRequestResponse(request=request_pb(decided))

    # --- shared steps -------------------------------------------------------------------

    async def _viewer_state(self) -> tuple[str, AccessState]:
        caller = current_caller()
        return caller.member_id, await self._states.current(caller.workspace_id)

    async def _run(self, command: Callable[..., Event | None], **arguments) -> AccessState:
        """Check a command on the current state, apply its event, return the new state."""
        caller, state = await self._viewer_state()
        event = command(state, caller=caller, at=self._clock(), **arguments)
        if event is None:
            return state
        await self._gateway.submit([event])
        return await self._states.current(state.workspace_id)

    def _sharing(self, state: AccessState, mailbox_id: str) -> pb.MailboxSharing:
        mailbox = sharing.own_mailbox(state, current_caller().member_id, mailbox_id)
        return mailbox_sharing_pb(mailbox)

    def _record_sharing(self, state: AccessState, record_id: str) -> pb.RecordSharing:
        record_id = sharing.existing_record(state, record_id)
        return record_sharing_pb(record_id, state.share_of(current_caller().member_id, record_id))

    def _check_service_token(self, context: grpc.aio.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata() or ())
        try:
            verify_service_token(self._signing_key, metadata.get(SERVICE_TOKEN_METADATA, ""))
        except InvalidToken as error:
            raise NotAllowed(
                "only our own services may ask on another member's behalf; "
                "leave viewer_member_id empty to ask for yourself"
            ) from error


def _required(value: str, name: str) -> str:
    if not value.strip():
        raise InvalidValue(f"{name} is required")
    return value.strip()


def _record_pb(record: ListedRecord) -> pb.Record:
    return pb.Record(
        record_id=record.record_id,
        kind=_KIND_PB[record.kind],
        name=record.name,
        email_address=record.email_address,
        company_id=record.company_id,
        domains=record.domains,
    )
