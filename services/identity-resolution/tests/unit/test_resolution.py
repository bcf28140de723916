"""Who becomes a record, driven through the real handlers on the in-memory store."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commsintel.contracts import ids
from commsintel.contracts.events import (
    CalendarAttendee,
    CompanyCreated,
    EnhancedRecordCreationChanged,
    EventCancelled,
    EventSynced,
    MemberAdded,
    MessageRetracted,
    OwnDomainAdded,
    PeopleMerged,
    PersonCreated,
    PersonUnmerged,
    RecordEnriched,
)
from commsintel.identity.service_layer.handlers import IdentityHandlers
from tests.support.identity_memory_store import InMemoryIdentityStore
from tests.support.identity_scenario import PublishedLog, Scenario, workspace_where_survivor_is

AT = datetime(2026, 3, 1, tzinfo=UTC)


class Identity:
    """identity-resolution with an in-memory store, fed one batch per call."""

    def __init__(self) -> None:
        self.store = InMemoryIdentityStore()
        self.log = PublishedLog()
        self.handlers = IdentityHandlers(self.store, self.log)

    def feed(self, *events) -> PublishedLog:
        asyncio.run(self.handlers.handle_batch(list(events)))
        return self.log


def enhanced(enabled: bool, *, ws="ws") -> EnhancedRecordCreationChanged:
    return EnhancedRecordCreationChanged(
        event_id=f"enhanced-{enabled}-{AT}",
        workspace_id=ws,
        enabled=enabled,
        changed_by="alice",
        changed_at=AT,
    )


# --- who becomes a record ---------------------------------------------------------------


def test_people_the_member_emailed_become_records_linked_to_their_company() -> None:
    mail = Scenario()
    log = Identity().feed(mail.sent("Bob@Acme.com", cc=["eve@eu.acme.co.uk", "joe@acme.com"]))
    people = log.people()
    assert set(people) == {"bob@acme.com", "eve@eu.acme.co.uk", "joe@acme.com"}
    companies = {e.domain: e.company_id for e in log.of(CompanyCreated)}
    assert set(companies) == {"acme.com", "acme.co.uk"}
    links = log.links()
    assert links[people["bob@acme.com"]] == links[people["joe@acme.com"]] == companies["acme.com"]
    assert links[people["eve@eu.acme.co.uk"]] == companies["acme.co.uk"]


def test_someone_who_only_emailed_the_member_is_no_record_while_enhanced_creation_is_on():
    mail = Scenario()
    log = Identity().feed(mail.received("eve@startup.io"))
    assert log.people() == {}


def test_switching_enhanced_creation_off_creates_records_from_history() -> None:
    mail, identity = Scenario(), Identity()
    first = mail.received("eve@startup.io", key="cold-1")
    identity.feed(first)
    log = identity.feed(enhanced(False))
    eve = log.people()["eve@startup.io"]
    assert "Enhanced record creation is off" in log.of(PersonCreated)[0].created_because
    # Her earlier email now counts for her record.
    assert eve in log.records_of("cold-1")


def test_switching_enhanced_creation_back_on_deletes_nothing() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(enhanced(False), mail.received("eve@startup.io"))
    before = dict(identity.log.people())
    log = identity.feed(enhanced(True), mail.received("zed@other.io"))
    assert log.people() == before


def test_a_person_made_later_comes_with_their_whole_history() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(mail.received("bob@acme.com", key="hello"))
    log = identity.feed(mail.sent("bob@acme.com", key="reply"))
    bob = log.people()["bob@acme.com"]
    assert bob in log.records_of("hello") and bob in log.records_of("reply")


def test_free_mail_people_get_no_company() -> None:
    log = Identity().feed(Scenario().sent("carol@gmail.com"))
    assert set(log.people()) == {"carol@gmail.com"}
    assert log.of(CompanyCreated) == [] and log.links() == {}


def test_colleagues_own_domains_members_and_role_addresses_never_become_records() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(
        MemberAdded(
            event_id="m",
            workspace_id="ws",
            member_id="ben",
            addresses=("ben@gmail.com",),
            is_admin=False,
            added_by="alice",
            added_at=AT,
        ),
        OwnDomainAdded(
            event_id="d", workspace_id="ws", domain="ours-group.com", added_by="alice", added_at=AT
        ),
    )
    log = identity.feed(
        mail.sent(
            "dave@ours.com",
            "x@sales.ours.com",
            "ben@gmail.com",
            "kim@ours-group.com",
            cc=["support@vendor.com"],
            bcc=["noreply@vendor.com"],
        )
    )
    assert log.people() == {}


def test_automated_mail_is_no_evidence() -> None:
    identity = Identity()
    identity.feed(enhanced(False))
    log = identity.feed(Scenario().received("news@vendor.com", automated=["list-id"]))
    assert log.people() == {}


def test_people_a_member_invited_become_records_even_if_they_declined() -> None:
    event = EventSynced(
        event_id="ev1",
        workspace_id="ws",
        mailbox_id="mb-alice",
        member_id="alice",
        calendar_event_key="meeting-1",
        title="Kick-off",
        starts_at=AT,
        ends_at=AT + timedelta(hours=1),
        organizer="alice@ours.com",
        attendees=(
            CalendarAttendee(address="bob@acme.com", rsvp="accepted"),
            CalendarAttendee(address="no@acme.com", rsvp="declined"),
        ),
    )
    log = Identity().feed(
        MemberAdded(
            event_id="m",
            workspace_id="ws",
            member_id="alice",
            addresses=("alice@ours.com",),
            is_admin=True,
            added_by="alice",
            added_at=AT,
        ),
        event,
    )
    assert set(log.people()) == {"bob@acme.com", "no@acme.com"}
    roles = {r.role for r in log.resolutions()[("mb-alice", "meeting-1")].records}
    assert roles == {"attendee", "declined"}


# --- merging ----------------------------------------------------------------------------


def _bob_with_two_addresses(identity: Identity, mail: Scenario, name="Bob Buyer"):
    identity.feed(
        mail.sent(
            "bob@acme.com",
            "bbuyer@gmail.com",
            names={"bob@acme.com": name, "bbuyer@gmail.com": "Bob Buyer"},
            key="intro",
        ),
    )
    return identity.feed(
        mail.received(
            "bob@acme.com",
            names={"bob@acme.com": name},
            key="sig",
            signature=Scenario.signature(name, "bbuyer@gmail.com"),
        )
    )


def test_signature_naming_another_address_under_the_same_name_merges_the_two() -> None:
    log = _bob_with_two_addresses(Identity(), Scenario())
    [merge] = log.of(PeopleMerged)
    people = log.people()
    assert {merge.survivor_id, merge.merged_id} == {
        people["bob@acme.com"],
        people["bbuyer@gmail.com"],
    }
    assert merge.automatic and merge.evidence.rule == "signature-names-other-address"
    assert "bbuyer@gmail.com" in merge.evidence.description
    # Interactions follow the surviving record.
    assert log.records_of("intro") >= {merge.survivor_id}
    assert merge.merged_id not in log.records_of("intro")


@pytest.mark.parametrize("work_person_survives", [True, False])
def test_a_merged_record_s_interactions_name_the_company_of_whichever_person_had_one(
    work_person_survives: bool,
) -> None:
    work, personal = "bob@acme.com", "bbuyer@gmail.com"
    ws = workspace_where_survivor_is(
        *((work, personal) if work_person_survives else (personal, work))
    )
    mail, identity = Scenario(workspace_id=ws), Identity()
    _bob_with_two_addresses(identity, mail)
    log = identity.feed(
        mail.sent("bbuyer@gmail.com", names={"bbuyer@gmail.com": "Bob Buyer"}, key="personal")
    )
    [merge] = log.of(PeopleMerged)
    assert (merge.survivor_id == log.people()["bob@acme.com"]) == work_person_survives
    acme = log.links()[log.people()["bob@acme.com"]]
    # Mail with either address is mail with Bob and, through him, with Acme.
    for key in ("intro", "sig", "personal"):
        assert log.records_of(key) == {merge.survivor_id, acme}, key
    # Unmerged, the personal address's mail is with a person of no company again.
    log = identity.feed(
        PersonUnmerged(
            event_id="u-personal",
            workspace_id=ws,
            survivor_id=merge.survivor_id,
            restored_id=merge.merged_id,
            unmerged_by="alice",
            unmerged_at=AT,
        )
    )
    assert log.records_of("personal") == {log.people()["bbuyer@gmail.com"]}
    assert log.records_of("sig") == {log.people()["bob@acme.com"], acme}


def test_unmerging_from_a_chain_takes_the_company_away_from_the_top_record() -> None:
    """Bob's work address (at Acme) merged into his first personal address's record, which
    then merged into his second's: three records in a chain, Acme reaching the top one
    through the bottom one. Unmerging the work address takes Acme off every interaction
    of the others, the top record's own included."""
    work, first, second = "bob@acme.com", "bobone@gmail.com", "bobtwo@gmail.com"
    ws = next(
        ws
        for ws in (f"ws-{n}" for n in range(1000))
        if ids.person_id(ws, second) < ids.person_id(ws, first) < ids.person_id(ws, work)
    )
    mail, identity = Scenario(workspace_id=ws), Identity()
    names = dict.fromkeys((work, first, second), "Bob Buyer")
    identity.feed(mail.sent(work, first, second, names=names, key="intro"))
    identity.feed(
        mail.received(
            work, names=names, key="sig-1", signature=Scenario.signature("Bob Buyer", first)
        )
    )
    log = identity.feed(
        mail.received(
            first, names=names, key="sig-2", signature=Scenario.signature("Bob Buyer", second)
        )
    )
    people = log.people()
    assert [(m.merged_id, m.survivor_id) for m in log.of(PeopleMerged)] == [
        (people[work], people[first]),
        (people[first], people[second]),
    ]
    acme = log.links()[people[work]]
    log = identity.feed(mail.sent(second, names=names, key="to-second"))
    assert log.records_of("to-second") == {people[second], acme}

    log = identity.feed(
        PersonUnmerged(
            event_id="u-work",
            workspace_id=ws,
            survivor_id=people[first],
            restored_id=people[work],
            unmerged_by="alice",
            unmerged_at=AT,
        )
    )
    assert log.records_of("to-second") == {people[second]}
    assert log.records_of("sig-1") == {people[work], acme}


