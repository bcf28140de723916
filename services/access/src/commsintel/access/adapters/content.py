"""Bodies and attachments, fetched from ingest's ContentService only after access has
decided the viewer may see them (FULL). Each call carries the member's own token and the
access service's token, which ingest requires (docs/decisions/0014)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import grpc

from commsintel.contracts.auth import SERVICE_TOKEN_METADATA, issue_service_token
from commsintel.contracts.errors import TryAgainLater, UnknownItem
from commsintel.contracts.proto.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from commsintel.platform.grpc_runtime import caller_metadata

SERVICE_NAME = "access"
TOKEN_LIFETIME = timedelta(hours=1)
CONTENT_TIMEOUT_SECONDS = 10.0


class IngestContent:
    def __init__(
        self, channel: grpc.aio.Channel, signing_key: str, clock: Callable[[], datetime]
    ) -> None:
        self._stub = ingest_pb2_grpc.ContentServiceStub(channel)
        self._signing_key = signing_key
        self._clock = clock
        self._token = ""
        self._renew_at: datetime | None = None

    async def message(self, message_key: str, mailbox_id: str):
        request = ingest_pb2.GetMessageContentRequest(
            message_key=message_key, mailbox_id=mailbox_id
        )
        return await self._call(self._stub.GetMessageContent, request, message_key)

    async def attachment(self, message_key: str, mailbox_id: str, index: int):
        request = ingest_pb2.GetAttachmentRequest(
            message_key=message_key, mailbox_id=mailbox_id, index=index
        )
        return await self._call(self._stub.GetAttachment, request, message_key)

    async def _call(self, method, request, message_key: str):
        try:
            return await method(request, metadata=self._metadata(), timeout=CONTENT_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise UnknownItem(f"the content of message {message_key} is not stored") from error
            raise TryAgainLater(f"ingest did not answer: {error.code().name}") from error

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        now = self._clock()
        if self._renew_at is None or now >= self._renew_at:
            self._token = issue_service_token(
                self._signing_key, SERVICE_NAME, issued_at=now, lifetime=TOKEN_LIFETIME
            )
            self._renew_at = now + TOKEN_LIFETIME / 2
        return (*caller_metadata(), (SERVICE_TOKEN_METADATA, self._token))
