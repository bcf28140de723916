"""Intelligence through the real pipeline: mail and meetings become attributes, next
turns into last, strength is explained, and a replay rebuilds the same projections."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.events import (
    CalendarAttendee,
    EventCancelled,
    EventSynced,
    MailboxRemoved,
    MessageRetracted,
)
from commsintel.contracts.proto.identity.v1 import identity_pb2, identity_pb2_grpc
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2 as pb
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2_grpc as pb_grpc
from commsintel.platform.mongo import mongo_client
from commsintel.replay import replay_service
from tests.support.identity_scenario import Scenario

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


async def _assert_replay_equals_live(pipeline, workspace: str, database_suffix: str) -> None:
    """`commsintel replay intelligence` into a database of its own writes exactly the
    workspace's documents the live pipeline wrote."""
    settings = pipeline.config.intelligence().model_copy(
        update={"mongo_database": f"{pipeline.config.name}_{database_suffix}"}
    )
    await replay_service("intelligence", settings=settings)
    client = mongo_client(pipeline.config.mongo_uri, "e2e")
    try:
        live = client[pipeline.config.intelligence().mongo_database]
        rebuilt = client[settings.mongo_database]
        for collection in ("interactions", "member_strengths", "records"):
            query = {"workspace_id": workspace}
            before = [d async for d in live[collection].find(query).sort("_id", 1)]
            after = [d async for d in rebuilt[collection].find(query).sort("_id", 1)]
            assert before and after == before, collection
    finally:
        await client.close()