def test_a_signature_naming_another_address_under_another_name_does_not_merge() -> None:
    log = _bob_with_two_addresses(Identity(), Scenario(), name="Robert Smith")
    assert log.of(PeopleMerged) == []


def test_single_word_names_are_never_enough_to_merge() -> None:
    log = _bob_with_two_addresses(Identity(), Scenario(), name="Bob")
    assert log.of(PeopleMerged) == []


def test_a_claim_waits_until_the_other_address_is_a_record() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(mail.sent("bob@acme.com", names={"bob@acme.com": "Bob Buyer"}))
    identity.feed(
        mail.received(
            "bob@acme.com",
            names={"bob@acme.com": "Bob Buyer"},
            signature=Scenario.signature("Bob Buyer", "bb@gmail.com"),
        )
    )
    assert identity.log.of(PeopleMerged) == []
    log = identity.feed(mail.sent("bb@gmail.com", names={"bb@gmail.com": "Bob Buyer"}))
    assert len(log.of(PeopleMerged)) == 1


def test_unmerge_splits_the_records_and_they_are_not_merged_again() -> None:
    mail, identity = Scenario(), Identity()
    log = _bob_with_two_addresses(identity, mail)
    both_people = {e.person_id for e in log.of(PersonCreated)}
    [merge] = log.of(PeopleMerged)
    identity.feed(
        PersonUnmerged(
            event_id="u1",
            workspace_id="ws",
            survivor_id=merge.survivor_id,
            restored_id=merge.merged_id,
            unmerged_by="alice",
            unmerged_at=AT,
        )
    )
    assert merge.merged_id in log.records_of("intro")
    assert log.records_of("intro") >= both_people
    # The same evidence again does not merge them again.
    log = identity.feed(
        mail.received(
            "bob@acme.com",
            names={"bob@acme.com": "Bob Buyer"},
            signature=Scenario.signature("Bob Buyer", "bbuyer@gmail.com"),
        )
    )
    assert len(log.of(PeopleMerged)) == 1


