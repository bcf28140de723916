"""A record's intelligence, asked of the intelligence service on the caller's behalf
(their own token travels with the call)."""

from __future__ import annotations

import grpc

from commsintel.contracts.errors import TryAgainLater
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2, intelligence_pb2_grpc
from commsintel.platform.grpc_runtime import caller_metadata

INTELLIGENCE_TIMEOUT_SECONDS = 5.0


class IntelligenceClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = intelligence_pb2_grpc.IntelligenceServiceStub(channel)

    async def record_intelligence(self, record_id: str) -> intelligence_pb2.RecordIntelligence:
        try:
            answer = await self._stub.GetRecordIntelligence(
                intelligence_pb2.GetRecordIntelligenceRequest(record_id=record_id),
                metadata=caller_metadata(),
                timeout=INTELLIGENCE_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                raise TryAgainLater(f"intelligence did not answer: {error.code().name}") from error
            # Intelligence has not read the record's creation yet: nothing to tell so far.
            return intelligence_pb2.RecordIntelligence(record_id=record_id)
        return answer.intelligence
