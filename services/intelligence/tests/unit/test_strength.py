from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from commsintel.intelligence.domain.attributes import Interaction, pair_score, summarize
from commsintel.intelligence.domain.strength import StrengthLevel, StrengthModel, level_of, rank_key

NOW = datetime(2026, 11, 1, tzinfo=UTC)
MODEL = StrengthModel()


def _emails(member: str, days_ago: list[float], direction: str = "sent") -> list[Interaction]:
    return [
        Interaction(
            "rec", member, f"{member}-{direction}-{i}", NOW - timedelta(days=d), direction, 2
        )
        for i, d in enumerate(days_ago)
    ]


def _meeting(member: str, days_ago: float, role: str = "attendee", key: str = "meet"):
    return Interaction(
        "rec", member, key, NOW - timedelta(days=days_ago), "sent", 3, kind="calendar", role=role
    )


def test_a_two_way_exchange_outweighs_the_same_mail_one_way() -> None:
    one_way = summarize("rec", _emails("a", [10, 12, 14, 16]), NOW, MODEL)
    exchange = _emails("a", [10, 14]) + _emails("a", [12, 16], direction="received")
    two_way = summarize("rec", exchange, NOW, MODEL)
    assert two_way.strength > one_way.strength
    reasons = {c.reason for c in two_way.contributions}
    assert {"email sent (two-way)", "email received (two-way)"} <= reasons


def test_an_attended_meeting_counts_more_than_an_email_and_a_declined_one_nothing() -> None:
    email = summarize("rec", _emails("a", [5]), NOW, MODEL)
    meeting = summarize("rec", [_meeting("a", 5)], NOW, MODEL)
    declined = summarize("rec", [_meeting("a", 5, role="declined")], NOW, MODEL)
    assert meeting.strength > email.strength > declined.strength == 0.0
    assert declined.last_calendar is None


def test_next_meeting_becomes_the_last_one_once_its_time_has_passed() -> None:
    meeting = _meeting("a", -2, key="kickoff")  # in two days
    before = summarize("rec", [meeting], NOW, MODEL)
    assert before.next_calendar.interaction_key == "kickoff" and before.last_calendar is None
    after = summarize("rec", [meeting], NOW + timedelta(days=3), MODEL)
    assert after.next_calendar is None and after.last_calendar.interaction_key == "kickoff"
    assert after.last_interaction.interaction_key == "kickoff"


def test_first_and_last_interaction_span_email_and_calendar() -> None:
    summary = summarize("rec", [*_emails("a", [40, 3]), _meeting("b", 60)], NOW, MODEL)
    assert summary.first_interaction.member_id == "b"
    assert summary.first_email.at == NOW - timedelta(days=40)
    assert summary.last_interaction.at == NOW - timedelta(days=3)
    assert (summary.email_count, summary.meeting_count) == (2, 1)


def _exchange(start_days_ago: float) -> list[Interaction]:
    """Ten two-way emails over a month: five sent, each answered."""
    sent = [start_days_ago + 6 * i for i in range(5)]
    return _emails("a", sent) + _emails("a", [d - 1 for d in sent], direction="received")


def test_ten_two_way_emails_last_month_outweigh_ten_a_year_ago() -> None:
    recent = summarize("rec", _exchange(2), NOW, MODEL)
    old = summarize("rec", _exchange(365), NOW, MODEL)
    assert all("two-way" in c.reason for c in recent.contributions + old.contributions)
    assert recent.strength > old.strength > 0


def test_strongest_member_is_the_one_with_the_most_recent_and_frequent_mail() -> None:
    interactions = _emails("alice", [1, 5, 9]) + _emails("bob", [200, 210, 220, 230])
    summary = summarize("rec", interactions, NOW, MODEL)
    assert summary.strongest_member_id == "alice"
    assert [m.member_id for m in summary.member_strengths] == ["alice", "bob"]


def test_mass_mail_counts_little() -> None:
    personal = summarize("rec", _emails("a", [1]), NOW, MODEL)
    blast = Interaction("rec", "a", "blast", NOW - timedelta(days=1), "sent", 40)
    assert summarize("rec", [blast], NOW, MODEL).strength < personal.strength / 2