# --- enrichment -------------------------------------------------------------------------


def _enriched(log, field):
    return [e for e in log.of(RecordEnriched) if e.field == field]


def test_signature_details_enrich_the_person_and_say_where_they_came_from() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(mail.sent("bob@acme.com"))
    log = identity.feed(
        mail.received(
            "bob@acme.com",
            key="sig",
            signature=Scenario.signature(
                "Bob Buyer",
                job_title="Head of Procurement",
                phone_numbers=("+442079460958",),
                linkedin_url="https://www.linkedin.com/in/bobbuyer",
                company_name="Acme Ltd",
            ),
        )
    )
    [title] = _enriched(log, "job_title")
    assert title.value == "Head of Procurement"
    assert title.source.kind == "signature" and title.source.message_key == "sig"
    assert _enriched(log, "phone_numbers")[0].value == ("+442079460958",)
    company_names = [e for e in _enriched(log, "name") if e.record_kind == "company"]
    assert company_names[-1].value == "Acme Ltd"


def test_a_value_a_user_set_is_not_overwritten_by_later_evidence() -> None:
    mail, identity = Scenario(), Identity()
    log = identity.feed(mail.sent("bob@acme.com", names={"bob@acme.com": "Bob B"}))
    bob = log.people()["bob@acme.com"]
    identity.feed(
        RecordEnriched(
            event_id="user-1",
            workspace_id="ws",
            record_id=bob,
            record_kind="person",
            field="name",
            value="Robert Buyer",
            source={"kind": "user", "member_id": "alice", "observed_at": AT},
        )
    )
    identity.feed(
        mail.received(
            "bob@acme.com",
            names={"bob@acme.com": "Bob Buyer Jr"},
            signature=Scenario.signature("Bob Buyer Jr"),
        )
    )
    person = identity.store.workspace("ws").people[bob]
    assert person.fields["name"].values == ("Robert Buyer",)
    assert person.fields["name"].source == "user"


