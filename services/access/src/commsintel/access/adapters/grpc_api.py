"""AccessService servicer: request -> query -> redacted response, nothing else.

The caller comes from the bearer token (CallerInterceptor); a record of another
workspace is NOT_FOUND, exactly like a record that does not exist.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from commsintel.access.adapters.store import AccessStore
from commsintel.access.domain.visibility import EmailView, Level, view_for
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
        page_size = _page_size(request.page_size, default=50, maximum=MAX_RECORDS_PAGE)
        if request.kind not in (pb.RECORD_KIND_UNSPECIFIED, *_KINDS):
            raise InvalidArgument(f"unknown record kind {request.kind}")
        after = _decode_token(request.page_token).get("after", "") if request.page_token else ""
        documents = await self._store.records(
            current_caller().workspace_id, _KINDS.get(request.kind), after, page_size + 1
        )
        next_token = (
            _encode_token({"after": documents[page_size - 1]["_id"]})
            if len(documents) > page_size
            else ""
        )
        return pb.ListRecordsResponse(
            records=[_record_pb(d) for d in documents[:page_size]], next_page_token=next_token
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
        page_size = _page_size(request.page_size, default=50, maximum=MAX_EMAILS_PAGE)
        record = await self._record(request.record_id)
        viewer = current_caller()
        before = _decode_cursor(request.page_token) if request.page_token else None
        page = await self._store.record_message_page(
            viewer.workspace_id, record["_id"], before, page_size + 1
        )
        has_more = len(page) > page_size
        page = page[:page_size]
        messages = await self._store.messages(viewer.workspace_id, [key for _, key in page])
        views = [view_for(viewer.member_id, m) for m in messages]
        next_token = ""
        if has_more:
            sent_at, key = page[-1]
            next_token = _encode_token({"sent_at": sent_at.isoformat(), "key": key})
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


def _page_size(requested: int, *, default: int, maximum: int) -> int:
    if requested < 0 or requested > maximum:
        raise InvalidArgument(f"page_size must be between 1 and {maximum} (0 means {default})")
    return requested or default


def _encode_token(cursor: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()


def _decode_token(token: str) -> dict:
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidArgument("page_token is not one this API returned") from error
    if not isinstance(cursor, dict):
        raise InvalidArgument("page_token is not one this API returned")
    return cursor


def _decode_cursor(token: str) -> tuple[datetime, str]:
    cursor = _decode_token(token)
    try:
        return datetime.fromisoformat(cursor["sent_at"]), str(cursor["key"])
    except (KeyError, TypeError, ValueError) as error:
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
    sent_at = Timestamp()
    sent_at.FromDatetime(view.sent_at)
    email = pb.RecordEmail(
        message_key=view.message_key,
        visibility=_VISIBILITY_PB[view.level],
        sent_at=sent_at,
        participants=[
            pb.EmailParticipant(role=p.role, address=p.address, display_name=p.display_name)
            for p in view.participants
        ],
        can_request_access=view.can_request_access,
    )
    if view.subject is not None:
        email.subject = view.subject
    return email
