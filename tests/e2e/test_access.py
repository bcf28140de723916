"""Access through real gRPC on the real broker and store: every level, every kind of
grant and its revocation, access requests, bodies fetched from ingest only at FULL, the
activity feed with meetings, and what strangers and bad requests get."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from commsintel.contracts.auth import (
    SERVICE_TOKEN_METADATA,
    Caller,
    issue_service_token,
    issue_token,
)
from commsintel.contracts.events import CalendarAttendee, EventSynced
from commsintel.contracts.proto.access.v1 import access_pb2 as pb
from commsintel.contracts.proto.access.v1 import access_pb2_grpc as pb_grpc
from commsintel.contracts.proto.ingest.v1 import ingest_pb2, ingest_pb2_grpc

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e]

PRICING = "Confidential pricing for Acme"
PLANS = "Beta roadmap"
BODY = "The discount is 40 percent."
METADATA, SUBJECT, FULL, NONE = (
    pb.VISIBILITY_LEVEL_METADATA,
    pb.VISIBILITY_LEVEL_SUBJECT,
    pb.VISIBILITY_LEVEL_FULL,
    pb.VISIBILITY_LEVEL_NONE,
)


def _plain(sender, to, subject, date, message_id, extra="", cc="") -> str:
    head = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {date}"]
    head += [f"Message-ID: <{message_id}>"] + ([f"Cc: {cc}"] if cc else [])
    head += [extra] if extra else []
    return "\n".join(head) + f"\n\n{BODY}\n"


def _with_attachment(sender, to, subject, date, message_id) -> str:
    return (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {date}\n"
        f"Message-ID: <{message_id}>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b1"\n\n'
        "--b1\nContent-Type: text/plain\n\nPlans attached.\n"
        "--b1\nContent-Type: text/plain; name=plan.txt\n"
        "Content-Disposition: attachment; filename=plan.txt\n\nstep one, step two\n"
        "--b1--\n"
    )


def _mbox(path: Path, *messages: str) -> Path:
    with path.open("w") as out:
        for message in messages:
            out.write("From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + message + "\n")
    return path


@pytest.fixture
async def workspace(pipeline, tmp_path):
    """Alice wrote to Bob (a thread of two, Ben in copy of the first) and to Carol (with an
    attachment); Ben's mailbox holds the first message too. Zoe and Yan have no mailbox."""
    ws = f"ws-{uuid.uuid4().hex[:8]}"
    first = _plain(
        "Alice <alice@ours.com>",
        "Bob <bob@acme.com>",
        PRICING,
        "Sat, 10 Jan 2026 09:00:00 +0000",
        "p1@ours.com",
        cc="ben@ours.com",
    )
    reply = _plain(
        "Bob <bob@acme.com>",
        "alice@ours.com",
        f"Re: {PRICING}",
        "Mon, 12 Jan 2026 09:00:00 +0000",
        "p2@acme.com",
        extra="In-Reply-To: <p1@ours.com>\nReferences: <p1@ours.com>",
    )
    plans = _with_attachment(
        "alice@ours.com",
        "Carol <carol@beta.com>",
        PLANS,
        "Tue, 13 Jan 2026 09:00:00 +0000",
        "c1@ours.com",
    )
    for member, messages in (("alice", (first, reply, plans)), ("ben", (first,))):
        await pipeline.ingest.import_archive(
            _mbox(tmp_path / f"{member}.mbox", *messages),
            workspace_id=ws,
            member_id=member,
            owner_address=f"{member}@ours.com",
        )
    await pipeline.wait_until_caught_up()
    return ws