def test_a_short_display_name_does_not_replace_a_fuller_one() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(mail.sent("bob@acme.com", names={"bob@acme.com": "Bob Buyer"}))
    identity.feed(mail.received("bob@acme.com", names={"bob@acme.com": "Bob"}))
    bob = identity.log.people()["bob@acme.com"]
    assert identity.store.workspace("ws").people[bob].fields["name"].values == ("Bob Buyer",)


# --- properties -------------------------------------------------------------------------

ADDRESSES = [
    "bob@acme.com",
    "BOB@ACME.COM",
    "dave@ours.com",
    "x@sub.ours.com",
    "alice@ours.com",
    "carol@gmail.com",
    "c.arol+crm@googlemail.com",
    "noreply@acme.com",
    "zed@beta.co.uk",
    "bb@gmail.com",
]
NAMES = {"bob@acme.com": "Bob Buyer", "bb@gmail.com": "Bob Buyer", "zed@beta.co.uk": "Zed Z"}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("sent"), st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=3)),
        st.tuples(st.just("received"), st.sampled_from(ADDRESSES)),
        st.tuples(st.just("signed"), st.just("bob@acme.com")),
        st.tuples(st.just("enhanced"), st.booleans()),
    ),
    min_size=1,
    max_size=10,
)


def _events(plan):
    mail, events = Scenario(), []
    for index, (kind, arg) in enumerate(plan):
        if kind == "sent":
            events.append(mail.sent(*arg, names=NAMES, key=f"k{index}"))
        elif kind == "received":
            events.append(mail.received(arg, names=NAMES, key=f"k{index}"))
        elif kind == "signed":
            events.append(
                mail.received(
                    arg,
                    names=NAMES,
                    key=f"k{index}",
                    signature=Scenario.signature("Bob Buyer", "bb@gmail.com"),
                )
            )
        else:
            events.append(
                EnhancedRecordCreationChanged(
                    event_id=f"e{index}",
                    workspace_id="ws",
                    enabled=arg,
                    changed_by="alice",
                    changed_at=AT,
                )
            )
    return events


