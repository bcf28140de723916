"""IntelligenceService servicer: request -> query -> response, nothing else."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from commsintel.contracts.errors import InvalidValue, UnknownItem
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2 as pb
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2_grpc as pb_grpc
from commsintel.intelligence.domain.attributes import (
    Interaction,
    InteractionRef,
    RecordIntelligence,
    summarize,
)
from commsintel.intelligence.domain.strength import StrengthModel, level_of
from commsintel.intelligence.ports import IntelligenceQueries
from commsintel.platform.api_values import timestamp
from commsintel.platform.grpc_runtime import current_caller

MAX_LIMIT = 500
MAX_TOP = 100


class IntelligenceServicer(pb_grpc.IntelligenceServiceServicer):
    def __init__(
        self,
        store: IntelligenceQueries,
        model: StrengthModel,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._model = model
        self._clock = clock

    async def GetRecordIntelligence(self, request, context):
        if not request.record_id:
            raise InvalidValue("record_id is required")
        as_of = self._as_of(request)
        intelligence = await self._intelligence(request.record_id, as_of)
        return pb.GetRecordIntelligenceResponse(intelligence=record_intelligence_pb(intelligence))

    async def ListStrongestConnections(self, request, context):
        if not 0 <= request.limit <= MAX_LIMIT:
            raise InvalidValue(f"limit must be between 1 and {MAX_LIMIT} (0 means 10)")
        limit = request.limit or 10
        as_of = self._as_of(request)
        workspace_id = current_caller().workspace_id
        member = request.member_id or None
        record_ids = await self._store.strongest_records(workspace_id, limit, member)
        summaries = [await self._intelligence(record_id, as_of) for record_id in record_ids]
        summaries.sort(key=lambda s: (-_strength_of(s, member), s.record_id))
        return pb.ListStrongestConnectionsResponse(
            records=[record_intelligence_pb(s) for s in summaries]
        )

    async def ExplainStrength(self, request, context):
        if not request.record_id:
            raise InvalidValue("record_id is required")
        if not 0 <= request.top <= MAX_TOP:
            raise InvalidValue(f"top must be between 1 and {MAX_TOP} (0 means 10)")
        as_of = self._as_of(request)
        summary = await self._intelligence(request.record_id, as_of)
        member = request.member_id or summary.strongest_member_id or ""
        mine = [c for c in summary.contributions if c.interaction.member_id == member]
        by_reason: dict[str, list[float]] = {}
        for contribution in mine:
            by_reason.setdefault(contribution.reason, []).append(contribution.weight)
        strength = _strength_of(summary, member)
        return pb.ExplainStrengthResponse(
            member_id=member,
            strength=strength,
            level=int(level_of(strength)),
            by_reason={reason: math.fsum(w) for reason, w in by_reason.items()},
            top_contributions=[
                pb.Contribution(
                    interaction=_ref_pb(_ref_of(c.interaction)), reason=c.reason, weight=c.weight
                )
                for c in mine[: request.top or 10]
            ],
            as_of=timestamp(as_of),
        )

    async def _intelligence(self, record_id: str, as_of: datetime) -> RecordIntelligence:
        workspace_id = current_caller().workspace_id
        interactions = await self._store.interactions_of(workspace_id, record_id)
        # A record with interactions exists (its PersonCreated may still be on its way);
        # one without is either a quiet record or none of this workspace's.
        if not interactions and not await self._store.has_record(workspace_id, record_id):
            raise UnknownItem(f"record {record_id} not found")
        return summarize(record_id, interactions, as_of, self._model)

    def _as_of(self, request) -> datetime:
        if request.HasField("as_of"):
            return request.as_of.ToDatetime(tzinfo=UTC)
        return self._clock()


def record_intelligence_pb(intelligence: RecordIntelligence) -> pb.RecordIntelligence:
    return pb.RecordIntelligence(
        record_id=intelligence.record_id,
        first_interaction=_ref_pb(intelligence.first_interaction),
        last_interaction=_ref_pb(intelligence.last_interaction),
        first_email_interaction=_ref_pb(intelligence.first_email),
        last_email_interaction=_ref_pb(intelligence.last_email),
        first_calendar_interaction=_ref_pb(intelligence.first_calendar),
        last_calendar_interaction=_ref_pb(intelligence.last_calendar),
        next_calendar_interaction=_ref_pb(intelligence.next_calendar),
        email_interaction_count=intelligence.email_count,
        meeting_count=intelligence.meeting_count,
        connection_strength=intelligence.strength,
        level=int(intelligence.level),
        strongest_member_id=intelligence.strongest_member_id or "",
        member_strengths=[
            pb.MemberStrength(member_id=m.member_id, strength=m.strength, level=int(m.level))
            for m in intelligence.member_strengths
        ],
        as_of=timestamp(intelligence.as_of),
    )


def _strength_of(summary: RecordIntelligence, member_id: str | None) -> float:
    if not member_id:
        return summary.strength
    return next((m.strength for m in summary.member_strengths if m.member_id == member_id), 0.0)


def _ref_of(interaction: Interaction) -> InteractionRef:
    return InteractionRef(interaction.at, interaction.member_id, interaction.interaction_key)


def _ref_pb(ref: InteractionRef | None) -> pb.InteractionRef | None:
    if ref is None:
        return None
    return pb.InteractionRef(
        at=timestamp(ref.at), member_id=ref.member_id, interaction_key=ref.interaction_key
    )
