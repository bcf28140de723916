from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from commsintel.contracts.events import (
    CompanyCreated,
    InteractionResolved,
    MessageParticipant,
    MessageSynced,
    PersonCreated,
    PersonLinkedToCompany,
)
from commsintel.identity.domain.resolution import RecordBook, WorkspaceDirectory, resolve_message

OWNER = "alice@ours.com"


def _message(direction: str, *participants: tuple[str, str], key: str = "m1", **extra):
    sender = OWNER if direction == "sent" else participants[0][1]
    return MessageSynced(
        event_id=f"ev-{key}",
        workspace_id="ws",
        mailbox_id="mb",
        member_id="alice",
        mailbox_owner_addresses=(OWNER,),
        message_key=key,
        thread_key=key,
        subject="s",
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
        direction=direction,
        participants=(
            MessageParticipant(role="from", address=sender),
            *(MessageParticipant(role=role, address=a) for role, a in participants),
        ),
        **extra,
    )


def _fold(*messages: MessageSynced):
    directory, book, events = WorkspaceDirectory(), RecordBook(), []
    for message in messages:
        resolution, directory = resolve_message(message, directory, book)
        events += resolution.events
    return events


def _people(events) -> set[str]:
    return {e.address for e in events if isinstance(e, PersonCreated)}


def test_people_the_member_emailed_become_records_with_their_company() -> None:
    events = _fold(_message("sent", ("to", "Bob@Acme.com"), ("cc", "eve@eu.acme.co.uk")))
    assert _people(events) == {"bob@acme.com", "eve@eu.acme.co.uk"}
    assert {e.domain for e in events if isinstance(e, CompanyCreated)} == {"acme.com", "acme.co.uk"}
    links = {e.domain for e in events if isinstance(e, PersonLinkedToCompany)}
    assert links == {"acme.com", "acme.co.uk"}


def test_someone_who_only_emailed_the_member_is_not_a_record_yet() -> None:
    assert _people(_fold(_message("received", ("to", OWNER)))) == set()


def test_free_mail_people_get_no_company() -> None:
    events = _fold(_message("sent", ("to", "carol@gmail.com")))
    assert _people(events) == {"carol@gmail.com"}
    assert not [e for e in events if isinstance(e, CompanyCreated | PersonLinkedToCompany)]


def test_colleagues_and_role_addresses_never_become_records() -> None:
    events = _fold(
        _message(
            "sent",
            ("to", "dave@ours.com"),
            ("cc", "support@vendor.com"),
            ("bcc", "noreply@vendor.com"),
        )
    )
    assert _people(events) == set()


def test_automated_mail_creates_no_records() -> None:
    events = _fold(_message("sent", ("to", "bob@acme.com"), automated_reasons=("list-id",)))
    assert _people(events) == set()


def test_every_message_resolves_to_its_records_including_companies() -> None:
    events = _fold(
        _message("sent", ("to", "bob@acme.com"), key="m1"),
        _message("received", ("to", OWNER), key="m2").model_copy(
            update={
                "participants": (
                    MessageParticipant(role="from", address="BOB@acme.com"),
                    MessageParticipant(role="to", address=OWNER),
                )
            }
        ),
    )
    resolved = [e for e in events if isinstance(e, InteractionResolved)]
    assert [r.interaction_key for r in resolved] == ["m1", "m2"]
    assert {(r.record_kind, r.role) for r in resolved[1].records} == {
        ("person", "from"),
        ("company", "from"),
    }


addresses = st.sampled_from(
    [
        "bob@acme.com",
        "BOB@ACME.COM",
        "dave@ours.com",
        "x@sub.ours.com",
        OWNER,
        "carol@gmail.com",
        "c.arol+crm@googlemail.com",
        "noreply@acme.com",
        "zed@beta.co.uk",
    ]
)
messages = st.lists(
    st.tuples(
        st.sampled_from(["sent", "received"]),
        st.lists(
            st.tuples(st.sampled_from(["to", "cc", "bcc"]), addresses), min_size=1, max_size=4
        ),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(messages=messages)
def test_no_member_or_own_domain_record_ever(messages) -> None:
    events = _fold(*[_message(d, *p, key=f"m{i}") for i, (d, p) in enumerate(messages)])
    for address in _people(events):
        assert not address.endswith("ours.com")
    person_ids = [e.person_id for e in events if isinstance(e, PersonCreated)]
    assert len(person_ids) == len(set(person_ids)), "one record per normalized address"


@settings(max_examples=200, deadline=None)
@given(messages=messages)
def test_replaying_the_same_messages_gives_identical_events(messages) -> None:
    batch = [_message(d, *p, key=f"m{i}") for i, (d, p) in enumerate(messages)]
    assert _fold(*batch) == _fold(*batch)


@settings(max_examples=200, deadline=None)
@given(messages=messages, seed=st.randoms(use_true_random=False))
def test_the_records_created_do_not_depend_on_message_order(messages, seed) -> None:
    batch = [_message(d, *p, key=f"m{i}") for i, (d, p) in enumerate(messages)]
    shuffled = list(batch)
    seed.shuffle(shuffled)
    ids = lambda events: {e.person_id for e in events if isinstance(e, PersonCreated)}  # noqa: E731
    assert ids(_fold(*batch)) == ids(_fold(*shuffled))


def test_later_messages_do_not_change_an_earlier_time() -> None:
    first = _message("sent", ("to", "bob@acme.com"))
    later = first.model_copy(
        update={
            "sent_at": first.sent_at + timedelta(days=3),
            "message_key": "m2",
            "event_id": "ev-m2",
        }
    )
    resolved = [e for e in _fold(first, later) if isinstance(e, InteractionResolved)]
    assert [r.occurred_at.day for r in resolved] == [1, 4]
