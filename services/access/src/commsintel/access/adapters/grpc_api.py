"""AccessService servicer: request -> query -> redacted response, nothing else.

The caller comes from the bearer token (CallerInterceptor); a record of another
workspace is NOT_FOUND, exactly like a record that does not exist.
"""

from __future__ import annotations

from datetime import datetime

import grpc

from commsintel.access.adapters.store import AccessStore
from commsintel.access.domain.visibility import EmailView, Level, view_for
from commsintel.contracts.api_values import (
    cursor_field,
    decode_page_token,
    next_page_token,
    page_size,
    timestamp,
)
from commsintel.contracts.errors import InvalidArgument, NotFound, Unavailable
from commsintel.contracts.grpc_runtime import caller_metadata, current_caller
from commsintel.contracts.proto.access.v1 import access_pb2 as pb
from commsintel.contracts.proto.access.v1 import access_pb2_grpc as pb_grpc
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2, intelligence_pb2_grpc

_KINDS = {pb.RECORD_KIND_PERSON: "person", pb.RECORD_KIND_COMPANY: "company"}
_KIND_PB = {name: kind for kind, name in _KINDS.items()}
_VISIBILITY_PB = {
    Level.NONE: pb.VISIBILITY_LEVEL_NONE,
    Level.METADATA: pb.VISIBILITY_LEVEL_METADATA,
    Level.SUBJECT: pb.VISIBILITY_LEVEL_SUBJECT,
    Level.FULL: pb.VISIBILITY_LEVEL_FULL,
}
MAX_RECORDS_PAGE = 500
MAX_EMAILS_PAGE = 200
INTELLIGENCE_TIMEOUT_SECONDS = 5.0


class AccessServicer(pb_grpc.AccessServiceServicer):
    def __init__(self, store: AccessStore, intelligence: grpc.aio.Channel) -> None:
        self._store = store
        self._intelligence = intelligence_pb2_grpc.IntelligenceServiceStub(intelligence)

    async def ListRecords(self, request, context):
        size = page_size(request.page_size, default=50, maximum=MAX_RECORDS_PAGE)
        if request.kind not in (pb.RECORD_KIND_UNSPECIFIED, *_KINDS):
            raise InvalidArgument(f"unknown record kind {request.kind}")
        cursor = decode_page_token(request.page_token)
        after = cursor_field(cursor, "after", str) if cursor else ""
        documents = await self._store.records(
            current_caller().workspace_id, _KINDS.get(request.kind), after, size + 1
        )
        next_token = next_page_token(documents, size, lambda d: {"after": d["_id"]})
        return pb.ListRecordsResponse(
            records=[_record_pb(d) for d in documents[:size]], next_page_token=next_token
        )

    async def GetRecord(self, request, context):
        record = await self._record(request.record_id)
        try:
            answer = await self._intelligence.GetRecordIntelligence(
                intelligence_pb2.GetRecordIntelligenceRequest(record_id=record["_id"]),
                metadata=caller_metadata(),
                timeout=INTELLIGENCE_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as error:
            raise Unavailable(f"intelligence did not answer: {error.code().name}") from error
        return pb.GetRecordResponse(record=_record_pb(record), intelligence=answer.intelligence)

    async def ListRecordEmails(self, request, context):
        size = page_size(request.page_size, default=50, maximum=MAX_EMAILS_PAGE)
        record = await self._record(request.record_id)
        viewer = current_caller()
        before = _decode_cursor(request.page_token) if request.page_token else None
        page = await self._store.record_message_page(
            viewer.workspace_id, record["_id"], before, size + 1
        )
        next_token = next_page_token(
            page, size, lambda item: {"sent_at": item[0].isoformat(), "key": item[1]}
        )
        page = page[:size]
        messages = await self._store.messages(viewer.workspace_id, [key for _, key in page])
        views = [view_for(viewer.member_id, m) for m in messages]
        return pb.ListRecordEmailsResponse(
            emails=[_email_pb(v) for v in views if v is not None], next_page_token=next_token
        )

    async def _record(self, record_id: str) -> dict:
        if not record_id:
            raise InvalidArgument("record_id is required")
        record = await self._store.record(current_caller().workspace_id, record_id)
        if record is None or "kind" not in record:
            raise NotFound(f"record {record_id} not found")
        return record


def _decode_cursor(token: str) -> tuple[datetime, str]:
    cursor = decode_page_token(token)
    sent_at, key = cursor_field(cursor, "sent_at", str), cursor_field(cursor, "key", str)
    try:
        return datetime.fromisoformat(sent_at), key
    except ValueError as error:
        raise InvalidArgument("page_token is not one this API returned") from error


def _record_pb(document: dict) -> pb.Record:
    return pb.Record(
        record_id=document["_id"],
        kind=_KIND_PB[document["kind"]],
        name=document.get("name", ""),
        email_address=document.get("email_address", ""),
        company_id=document.get("company_id") or "",
        domains=document.get("domains", []),
    )


def _email_pb(view: EmailView) -> pb.RecordEmail:
    email = pb.RecordEmail(
        message_key=view.message_key,
        visibility=_VISIBILITY_PB[view.level],
        sent_at=timestamp(view.sent_at),
        participants=[
            pb.EmailParticipant(role=p.role, address=p.address, display_name=p.display_name)
            for p in view.participants
        ],
        can_request_access=view.can_request_access,
    )
    if view.subject is not None:
        email.subject = view.subject
    return email