async def test_mail_and_meetings_become_explained_attributes_and_replay_the_same(
    pipeline, publish_inputs, signing_key: str
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
    await publish_inputs(events)

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
    await _assert_replay_equals_live(pipeline, workspace, "intelligence_replay")


async def _record_intelligence(intelligence, record_id: str, metadata) -> pb.RecordIntelligence:
    return (
        await intelligence.GetRecordIntelligence(
            pb.GetRecordIntelligenceRequest(record_id=record_id), metadata=metadata
        )
    ).intelligence


def _email_keys(record: pb.RecordIntelligence) -> tuple:
    return (
        record.email_interaction_count,
        record.first_email_interaction.interaction_key,
        record.last_email_interaction.interaction_key,
    )


async def test_merges_unmerges_retractions_and_cancellations_recompute_the_attributes(
    pipeline, publish_inputs, signing_key: str
) -> None:
    """What identity changes after the fact (a merge, an unmerge, a deleted message, a
    cancelled meeting) changes the people's and their company's attributes, and a replay
    still ends where the live pipeline did."""
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    mail = Scenario(workspace_id=workspace)
    names = {"bob@acme.com": "Bob Buyer", "bb@gmail.com": "Bob Buyer"}
    alice = (
        (
            "authorization",
            "Bearer " + issue_token(signing_key, Caller(workspace, "alice"), issued_at=NOW),
        ),
    )
    await publish_inputs(
        [
            mail.sent("bob@acme.com", names=names, key="w1", at=NOW - timedelta(days=30)),
            # Bob's signature names his personal address: the person made for it merges.
            mail.received(
                "bob@acme.com",
                names=names,
                key="w2",
                at=NOW - timedelta(days=29),
                signature=Scenario.signature("Bob Buyer", "bb@gmail.com"),
            ),
            mail.sent("bb@gmail.com", names=names, key="p1", at=NOW - timedelta(days=28)),
            mail.sent("dan@acme.com", key="d1", at=NOW - timedelta(days=5)),
            _meeting(workspace, "kickoff", NOW + timedelta(days=3), "accepted"),
        ],
    )
    async with (
        grpc.aio.insecure_channel(pipeline.identity_target) as identity_channel,
        grpc.aio.insecure_channel(pipeline.intelligence_target) as intelligence_channel,
    ):
        identity = identity_pb2_grpc.IdentityServiceStub(identity_channel)
        intelligence = pb_grpc.IntelligenceServiceStub(intelligence_channel)

        async def person_of(address: str) -> identity_pb2.Person:
            return (
                await identity.FindByEmail(
                    identity_pb2.FindByEmailRequest(email_address=address), metadata=alice
                )
            ).person

        bob, dan = await person_of("bob@acme.com"), await person_of("dan@acme.com")
        assert (await person_of("bb@gmail.com")).person_id == bob.person_id  # merged
        [merged_id] = bob.merged_person_ids
        acme = bob.company_id
        assert acme and dan.company_id == acme

        # The survivor holds the mail of both addresses; the company rolls up its people.
        merged_bob = await _record_intelligence(intelligence, bob.person_id, alice)
        assert _email_keys(merged_bob) == (3, "w1", "p1")
        assert merged_bob.next_calendar_interaction.interaction_key == "kickoff"
        company = await _record_intelligence(intelligence, acme, alice)
        assert _email_keys(company) == (4, "w1", "d1")
        assert company.strongest_member_id == "alice"

        # Dan's message is deleted, the meeting is cancelled.
        await publish_inputs(
            [
                MessageRetracted(
                    event_id=f"{workspace}-retract-d1",
                    workspace_id=workspace,
                    mailbox_id=mail.mailbox_id,
                    member_id="alice",
                    message_key="d1",
                    reason="deleted",
                    retracted_at=NOW,
                ),
                EventCancelled(
                    event_id=f"{workspace}-cancel-kickoff",
                    workspace_id=workspace,
                    mailbox_id="mb-alice",
                    member_id="alice",
                    calendar_event_key="kickoff",
                    cancelled_at=NOW,
                ),
            ],
        )
        assert _email_keys(await _record_intelligence(intelligence, acme, alice)) == (
            3,
            "w1",
            "p1",
        )
        dan_now = await _record_intelligence(intelligence, dan.person_id, alice)
        assert dan_now.email_interaction_count == 0 and not dan_now.member_strengths
        bob_now = await _record_intelligence(intelligence, bob.person_id, alice)
        assert not bob_now.HasField("next_calendar_interaction")
        assert bob_now.meeting_count == 0

        # Unmerged, each record answers for its own address's mail again.
        await identity.Unmerge(
            identity_pb2.UnmergeRequest(merged_person_id=merged_id), metadata=alice
        )
        await pipeline.wait_until_caught_up()
        work, personal = await person_of("bob@acme.com"), await person_of("bb@gmail.com")
        assert {work.person_id, personal.person_id} == {bob.person_id, merged_id}
        split_work = await _record_intelligence(intelligence, work.person_id, alice)
        assert _email_keys(split_work) == (2, "w1", "w2")
        assert split_work.connection_strength < bob_now.connection_strength
        split_personal = await _record_intelligence(intelligence, personal.person_id, alice)
        assert _email_keys(split_personal) == (1, "p1", "p1")
        # Bob's personal address is no longer Acme's: the company has its work mail only.
        assert _email_keys(await _record_intelligence(intelligence, acme, alice)) == (
            2,
            "w1",
            "w2",
        )

    await _assert_replay_equals_live(pipeline, workspace, "intelligence_replay_changes")


async def test_unknown_records_and_other_workspaces_records_are_not_found(
    pipeline, publish_inputs, signing_key: str
) -> None:
    ours, theirs = (f"ws-{uuid.uuid4().hex[:8]}" for _ in range(2))

    def as_alice(workspace: str):
        token = issue_token(signing_key, Caller(workspace, "alice"), issued_at=NOW)
        return (("authorization", f"Bearer {token}"),)

    await publish_inputs(
        [Scenario(workspace_id=ours).sent("bob@acme.com", key="m1", at=NOW - timedelta(days=3))]
    )
    async with grpc.aio.insecure_channel(pipeline.identity_target) as channel:
        bob = (
            await identity_pb2_grpc.IdentityServiceStub(channel).FindByEmail(
                identity_pb2.FindByEmailRequest(email_address="bob@acme.com"),
                metadata=as_alice(ours),
            )
        ).person.person_id
    async with grpc.aio.insecure_channel(pipeline.intelligence_target) as channel:
        intelligence = pb_grpc.IntelligenceServiceStub(channel)
        answer = await intelligence.GetRecordIntelligence(
            pb.GetRecordIntelligenceRequest(record_id=bob), metadata=as_alice(ours)
        )
        assert answer.intelligence.email_interaction_count == 1

        # Bob's id asked from another workspace, and an id nobody made: NOT_FOUND, as
        # identity and access answer, for every call that names a record.
        for record_id, workspace in ((bob, theirs), ("no-such-record", ours)):
            for call in (
                intelligence.GetRecordIntelligence(
                    pb.GetRecordIntelligenceRequest(record_id=record_id),
                    metadata=as_alice(workspace),
                ),
                intelligence.ExplainStrength(
                    pb.ExplainStrengthRequest(record_id=record_id), metadata=as_alice(workspace)
                ),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await call
                assert refused.value.code() == grpc.StatusCode.NOT_FOUND
                assert refused.value.details() == f"record {record_id} not found"

        # The mailbox is removed: bob keeps his record, and intelligence answers zeros.
        await publish_inputs(
            [
                MailboxRemoved(
                    event_id=f"{ours}-removed",
                    workspace_id=ours,
                    mailbox_id="mb-alice",
                    member_id="alice",
                    removed_at=NOW,
                )
            ]
        )
        answer = await intelligence.GetRecordIntelligence(
            pb.GetRecordIntelligenceRequest(record_id=bob), metadata=as_alice(ours)
        )
        assert answer.intelligence.email_interaction_count == 0
        assert answer.intelligence.connection_strength == 0