def _fed_one_by_one(events) -> PublishedLog:
    identity = Identity()
    for event in events:
        identity.feed(event)
    return identity.log


@settings(max_examples=150, deadline=None)
@given(plan=steps)
def test_no_member_or_own_domain_record_ever(plan) -> None:
    log = _fed_one_by_one(_events(plan))
    assert not [a for a in log.people() if a.endswith("ours.com")]
    assert "noreply@acme.com" not in log.people()


@settings(max_examples=150, deadline=None)
@given(plan=steps)
def test_replaying_the_same_input_gives_identical_events(plan) -> None:
    events = _events(plan)
    assert _fed_one_by_one(events).events == _fed_one_by_one(events).events
    # One big batch or one event at a time: the very same events.
    assert Identity().feed(*events).events == _fed_one_by_one(events).events


def _record_sets(log):
    return {key: {r.record_id for r in e.records} for key, e in log.resolutions().items()}


messages_only = st.lists(
    st.one_of(
        st.tuples(st.just("sent"), st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=3)),
        st.tuples(st.just("received"), st.sampled_from(ADDRESSES)),
        st.tuples(st.just("signed"), st.just("bob@acme.com")),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=150, deadline=None)
@given(plan=messages_only, seed=st.randoms(use_true_random=False))
def test_records_merges_and_resolutions_do_not_depend_on_message_order(plan, seed) -> None:
    events = _events(plan)
    shuffled = list(events)
    seed.shuffle(shuffled)
    ordered, reordered = _fed_one_by_one(events), _fed_one_by_one(shuffled)
    assert ordered.people() == reordered.people()
    assert ordered.merged_away() == reordered.merged_away()
    assert _record_sets(ordered) == _record_sets(reordered)


def test_a_message_delivered_again_after_its_sender_became_a_record_adds_nothing() -> None:
    # A cold email with a signature, then the member writes back: a record is made.
    mail = Scenario()
    cold = mail.received(
        "bob@acme.com", key="cold", signature=Scenario.signature("Bob Buyer", job_title="CFO")
    )
    reply = mail.sent("bob@acme.com", key="reply")
    once = _fed_one_by_one([cold, reply])
    # The same cold email again (a redelivery after a crash, an import run again).
    twice = _fed_one_by_one([cold, reply, cold])
    assert _enriched(once, "job_title") == _enriched(twice, "job_title") == []
    assert [e.event_id for e in twice.events] == [e.event_id for e in once.events]


@settings(max_examples=100, deadline=None)
@given(plan=messages_only, seed=st.randoms(use_true_random=False))
def test_inputs_delivered_again_publish_nothing_new(plan, seed) -> None:
    events = _events(plan)
    redelivered = list(events)
    seed.shuffle(redelivered)
    once = _fed_one_by_one(events)
    again = _fed_one_by_one(events + redelivered[: seed.randint(1, len(redelivered))])
    assert [e.event_id for e in again.events] == [e.event_id for e in once.events]


@settings(max_examples=100, deadline=None)
@given(plan=messages_only)
def test_merge_then_unmerge_gives_back_the_records_of_each_interaction(plan) -> None:
    events = [e for e in _events(plan) if e.sender_signature is None]
    mail = Scenario()
    setup = [mail.sent("bob@acme.com", "bb@gmail.com", names=NAMES, key="setup")]
    identity = Identity()
    identity.feed(*setup, *events)
    before = _record_sets(identity.log)
    identity.feed(
        mail.received(
            "bob@acme.com",
            names=NAMES,
            key="signed",
            signature=Scenario.signature("Bob Buyer", "bb@gmail.com"),
        )
    )
    [merge] = identity.log.of(PeopleMerged)
    identity.feed(
        PersonUnmerged(
            event_id="undo",
            workspace_id="ws",
            survivor_id=merge.survivor_id,
            restored_id=merge.merged_id,
            unmerged_by="alice",
            unmerged_at=AT,
        )
    )
    after = _record_sets(identity.log)
    after.pop(("mb-alice", "signed"))
    assert after == before


