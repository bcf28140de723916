"""Intelligence through the real pipeline: mail and meetings become attributes, next
turns into last, strength is explained, and a replay rebuilds the same projections."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.events import CalendarAttendee, EventSynced
from commsintel.contracts.mongo import mongo_client
from commsintel.contracts.proto.identity.v1 import identity_pb2, identity_pb2_grpc
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2 as pb
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2_grpc as pb_grpc
from commsintel.contracts.streaming import EventPublisher, build_broker
from commsintel.contracts.telemetry import configure_tracing
from commsintel.identity.scenario import Scenario
from commsintel.replay import replay_service

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e]
NOW = datetime.now(UTC).replace(microsecond=0)


def _stamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def _meeting(workspace: str, key: str, starts: datetime, rsvp: str) -> EventSynced:
    return EventSynced(
        event_id=f"{workspace}-{key}",
        workspace_id=workspace,
        mailbox_id="mb-alice",
        member_id="alice",
        calendar_event_key=key,
        title="Review",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        organizer="alice@ours.com",
        attendees=(CalendarAttendee(address="bob@acme.com", rsvp=rsvp),),
    )


async def test_mail_and_meetings_become_explained_attributes_and_replay_the_same(
    pipeline, signing_key: str
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    mail = Scenario(workspace_id=workspace)
    metadata = (
        (
            "authorization",
            "Bearer " + issue_token(signing_key, Caller(workspace, "alice"), issued_at=NOW),
        ),
    )
    events = [
        mail.sent("bob@acme.com", key="m1", at=NOW - timedelta(days=20)),
        mail.received("bob@acme.com", key="m2", at=NOW - timedelta(days=19)),
        mail.sent("carol@gmail.com", key="m3", at=NOW - timedelta(days=300)),
        _meeting(workspace, "past", NOW - timedelta(days=10), "accepted"),
        _meeting(workspace, "soon", NOW + timedelta(days=2), "needs_action"),
    ]
    broker = build_broker(pipeline.config.kafka_bootstrap, configure_tracing("e2e"), "e2e")
    await broker.start()
    try:
        await EventPublisher(broker).publish(events)
    finally:
        await broker.stop()
    await pipeline.wait_until_caught_up()

    async with grpc.aio.insecure_channel(pipeline.identity_target) as channel:
        identity = identity_pb2_grpc.IdentityServiceStub(channel)
        bob, carol = [
            (
                await identity.FindByEmail(
                    identity_pb2.FindByEmailRequest(email_address=address), metadata=metadata
                )
            ).person.person_id
            for address in ("bob@acme.com", "carol@gmail.com")
        ]
    async with grpc.aio.insecure_channel(pipeline.intelligence_target) as channel:
        intelligence = pb_grpc.IntelligenceServiceStub(channel)
        now = (
            await intelligence.GetRecordIntelligence(
                pb.GetRecordIntelligenceRequest(record_id=bob), metadata=metadata
            )
        ).intelligence
        assert now.first_interaction.interaction_key == "m1"
        assert now.last_interaction.interaction_key == "past"
        assert now.last_email_interaction.interaction_key == "m2"
        assert now.last_calendar_interaction.interaction_key == "past"
        assert now.next_calendar_interaction.interaction_key == "soon"
        assert (now.email_interaction_count, now.meeting_count) == (2, 1)

        # Three days on, without any new event, the next meeting is the last one.
        later = await intelligence.GetRecordIntelligence(
            pb.GetRecordIntelligenceRequest(record_id=bob, as_of=_stamp(NOW + timedelta(days=3))),
            metadata=metadata,
        )
        assert later.intelligence.last_calendar_interaction.interaction_key == "soon"
        assert not later.intelligence.HasField("next_calendar_interaction")
        assert later.intelligence.connection_strength > now.connection_strength

        # The explanation adds up to the strength.
        explained = await intelligence.ExplainStrength(
            pb.ExplainStrengthRequest(record_id=bob), metadata=metadata
        )
        assert explained.member_id == "alice"
        assert set(explained.by_reason) == {
            "meeting",
            "email sent (two-way)",
            "email received (two-way)",
        }
        assert sum(explained.by_reason.values()) == pytest.approx(explained.strength)
        assert explained.top_contributions[0].reason == "meeting"
        code = None
        try:
            await intelligence.ExplainStrength(
                pb.ExplainStrengthRequest(record_id=bob, top=1000), metadata=metadata
            )
        except grpc.aio.AioRpcError as refused:
            code = refused.code()
        assert code == grpc.StatusCode.INVALID_ARGUMENT

        # Alice's strongest connections: Bob (fresh, two-way, met) before Carol (old).
        ranked = await intelligence.ListStrongestConnections(
            pb.ListStrongestConnectionsRequest(member_id="alice", limit=5), metadata=metadata
        )
        order = [r.record_id for r in ranked.records]
        assert len(order) == 3  # bob, his company (same strength), carol
        assert order.index(bob) < order.index(carol) and order[-1] == carol

    # A replay into empty storage rebuilds the same projections.
    settings = pipeline.config.intelligence().model_copy(
        update={"mongo_database": f"{pipeline.config.name}_intelligence_replay"}
    )
    await replay_service("intelligence", settings=settings)
    client = mongo_client(pipeline.config.mongo_uri, "e2e")
    try:
        live = client[pipeline.config.intelligence().mongo_database]
        rebuilt = client[settings.mongo_database]
        for collection in ("interactions", "member_strengths"):
            query = {"workspace_id": workspace}
            before = [d async for d in live[collection].find(query).sort("_id", 1)]
            after = [d async for d in rebuilt[collection].find(query).sort("_id", 1)]
            assert before and after == before, collection
    finally:
        await client.close()