def test_first_and_last_email_say_when_and_which_member() -> None:
    summary = summarize("rec", _emails("alice", [30, 2]) + _emails("bob", [90]), NOW, MODEL)
    assert summary.first_email.member_id == "bob"
    assert summary.first_email.at == NOW - timedelta(days=90)
    assert summary.last_email.member_id == "alice"
    assert summary.email_count == 3


def test_as_of_a_past_moment_ignores_later_mail() -> None:
    interactions = _emails("a", [100, 10])
    then = summarize("rec", interactions, NOW - timedelta(days=50), MODEL)
    assert then.email_count == 1
    assert then.last_email.at == NOW - timedelta(days=100)


def test_levels_rise_with_strength() -> None:
    assert level_of(0.0) is StrengthLevel.VERY_WEAK
    assert level_of(100.0) is StrengthLevel.VERY_STRONG
    levels = [level_of(x / 4) for x in range(0, 80)]
    assert levels == sorted(levels)


ages = st.lists(st.floats(min_value=0, max_value=1500), min_size=1, max_size=30)
directions = st.sampled_from(["sent", "received"])


@settings(max_examples=200, deadline=None)
@given(days=ages, later=st.floats(min_value=0.001, max_value=2000))
def test_with_no_new_interaction_strength_only_falls(days, later) -> None:
    interactions = _emails("a", days)
    now = summarize("rec", interactions, NOW, MODEL).strength
    after = summarize("rec", interactions, NOW + timedelta(days=later), MODEL).strength
    assert after <= now


@settings(max_examples=200, deadline=None)
@given(days=ages, extra=st.floats(min_value=0, max_value=1500), direction=directions)
def test_an_added_interaction_never_lowers_strength_at_that_instant(days, extra, direction):
    interactions = _emails("a", days)
    before = summarize("rec", interactions, NOW, MODEL).strength
    added = Interaction("rec", "a", "new", NOW - timedelta(days=extra), direction, 2)
    assert summarize("rec", [*interactions, added], NOW, MODEL).strength >= before


@settings(max_examples=200, deadline=None)
@given(days=ages, seed=st.randoms(use_true_random=False))
def test_interactions_in_any_order_give_the_same_result(days, seed) -> None:
    interactions = _emails("a", days) + _emails("b", days[::2])
    shuffled = list(interactions)
    seed.shuffle(shuffled)
    assert summarize("rec", shuffled, NOW, MODEL) == summarize("rec", interactions, NOW, MODEL)

    # The stored ranking score agrees with the fold, decayed to the same moment.
    mine = [i for i in shuffled if i.member_id == "a"]
    expected = summarize("rec", mine, NOW, MODEL).strength
    score = pair_score(mine, MODEL).at(NOW, MODEL)
    assert abs(score - expected) <= 1e-9 * max(1.0, expected)


@settings(max_examples=200, deadline=None)
@given(a=ages, b=ages)
def test_rank_key_orders_scores_as_their_strength_now(a, b) -> None:
    def score(days):
        return pair_score(_emails("m", days), MODEL)

    sa, sb = score(a), score(b)
    strength_a, strength_b = sa.at(NOW, MODEL), sb.at(NOW, MODEL)
    if abs(strength_a - strength_b) > 1e-9 * max(strength_a, strength_b, 1e-300):
        assert (rank_key(sa, MODEL) > rank_key(sb, MODEL)) == (strength_a > strength_b)


@settings(max_examples=200, deadline=None)
@given(sent=ages, received=ages, seed=st.randoms(use_true_random=False))
def test_the_stored_score_is_the_explained_strength_at_its_anchor_to_the_bit(
    sent, received, seed
) -> None:
    interactions = _emails("a", sent) + _emails("a", received, direction="received")
    seed.shuffle(interactions)
    score = pair_score(interactions, MODEL)
    explained = summarize("rec", interactions, score.anchor, MODEL)
    assert score.value == explained.strength
    assert score.anchor == max(i.at for i in interactions)