@pytest.mark.parametrize("workspace", ["ws-a", "ws-b"])
def test_workspaces_never_share_records(workspace) -> None:
    identity = Identity()
    identity.feed(
        Scenario(workspace_id="ws-a").sent("bob@acme.com"),
        Scenario(workspace_id="ws-b").sent("bob@acme.com"),
    )
    ids = {e.workspace_id: e.person_id for e in identity.log.of(PersonCreated)}
    assert ids["ws-a"] != ids["ws-b"]
    assert identity.store.workspace(workspace).people.keys() == {ids[workspace]}


def test_a_company_keeps_the_website_domain_its_people_give_and_links_people_there() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(mail.sent("bob@acme-mail.com"))
    log = identity.feed(
        mail.received(
            "bob@acme-mail.com",
            signature=Scenario.signature("Bob Buyer", website_domain="www.acme.com"),
        )
    )
    [company] = log.of(CompanyCreated)
    domains = [e for e in log.of(RecordEnriched) if e.field == "domains"]
    assert domains[-1].value == ("acme-mail.com", "acme.com")
    # Someone on the other domain joins the same company instead of a new one.
    log = identity.feed(mail.sent("ann@acme.com"))
    assert len(log.of(CompanyCreated)) == 1
    assert log.links()[log.people()["ann@acme.com"]] == company.company_id


def test_free_mail_and_own_domains_never_join_a_company() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(mail.sent("bob@acme.com"))
    log = identity.feed(
        mail.received(
            "bob@acme.com", signature=Scenario.signature("Bob B", website_domain="gmail.com")
        ),
        mail.received(
            "bob@acme.com", signature=Scenario.signature("Bob B", website_domain="ours.com")
        ),
    )
    assert [e for e in log.of(RecordEnriched) if e.field == "domains"] == []


def test_a_retracted_message_no_longer_counts_for_anyone_but_the_record_stays() -> None:
    mail, identity = Scenario(), Identity()
    identity.feed(mail.sent("bob@acme.com", key="hello"), mail.sent("bob@acme.com", key="again"))
    bob = identity.log.people()["bob@acme.com"]
    log = identity.feed(
        MessageRetracted(
            event_id="r1",
            workspace_id="ws",
            mailbox_id="mb-alice",
            member_id="alice",
            message_key="hello",
            reason="blocklisted",
            retracted_at=AT,
        )
    )
    assert log.records_of("hello") == set()
    assert bob in log.records_of("again") and log.people()["bob@acme.com"] == bob
    # Synced again (the blocklist entry removed): it counts again.
    log = identity.feed(mail.sent("bob@acme.com", key="hello"))
    assert bob in log.records_of("hello")


def test_a_cancelled_meeting_no_longer_counts() -> None:
    identity = Identity()
    starts = AT + timedelta(days=1)
    identity.feed(
        EventSynced(
            event_id="ev",
            workspace_id="ws",
            mailbox_id="mb-alice",
            member_id="alice",
            mailbox_owner_addresses=("alice@ours.com",),
            calendar_event_key="sync-1",
            title="Sync",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            organizer="alice@ours.com",
            attendees=(CalendarAttendee(address="bob@acme.com", rsvp="accepted"),),
        )
    )
    assert identity.log.records_of("sync-1")
    log = identity.feed(
        EventCancelled(
            event_id="cx",
            workspace_id="ws",
            mailbox_id="mb-alice",
            member_id="alice",
            calendar_event_key="sync-1",
            cancelled_at=AT,
        )
    )
    assert log.records_of("sync-1") == set()