class Access:
    """A member's view of AccessService over real gRPC."""

    def __init__(self, stub, signing_key: str, workspace: str, member: str) -> None:
        token = issue_token(signing_key, Caller(workspace, member), issued_at=datetime.now(UTC))
        self.metadata = (("authorization", f"Bearer {token}"),)
        self._stub = stub

    def __getattr__(self, name: str):
        method = getattr(self._stub, name)

        def call(request, metadata=()):
            return method(request, metadata=self.metadata + tuple(metadata))

        return call

    async def record(self, address: str) -> str:
        listed = await self.ListRecords(pb.ListRecordsRequest())
        return next(r.record_id for r in listed.records if r.email_address == address)

    async def emails(self, record_id: str) -> dict[str, pb.RecordEmail]:
        """message_key -> the email as this member sees it."""
        listed = await self.ListRecordEmails(pb.ListRecordEmailsRequest(record_id=record_id))
        return {e.message_key: e for e in listed.emails}


async def refused(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    return error.value.code(), error.value.details()


@pytest.fixture
async def access(pipeline, signing_key, workspace):
    async with grpc.aio.insecure_channel(pipeline.access_target) as channel:
        stub = pb_grpc.AccessServiceStub(channel)
        yield lambda member, ws=workspace: Access(stub, signing_key, ws, member)


async def mailbox_of(pipeline, access, member: str) -> str:
    async with grpc.aio.insecure_channel(pipeline.ingest_target) as channel:
        stub = ingest_pb2_grpc.MailboxServiceStub(channel)
        listed = await stub.ListMailboxes(
            ingest_pb2.ListMailboxesRequest(), metadata=access(member).metadata
        )
        return listed.mailboxes[0].mailbox_id


async def test_each_level_and_each_grant_kind_with_revoke(pipeline, access, signing_key) -> None:
    alice, zoe, yan, ben = access("alice"), access("zoe"), access("yan"), access("ben")
    bob = await alice.record("bob@acme.com")
    carol = await alice.record("carol@beta.com")
    mailbox = await mailbox_of(pipeline, access, "alice")
    own = await alice.emails(bob)
    first, reply = sorted(own, key=lambda k: own[k].sent_at.seconds)
    (plans,) = await alice.emails(carol)

    async def sees(viewer: Access, key: str) -> int:
        answer = await viewer.CheckVisibility(pb.CheckVisibilityRequest(message_keys=[key]))
        return answer.levels[0]

    # The owner sees her mail in full, body fetched from ingest; others see metadata.
    assert {e.subject for e in own.values()} == {PRICING, f"Re: {PRICING}"}
    message = await alice.GetMessage(pb.GetMessageRequest(message_key=first))
    assert BODY in message.text_body and message.email.visibility == FULL
    shown = await zoe.emails(bob)
    assert {e.visibility for e in shown.values()} == {METADATA}
    assert not any(e.HasField("subject") for e in shown.values())
    assert all(e.can_request_access for e in shown.values())
    message = await zoe.GetMessage(pb.GetMessageRequest(message_key=first))
    assert message.text_body == "" and not message.email.HasField("subject")
    assert BODY.encode() not in message.SerializeToString()

    # Sharing level SUBJECT, then FULL, for everyone else; back to METADATA.
    for level, expected in ((SUBJECT, SUBJECT), (FULL, FULL), (METADATA, METADATA)):
        answer = await alice.SetMailboxSharingLevel(
            pb.SetMailboxSharingLevelRequest(mailbox_id=mailbox, level=level)
        )
        assert answer.sharing.level == level
        assert await sees(zoe, reply) == expected  # the very next query
    # The first message is also in Ben's mailbox: his SUBJECT level shows its subject.
    ben_mailbox = await mailbox_of(pipeline, access, "ben")
    await ben.SetMailboxSharingLevel(
        pb.SetMailboxSharingLevelRequest(mailbox_id=ben_mailbox, level=SUBJECT)
    )
    shown = await zoe.emails(bob)
    assert shown[first].subject == PRICING and not shown[reply].HasField("subject")

    # A mailbox grant: Zoe alone gets FULL, body and attachments included; then revoked.
    answer = await alice.GrantMailboxAccess(
        pb.GrantMailboxAccessRequest(mailbox_id=mailbox, member_id="zoe")
    )
    assert list(answer.sharing.full_access_member_ids) == ["zoe"]
    assert (await sees(zoe, plans), await sees(yan, plans)) == (FULL, METADATA)
    message = await zoe.GetMessage(pb.GetMessageRequest(message_key=plans))
    assert [a.filename for a in message.attachments] == ["plan.txt"]
    attachment = await zoe.GetMessageAttachment(
        pb.GetMessageAttachmentRequest(message_key=plans, index=message.attachments[0].index)
    )
    assert attachment.content == b"step one, step two"
    await alice.RevokeMailboxAccess(
        pb.RevokeMailboxAccessRequest(mailbox_id=mailbox, member_id="zoe")
    )
    assert await sees(zoe, plans) == METADATA
    code, _ = await refused(
        zoe.GetMessageAttachment(pb.GetMessageAttachmentRequest(message_key=plans, index=0))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED

    # "Manage access": Bob's emails shared with Zoe, then with the whole workspace.
    answer = await alice.ShareRecordEmails(
        pb.ShareRecordEmailsRequest(record_id=bob, member_ids=["zoe"])
    )
    assert list(answer.sharing.member_ids) == ["zoe"]
    assert [await sees(zoe, k) for k in (first, reply, plans)] == [FULL, FULL, METADATA]
    assert await sees(yan, reply) == METADATA
    await alice.ShareRecordEmails(pb.ShareRecordEmailsRequest(record_id=bob, whole_workspace=True))
    assert await sees(yan, reply) == FULL
    message = await yan.GetMessage(pb.GetMessageRequest(message_key=reply))
    assert BODY in message.text_body
    answer = await alice.UnshareRecordEmails(
        pb.UnshareRecordEmailsRequest(record_id=bob, whole_workspace=True, member_ids=["zoe"])
    )
    assert not answer.sharing.whole_workspace and not answer.sharing.member_ids
    assert (await sees(zoe, reply), await sees(yan, reply)) == (METADATA, METADATA)

    # Other services ask for a member with a service token, many messages at once.
    service = issue_service_token(signing_key, "intelligence", issued_at=datetime.now(UTC))
    answer = await zoe.CheckVisibility(
        pb.CheckVisibilityRequest(
            message_keys=[first, reply, plans, "no-such-message"], viewer_member_id="alice"
        ),
        metadata=((SERVICE_TOKEN_METADATA, service),),
    )
    assert list(answer.levels) == [FULL, FULL, FULL, NONE]


async def test_access_requests_are_decided_by_the_owners_and_take_effect_at_once(
    pipeline, access
) -> None:
    alice, ben, zoe = access("alice"), access("ben"), access("zoe")
    bob = await alice.record("bob@acme.com")
    carol = await alice.record("carol@beta.com")
    own = await alice.emails(bob)
    first, reply = sorted(own, key=lambda k: own[k].sent_at.seconds)
    thread = own[first].thread_key
    assert own[reply].thread_key == thread

    # Zoe asks for the thread: Alice (both messages) and Ben (the first) are asked.
    asked = await zoe.RequestAccess(pb.RequestAccessRequest(thread_key=thread, note="for the QBR"))
    assert [r.owner_member_id for r in asked.requests] == ["alice", "ben"]
    assert {r.state for r in asked.requests} == {pb.ACCESS_REQUEST_STATE_PENDING}
    again = await zoe.RequestAccess(pb.RequestAccessRequest(thread_key=thread))
    assert [r.request_id for r in again.requests] == [r.request_id for r in asked.requests]
    assert all(e.access_requested for e in (await zoe.emails(bob)).values())

    # Each owner sees what is asked of them; Zoe sees her own.
    incoming = await alice.ListAccessRequests(
        pb.ListAccessRequestsRequest(direction=pb.ACCESS_REQUEST_DIRECTION_INCOMING)
    )
    (to_alice,) = incoming.requests
    assert (to_alice.requester_member_id, to_alice.note) == ("zoe", "for the QBR")
    outgoing = await zoe.ListAccessRequests(
        pb.ListAccessRequestsRequest(direction=pb.ACCESS_REQUEST_DIRECTION_OUTGOING)
    )
    assert len(outgoing.requests) == 2
    code, _ = await refused(
        ben.DecideAccessRequest(
            pb.DecideAccessRequestRequest(
                request_id=to_alice.request_id, decision=pb.ACCESS_DECISION_APPROVE
            )
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED

    # Alice approves: the next query shows both messages in full, body included.
    decided = await alice.DecideAccessRequest(
        pb.DecideAccessRequestRequest(
            request_id=to_alice.request_id, decision=pb.ACCESS_DECISION_APPROVE
        )
    )
    assert decided.request.state == pb.ACCESS_REQUEST_STATE_APPROVED
    shown = await zoe.emails(bob)
    assert {e.visibility for e in shown.values()} == {FULL}
    assert shown[reply].subject == f"Re: {PRICING}"
    assert BODY in (await zoe.GetMessage(pb.GetMessageRequest(message_key=reply))).text_body
    code, _ = await refused(zoe.RequestAccess(pb.RequestAccessRequest(message_key=reply)))
    assert code == grpc.StatusCode.ALREADY_EXISTS

    # Ben declines his; Alice changes her mind: declining takes the access back.
    to_ben = next(r for r in asked.requests if r.owner_member_id == "ben")
    await ben.DecideAccessRequest(
        pb.DecideAccessRequestRequest(
            request_id=to_ben.request_id, decision=pb.ACCESS_DECISION_DECLINE
        )
    )
    await alice.DecideAccessRequest(
        pb.DecideAccessRequestRequest(
            request_id=to_alice.request_id, decision=pb.ACCESS_DECISION_DECLINE
        )
    )
    shown = await zoe.emails(bob)
    assert {e.visibility for e in shown.values()} == {METADATA}
    assert not any(e.access_requested for e in shown.values())
    pending = await alice.ListAccessRequests(
        pb.ListAccessRequestsRequest(direction=pb.ACCESS_REQUEST_DIRECTION_INCOMING)
    )
    assert list(pending.requests) == []
    every = await alice.ListAccessRequests(
        pb.ListAccessRequestsRequest(
            direction=pb.ACCESS_REQUEST_DIRECTION_INCOMING, include_decided=True
        )
    )
    assert [r.state for r in every.requests] == [pb.ACCESS_REQUEST_STATE_DECLINED]

    # A request for a record's emails, approved: Carol's thread opens, Bob's stays closed.
    asked = await zoe.RequestAccess(pb.RequestAccessRequest(record_id=carol))
    (to_alice,) = asked.requests
    await alice.DecideAccessRequest(
        pb.DecideAccessRequestRequest(
            request_id=to_alice.request_id, decision=pb.ACCESS_DECISION_APPROVE
        )
    )
    (plans,) = (await zoe.emails(carol)).values()
    assert plans.visibility == FULL and plans.subject == PLANS
    assert {e.visibility for e in (await zoe.emails(bob)).values()} == {METADATA}


async def test_activity_lists_meetings_with_rsvps_redacted_like_emails(
    pipeline, publish_inputs, access, workspace
) -> None:
    alice, zoe = access("alice"), access("zoe")
    mailbox = await mailbox_of(pipeline, access, "alice")
    # A meeting Alice's calendar synced: Bob accepted, Carol declined.
    await publish_inputs(
        [
            EventSynced(
                event_id=f"ev-{workspace}",
                workspace_id=workspace,
                mailbox_id=mailbox,
                member_id="alice",
                mailbox_owner_addresses=("alice@ours.com",),
                calendar_event_key="meeting-1",
                title="Acme pricing review",
                starts_at=datetime(2026, 1, 11, 15, 0, tzinfo=UTC),
                ends_at=datetime(2026, 1, 11, 16, 0, tzinfo=UTC),
                organizer="alice@ours.com",
                attendees=(
                    CalendarAttendee(address="bob@acme.com", rsvp="accepted"),
                    CalendarAttendee(address="carol@beta.com", rsvp="declined"),
                ),
            )
        ]
    )
    bob = await alice.record("bob@acme.com")

    # Zoe: the meeting between the two emails, attendees and RSVPs shown, no title.
    feed = await zoe.ListRecordActivity(pb.ListRecordActivityRequest(record_id=bob))
    kinds = [item.WhichOneof("item") for item in feed.items]
    assert kinds == ["email", "calendar_event", "email"]
    meeting = feed.items[1].calendar_event
    assert meeting.visibility == METADATA and not meeting.HasField("title")
    assert {(a.address, a.rsvp) for a in meeting.attendees} == {
        ("bob@acme.com", pb.RSVP_STATUS_ACCEPTED),
        ("carol@beta.com", pb.RSVP_STATUS_DECLINED),
    }
    assert b"Acme pricing review" not in feed.SerializeToString()
    # Alice sees the title; with her mailbox at SUBJECT, so does Zoe.
    own = await alice.ListRecordActivity(pb.ListRecordActivityRequest(record_id=bob))
    assert own.items[1].calendar_event.title == "Acme pricing review"
    await alice.SetMailboxSharingLevel(
        pb.SetMailboxSharingLevelRequest(mailbox_id=mailbox, level=SUBJECT)
    )
    feed = await zoe.ListRecordActivity(pb.ListRecordActivityRequest(record_id=bob, page_size=2))
    assert feed.items[1].calendar_event.title == "Acme pricing review"
    rest = await zoe.ListRecordActivity(
        pb.ListRecordActivityRequest(record_id=bob, page_size=2, page_token=feed.next_page_token)
    )
    assert [i.WhichOneof("item") for i in rest.items] == ["email"] and not rest.next_page_token


async def test_strangers_and_bad_requests_get_clear_statuses(pipeline, access, workspace) -> None:
    alice, zoe = access("alice"), access("zoe")
    outsider = access("mallory", ws="another-workspace")
    mailbox = await mailbox_of(pipeline, access, "alice")
    bob = await alice.record("bob@acme.com")
    keys = list(await alice.emails(bob))
    asked = await zoe.RequestAccess(pb.RequestAccessRequest(message_key=keys[0]))
    request_id = asked.requests[0].request_id

    async def status(call) -> grpc.StatusCode:
        return (await refused(call))[0]

    # Another workspace cannot tell that anything exists.
    NOT_FOUND = grpc.StatusCode.NOT_FOUND
    assert await status(outsider.GetMessage(pb.GetMessageRequest(message_key=keys[0]))) == NOT_FOUND
    assert (
        await status(outsider.ListRecordEmails(pb.ListRecordEmailsRequest(record_id=bob)))
        == NOT_FOUND
    )
    assert (
        await status(outsider.ListRecordActivity(pb.ListRecordActivityRequest(record_id=bob)))
        == NOT_FOUND
    )
    assert (
        await status(
            outsider.SetMailboxSharingLevel(
                pb.SetMailboxSharingLevelRequest(mailbox_id=mailbox, level=FULL)
            )
        )
        == NOT_FOUND
    )
    assert (
        await status(
            outsider.DecideAccessRequest(
                pb.DecideAccessRequestRequest(
                    request_id=request_id, decision=pb.ACCESS_DECISION_APPROVE
                )
            )
        )
        == NOT_FOUND
    )
    assert (
        await status(outsider.RequestAccess(pb.RequestAccessRequest(message_key=keys[0])))
        == NOT_FOUND
    )
    answer = await outsider.CheckVisibility(pb.CheckVisibilityRequest(message_keys=keys))
    assert set(answer.levels) == {NONE}

    # No token or a forged one: UNAUTHENTICATED.
    async with grpc.aio.insecure_channel(pipeline.access_target) as channel:
        stub = pb_grpc.AccessServiceStub(channel)
        code, _ = await refused(stub.CheckVisibility(pb.CheckVisibilityRequest(message_keys=keys)))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        forged = Access(stub, "x" * 40, workspace, "alice")
        code, _ = await refused(
            forged.SetMailboxSharingLevel(
                pb.SetMailboxSharingLevelRequest(mailbox_id=mailbox, level=FULL)
            )
        )
        assert code == grpc.StatusCode.UNAUTHENTICATED

    # Members changing what is not theirs: PERMISSION_DENIED.
    DENIED = grpc.StatusCode.PERMISSION_DENIED
    for call in (
        zoe.SetMailboxSharingLevel(
            pb.SetMailboxSharingLevelRequest(mailbox_id=mailbox, level=FULL)
        ),
        zoe.GrantMailboxAccess(pb.GrantMailboxAccessRequest(mailbox_id=mailbox, member_id="zoe")),
        zoe.GetMailboxSharing(pb.GetMailboxSharingRequest(mailbox_id=mailbox)),
        zoe.ShareRecordEmails(pb.ShareRecordEmailsRequest(record_id=bob, whole_workspace=True)),
        zoe.DecideAccessRequest(
            pb.DecideAccessRequestRequest(
                request_id=request_id, decision=pb.ACCESS_DECISION_APPROVE
            )
        ),
        zoe.CheckVisibility(pb.CheckVisibilityRequest(message_keys=keys, viewer_member_id="alice")),
    ):
        assert await status(call) == DENIED

    # Bad arguments: INVALID_ARGUMENT, saying what is wrong.
    for call, words in (
        (
            alice.SetMailboxSharingLevel(pb.SetMailboxSharingLevelRequest(mailbox_id=mailbox)),
            "level",
        ),
        (
            alice.SetMailboxSharingLevel(
                pb.SetMailboxSharingLevelRequest(mailbox_id=mailbox, level=NONE)
            ),
            "level",
        ),
        (
            alice.GrantMailboxAccess(pb.GrantMailboxAccessRequest(mailbox_id=mailbox)),
            "member_id",
        ),
        (alice.GetMailboxSharing(pb.GetMailboxSharingRequest()), "mailbox_id"),
        (alice.CheckVisibility(pb.CheckVisibilityRequest()), "message_keys"),
        (
            alice.CheckVisibility(pb.CheckVisibilityRequest(message_keys=["k"] * 1001)),
            "message_keys",
        ),
        (zoe.RequestAccess(pb.RequestAccessRequest()), "message_key"),
        (
            zoe.RequestAccess(pb.RequestAccessRequest(message_key=keys[1], note="x" * 501)),
            "note",
        ),
        (
            alice.DecideAccessRequest(pb.DecideAccessRequestRequest(request_id=request_id)),
            "decision",
        ),
        (alice.ListAccessRequests(pb.ListAccessRequestsRequest()), "direction"),
        (alice.ShareRecordEmails(pb.ShareRecordEmailsRequest(record_id=bob)), "member"),
        (alice.GetMessage(pb.GetMessageRequest()), "message_key"),
        (
            alice.ListRecordEmails(pb.ListRecordEmailsRequest(record_id=bob, page_token="%%")),
            "page_token",
        ),
        (
            alice.ListRecordActivity(pb.ListRecordActivityRequest(record_id=bob, page_size=999)),
            "page_size",
        ),
    ):
        code, details = await refused(call)
        assert code == grpc.StatusCode.INVALID_ARGUMENT, details
        assert words in details
