"""The blocklist rules: what an entry covers, and which messages a mailbox publishes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commsintel.ingest.domain.blocklist import (
    BlocklistEntry,
    IncomingMessage,
    InvalidBlocklistEntry,
    admit,
    blocking_entries,
    parse_entries,
    parse_entry,
    terms_of,
    visibility_change,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Rival.COM", "rival.com"),
        ("@rival.com", "rival.com"),
        ("  CEO@Rival.com ", "ceo@rival.com"),
        ("xn--strae-oqa.de", "straße.de"),
        ("bob@xn--strae-oqa.de", "bob@straße.de"),
    ],
)
def test_entries_are_normalized_like_parsed_addresses(text, value):
    assert parse_entry(text).value == value


@pytest.mark.parametrize("text", ["", "rival", "@", "a@", "@@rival.com", "two words.com", "a..b"])
def test_what_is_not_an_address_or_domain_is_refused_with_the_entry_named(text):
    with pytest.raises(InvalidBlocklistEntry) as refused:
        parse_entry(text)
    assert repr(text) in str(refused.value)


def test_a_domain_covers_its_subdomains_but_not_lookalikes():
    entry = parse_entries(["rival.com"])
    assert blocking_entries(entry, terms_of({"ceo@mail.rival.com"}))
    assert blocking_entries(entry, terms_of({"ceo@rival.com"}))
    assert not blocking_entries(entry, terms_of({"ceo@notrival.com"}))
    assert not blocking_entries(entry, terms_of({"ceo@rival.com.evil.net"}))


def test_an_address_entry_covers_only_that_address():
    entry = parse_entries(["ceo@rival.com"])
    assert blocking_entries(entry, terms_of({"ceo@rival.com"}))
    assert not blocking_entries(entry, terms_of({"cfo@rival.com"}))


def message(key: str, thread: str, *addresses: str) -> IncomingMessage:
    return IncomingMessage(key, thread, frozenset(addresses))


def test_a_blocklisted_participant_hides_the_whole_thread_in_the_batch():
    entries = parse_entries(["rival.com"])
    admission = admit(
        entries,
        {},
        [
            message("m1", "t1", "priya@brightpath.com"),
            message("m2", "t1", "ceo@rival.com"),
            message("m3", "t2", "sam@other.org"),
        ],
    )
    assert admission.published == ["m3"]
    assert set(admission.hidden) == {"m1", "m2"}
    assert admission.newly_hidden_threads == {}  # nothing of t1 was stored before


def test_a_thread_published_before_is_to_be_retracted_when_a_blocked_reply_arrives():
    entries = parse_entries(["rival.com"])
    stored = {"t1": terms_of({"priya@brightpath.com"})}
    admission = admit(entries, stored, [message("m9", "t1", "ceo@rival.com")])
    assert admission.published == []
    assert admission.newly_hidden_threads == {"t1": "blocklisted: rival.com"}


def test_a_thread_already_hidden_stays_hidden_without_retracting_again():
    entries = parse_entries(["rival.com"])
    stored = {"t1": terms_of({"ceo@rival.com"})}
    admission = admit(entries, stored, [message("m9", "t1", "priya@brightpath.com")])
    assert admission.hidden == {"m9": "blocklisted: rival.com"}
    assert admission.newly_hidden_threads == {}


addresses = st.sampled_from(
    ["a@x.com", "b@x.com", "c@mail.y.org", "d@y.org", "e@z.net", "f@sub.z.net"]
)
entry_texts = st.sampled_from(["x.com", "y.org", "mail.y.org", "e@z.net", "z.net", "b@x.com"])
batches = st.lists(
    st.tuples(st.sampled_from(["t1", "t2", "t3"]), st.frozensets(addresses, min_size=1)),
    max_size=12,
)


@given(st.lists(entry_texts, max_size=3), batches)
def test_published_means_no_participant_of_its_thread_is_blocklisted(texts, batch):
    entries = parse_entries(texts)
    incoming = [message(f"m{i}", thread, *addrs) for i, (thread, addrs) in enumerate(batch)]
    admission = admit(entries, {}, incoming)
    thread_terms = admission.thread_terms
    for item in incoming:
        blocked = bool(blocking_entries(entries, thread_terms[item.thread_key]))
        assert (item.message_key in admission.published) == (not blocked)
        assert (item.message_key in admission.hidden) == blocked
    # Every message is decided exactly once.
    assert len(admission.published) + len(admission.hidden) == len(incoming)


@given(
    st.lists(entry_texts, max_size=3), st.lists(entry_texts, max_size=3), st.frozensets(addresses)
)
def test_a_blocklist_change_hides_or_shows_exactly_what_it_should(before, after, thread):
    old, new = parse_entries(before), parse_entries(after)
    terms = terms_of(thread)
    change = visibility_change(old, new, terms)
    was, now = bool(blocking_entries(old, terms)), bool(blocking_entries(new, terms))
    assert change == ("hide" if now and not was else "show" if was and not now else None)


def test_entries_are_sorted_and_unique():
    assert parse_entries(["b.com", "A.com", "@b.com"]) == (
        BlocklistEntry("a.com"),
        BlocklistEntry("b.com"),
    )
