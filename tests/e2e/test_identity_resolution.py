"""Identity resolution through the real broker, store and gRPC: the workspace settings,
records from history, merges explained and undone, values set by hand, and a replay into
empty storage that yields the same records, ids and events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import grpc
import pytest

from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.proto.identity.v1 import identity_pb2 as pb
from commsintel.contracts.proto.identity.v1 import identity_pb2_grpc as pb_grpc
from commsintel.contracts.topics import IDENTITY_INTERACTIONS, IDENTITY_RECORDS
from commsintel.identity.service_layer.handlers import is_user_command
from commsintel.platform.mongo import mongo_client
from commsintel.replay import DiscardingPublisher, ReplayProgress, read_topics, replay_service
from commsintel.workspace_admin import create_workspace
from tests.support.identity_scenario import Scenario

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e]
NAMES = {"bob@acme.com": "Bob Buyer", "bb@gmail.com": "Bob Buyer", "eve@startup.io": "Eve Cold"}


def as_member(signing_key: str, workspace: str, member: str):
    token = issue_token(signing_key, Caller(workspace, member), issued_at=datetime.now(UTC))
    return (("authorization", f"Bearer {token}"),)


async def refused(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    return error.value.code(), error.value.details()


async def events_on_topics(bootstrap: str, workspace: str) -> list:
    """What identity published for the workspace, first occurrence of each event id
    (every test's pipeline republishes the same ids for earlier workspaces)."""
    found, seen = [], set()
    async for events in read_topics(
        bootstrap, [IDENTITY_RECORDS, IDENTITY_INTERACTIONS], ReplayProgress()
    ):
        for event in events:
            if (
                event.workspace_id == workspace
                and event.event_id not in seen
                and not is_user_command(event)
            ):
                seen.add(event.event_id)
                found.append(event)
    return found


async def test_workspace_records_merges_and_replay_over_the_real_pipeline(
    pipeline, publish_inputs, signing_key: str
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    mail = Scenario(workspace_id=workspace)
    async with grpc.aio.insecure_channel(pipeline.identity_target) as channel:
        workspaces = pb_grpc.WorkspaceServiceStub(channel)
        identity = pb_grpc.IdentityServiceStub(channel)
        alice = as_member(signing_key, workspace, "alice")
        ben = as_member(signing_key, workspace, "ben")

        # Nobody makes themself the admin of a new workspace by asking first: the
        # deployment's operator sets the first admin; then only admins add members.
        code, _ = await refused(
            workspaces.AddMember(
                pb.AddMemberRequest(member_id="ben", addresses=["ben@ours.com"], is_admin=True),
                metadata=ben,
            )
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED
        settings = await create_workspace(
            pipeline.identity_target,
            signing_key,
            workspace_id=workspace,
            admin_member_id="alice",
            addresses=["Alice@Ours.com"],
        )
        assert [(m.member_id, list(m.addresses), m.is_admin) for m in settings.members] == [
            ("alice", ["alice@ours.com"], True)
        ]
        await workspaces.AddMember(
            pb.AddMemberRequest(member_id="ben", addresses=["ben@ours.com"]), metadata=alice
        )
        code, details = await refused(
            workspaces.SetEnhancedRecordCreation(
                pb.SetEnhancedRecordCreationRequest(enabled=False), metadata=ben
            )
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED and "admin" in details
        code, details = await refused(
            workspaces.AddOwnDomain(pb.AddOwnDomainRequest(domain="gmail.com"), metadata=alice)
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "free mail" in details
        code, _ = await refused(workspaces.GetWorkspaceSettings(pb.GetWorkspaceSettingsRequest()))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        await workspaces.AddOwnDomain(
            pb.AddOwnDomainRequest(domain="eu.ours-group.co.uk"), metadata=alice
        )

        # Mail: a cold inbound email, a customer thread, a signature naming a 2nd address.
        await publish_inputs(
            [
                mail.received("eve@startup.io", names=NAMES, key="cold"),
                mail.received("bob@acme.com", names=NAMES, key="hello"),
                mail.sent("bob@acme.com", cc=["kim@ours-group.co.uk"], names=NAMES, key="reply"),
                mail.received(
                    "bob@acme.com",
                    names=NAMES,
                    key="signed",
                    signature=Scenario.signature(
                        "Bob Buyer",
                        "bb@gmail.com",
                        job_title="Head of Procurement",
                        linkedin_url="https://www.linkedin.com/in/bobbuyer",
                    ),
                ),
                mail.sent("bb@gmail.com", names=NAMES, key="personal"),
            ],
        )

        # Eve only wrote to us: no record while Enhanced record creation is on.
        assert not (
            await identity.FindByEmail(
                pb.FindByEmailRequest(email_address="eve@startup.io"), metadata=alice
            )
        ).HasField("person")
        # Bob's two addresses are one person, and the merge says why.
        bob = (
            await identity.FindByEmail(
                pb.FindByEmailRequest(email_address="BB@GMAIL.COM"), metadata=alice
            )
        ).person
        assert set(bob.email_addresses) == {"bob@acme.com", "bb@gmail.com"}
        assert bob.fields["job_title"].values == ["Head of Procurement"]
        assert bob.fields["job_title"].source == pb.VALUE_SOURCE_SIGNATURE
        assert bob.fields["job_title"].message_key == "signed"
        [merged_id] = bob.merged_person_ids
        merge = (
            await identity.ExplainMerge(
                pb.ExplainMergeRequest(merged_person_id=merged_id), metadata=alice
            )
        ).merge
        assert merge.automatic and merge.rule == "signature-names-other-address"
        assert set(merge.addresses) == {"bob@acme.com", "bb@gmail.com"}
        why = await identity.ExplainRecord(
            pb.ExplainRecordRequest(record_id=bob.person_id), metadata=alice
        )
        assert "emailed" in why.created_because and len(why.merges) == 1
        # The colleague on the declared own domain is no record.
        assert not (
            await identity.FindByEmail(
                pb.FindByEmailRequest(email_address="kim@ours-group.co.uk"), metadata=alice
            )
        ).HasField("person")

        # Switching Enhanced record creation off brings Eve in from history.
        await workspaces.SetEnhancedRecordCreation(
            pb.SetEnhancedRecordCreationRequest(enabled=False), metadata=alice
        )
        eve = (
            await identity.FindByEmail(
                pb.FindByEmailRequest(email_address="eve@startup.io"), metadata=alice
            )
        ).person
        assert eve.person_id and eve.fields["name"].values == ["Eve Cold"]

        # A user's value wins over later evidence.
        await identity.SetPersonField(
            pb.SetPersonFieldRequest(
                person_id=bob.person_id, field="job_title", values=["Chief Buyer"]
            ),
            metadata=alice,
        )
        await publish_inputs(
            [
                mail.received(
                    "bob@acme.com",
                    names=NAMES,
                    key="signed-again",
                    signature=Scenario.signature("Bob Buyer", job_title="Procurement Lead"),
                )
            ],
        )
        bob = (
            await identity.GetPerson(pb.GetPersonRequest(person_id=bob.person_id), metadata=alice)
        ).person
        assert bob.fields["job_title"].values == ["Chief Buyer"]
        assert bob.fields["job_title"].source == pb.VALUE_SOURCE_USER

        # Unmerge splits them again; the restored record answers for its own address.
        split = await identity.Unmerge(
            pb.UnmergeRequest(merged_person_id=merged_id), metadata=alice
        )
        assert list(split.survivor.merged_person_ids) == []
        assert split.restored.person_id == merged_id
        work, personal = [
            (
                await identity.FindByEmail(
                    pb.FindByEmailRequest(email_address=address), metadata=alice
                )
            ).person
            for address in ("bob@acme.com", "bb@gmail.com")
        ]
        assert work.person_id != personal.person_id
        assert merged_id in {work.person_id, personal.person_id}

        # Listing: companies by domain, people by company, pages that cover everything.
        companies = (
            await identity.ListCompanies(pb.ListCompaniesRequest(domain="acme.com"), metadata=alice)
        ).companies
        assert [list(c.domains) for c in companies] == [["acme.com"]]
        at_acme = (
            await identity.ListPeople(
                pb.ListPeopleRequest(company_id=companies[0].company_id), metadata=alice
            )
        ).people
        assert {p.email_addresses[0] for p in at_acme} == {"bob@acme.com"}
        seen, token = [], ""
        while True:
            page = await identity.ListPeople(
                pb.ListPeopleRequest(page_size=1, page_token=token), metadata=alice
            )
            seen += [p.person_id for p in page.people]
            if not (token := page.next_page_token):
                break
        assert len(seen) == len(set(seen)) == 3  # bob, bb, eve

        # Another workspace sees none of it.
        outsider = as_member(signing_key, "other-workspace", "mallory")
        code, _ = await refused(
            identity.GetPerson(pb.GetPersonRequest(person_id=bob.person_id), metadata=outsider)
        )
        assert code == grpc.StatusCode.NOT_FOUND

    # Replaying every input topic into empty storage gives the same events and records.
    live_events = await events_on_topics(pipeline.config.kafka_bootstrap, workspace)
    replayed = DiscardingPublisher(keep=True)
    replay_settings = pipeline.config.identity().model_copy(
        update={"mongo_database": f"{pipeline.config.name}_identity_replay"}
    )
    await replay_service("identity-resolution", publisher=replayed, settings=replay_settings)
    mine = [e for e in replayed.kept if e.workspace_id == workspace]
    for topic in (IDENTITY_RECORDS, IDENTITY_INTERACTIONS):
        # Kafka orders each partition (a workspace's events of one topic), not across topics.
        replayed_here = [e for e in mine if e.TOPIC == topic]
        live_here = [e for e in live_events if e.TOPIC == topic]
        assert [(type(e).__name__, e.event_id) for e in replayed_here] == [
            (type(e).__name__, e.event_id) for e in live_here
        ]
        assert replayed_here == live_here
    client = mongo_client(pipeline.config.mongo_uri, "e2e")
    try:
        live = client[pipeline.config.identity().mongo_database]
        rebuilt = client[replay_settings.mongo_database]
        for collection in ("people", "companies", "contacts", "settings"):
            query = {"_id": workspace} if collection == "settings" else {"workspace_id": workspace}
            before = [d async for d in live[collection].find(query).sort("_id", 1)]
            after = [d async for d in rebuilt[collection].find(query).sort("_id", 1)]
            assert before and after == before, collection
    finally:
        await client.close()


async def test_a_workspace_with_mail_gets_its_first_admin_from_the_operator_only(
    pipeline, publish_inputs, signing_key: str, monkeypatch
) -> None:
    import asyncio

    from commsintel.cli import main
    from commsintel.contracts.auth import issue_operator_token

    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    mail = Scenario(workspace_id=workspace)
    # The workspace already has mail, and no admin.
    await publish_inputs([mail.sent("bob@acme.com", names=NAMES, key="hello")])
    async with grpc.aio.insecure_channel(pipeline.identity_target) as channel:
        workspaces = pb_grpc.WorkspaceServiceStub(channel)
        identity = pb_grpc.IdentityServiceStub(channel)
        alice = as_member(signing_key, workspace, "alice")

        # Asking to be its admin is not enough, whoever asks first.
        code, details = await refused(
            workspaces.AddMember(
                pb.AddMemberRequest(member_id="alice", addresses=["alice@ours.com"], is_admin=True),
                metadata=alice,
            )
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED and "admin" in details

        # The operator's token sets admins and nothing else.
        operator = issue_operator_token(signing_key, workspace, issued_at=datetime.now(UTC))
        as_operator = (("authorization", f"Bearer {operator}"),)
        for call in (
            workspaces.SetEnhancedRecordCreation(
                pb.SetEnhancedRecordCreationRequest(enabled=False), metadata=as_operator
            ),
            identity.ListPeople(pb.ListPeopleRequest(), metadata=as_operator),
        ):
            code, _ = await refused(call)
            assert code == grpc.StatusCode.PERMISSION_DENIED
        code, details = await refused(
            workspaces.AddMember(
                pb.AddMemberRequest(member_id="ben", addresses=["ben@ours.com"]),
                metadata=as_operator,
            )
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "admins only" in details

        # `commsintel workspace create`, with the deployment's key, makes alice the admin.
        monkeypatch.setenv("COMMSINTEL_IDENTITY_SIGNING_KEY", signing_key)
        status = await asyncio.to_thread(
            main,
            [
                "workspace",
                "create",
                "--workspace",
                workspace,
                "--admin",
                "alice",
                "--address",
                "alice@ours.com",
                "--identity-target",
                pipeline.identity_target,
            ],
        )
        assert status == 0
        settings = (
            await workspaces.GetWorkspaceSettings(pb.GetWorkspaceSettingsRequest(), metadata=alice)
        ).settings
        assert [(m.member_id, m.is_admin) for m in settings.members] == [("alice", True)]
        # From now on alice adds the members.
        await workspaces.AddMember(
            pb.AddMemberRequest(member_id="ben", addresses=["ben@ours.com"]), metadata=alice
        )
