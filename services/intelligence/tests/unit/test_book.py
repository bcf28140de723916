"""The interaction book: a sighting's latest resolution wins, a removed mailbox leaves
the book as if it never synced, and the order of distinct sightings does not matter."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from commsintel.intelligence.domain.attributes import Interaction
from commsintel.intelligence.domain.book import InteractionBook, sighting_ref, to_millisecond

START = datetime(2025, 12, 30, tzinfo=UTC)
MAILBOXES = {"mb-a": "alice", "mb-a2": "alice", "mb-b": "ben"}


@st.composite
def sightings(draw):
    """(mailbox, key, records, hours): one resolution of one sighting."""
    mailbox = draw(st.sampled_from(sorted(MAILBOXES)))
    key = f"m{draw(st.integers(0, 12))}"
    records = draw(st.frozensets(st.sampled_from(["bob", "acme", "carol"]), max_size=3))
    return mailbox, key, tuple(sorted(records)), draw(st.integers(0, 24 * 10))


def _interactions(mailbox: str, key: str, records, hours: int) -> list[Interaction]:
    at = START + timedelta(hours=hours)
    return [
        Interaction(record, MAILBOXES[mailbox], key, at, "sent", 2, "email", "to", mailbox)
        for record in records
    ]


def _apply(book: InteractionBook, resolutions) -> InteractionBook:
    for mailbox, key, records, hours in resolutions:
        book.resolve(sighting_ref(mailbox, key), _interactions(mailbox, key, records, hours))
    return book


def _contents(book: InteractionBook) -> dict:
    pairs = {(r, m) for r in ("bob", "acme", "carol") for m in ("alice", "ben")}
    return {
        pair: book.interactions_of(pair) for pair in sorted(pairs) if book.interactions_of(pair)
    }


def _latest(resolutions) -> list:
    latest = {}
    for resolution in resolutions:
        latest[(resolution[0], resolution[1])] = resolution
    return list(latest.values())


@given(st.lists(sightings(), max_size=25))
def test_only_the_latest_resolution_of_each_sighting_counts(resolutions) -> None:
    assert _contents(_apply(InteractionBook(), resolutions)) == _contents(
        _apply(InteractionBook(), _latest(resolutions))
    )


@given(st.lists(sightings(), max_size=25), st.randoms(use_true_random=False))
def test_distinct_sightings_in_any_order_give_the_same_book(resolutions, rng) -> None:
    distinct = _latest(resolutions)
    shuffled = list(distinct)
    rng.shuffle(shuffled)
    assert _contents(_apply(InteractionBook(), distinct)) == _contents(
        _apply(InteractionBook(), shuffled)
    )


@given(st.lists(sightings(), max_size=25), st.sampled_from(sorted(MAILBOXES)))
def test_a_removed_mailbox_leaves_the_book_as_if_it_never_synced(resolutions, removed) -> None:
    book = _apply(InteractionBook(), resolutions)
    book.remove_mailbox(removed)
    never = _apply(InteractionBook(), [r for r in resolutions if r[0] != removed])
    assert _contents(book) == _contents(never)
    assert book.size == sum(len(found) for found in _contents(never).values())


def test_changed_pairs_are_those_that_gained_or_lost_an_interaction() -> None:
    book = InteractionBook()
    book.load(_interactions("mb-a", "m1", ("bob", "acme"), 1))
    assert book.changed == set()
    book.resolve(sighting_ref("mb-a", "m1"), _interactions("mb-a", "m1", ("carol",), 1))
    assert book.changed == {("bob", "alice"), ("acme", "alice"), ("carol", "alice")}


def test_buckets_split_a_pair_by_calendar_year_in_time_order() -> None:
    book = _apply(
        InteractionBook(), [("mb-a", "late", ("bob",), 60), ("mb-a", "early", ("bob",), 1)]
    )
    buckets = book.buckets_of(("bob", "alice"))
    assert sorted(buckets) == [("bob", "alice", 2025), ("bob", "alice", 2026)]
    assert [i.interaction_key for i in buckets[("bob", "alice", 2025)]] == ["early"]


def test_times_are_kept_to_the_millisecond_the_store_can_hold() -> None:
    assert to_millisecond(START.replace(microsecond=123_456)).microsecond == 123_000
