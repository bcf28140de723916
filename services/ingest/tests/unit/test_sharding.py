"""Which ingest instance syncs which mailbox, and what each does when the group's
assignment changes (domain/sharding.py), plus the jittered retry delay."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from commsintel.ingest.domain.mailboxes import jittered, retry_delay
from commsintel.ingest.domain.sharding import hand_over, owned

PARTITIONS = 12
_kafka = DefaultPartitioner()


def partition_of(mailbox_id: str) -> int:
    """As the producer places the mailbox's SyncRequested records."""
    everything = list(range(PARTITIONS))
    return _kafka(mailbox_id.encode(), everything, everything)


mailbox_ids = st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=60, unique=True)
# An assignment: which instance (0..k-1) each partition goes to, as a group would give.
assignments = st.lists(st.integers(0, 3), min_size=PARTITIONS, max_size=PARTITIONS)


def partitions_of(assignment: list[int], instance: int) -> frozenset[int]:
    return frozenset(p for p, owner in enumerate(assignment) if owner == instance)


@given(mailbox_ids, assignments)
def test_every_mailbox_is_synced_by_exactly_one_instance(mailboxes, assignment):
    shares = [owned(mailboxes, partitions_of(assignment, i), partition_of) for i in range(4)]
    for mailbox in mailboxes:
        assert sum(mailbox in share for share in shares) == 1


def test_a_mailbox_belongs_to_the_partition_its_requests_land_on():
    # The rule must agree with Kafka's producer, or requests would reach another instance.
    for mailbox in ("mb-1", "ws1:member:imap://a@b:993", "ünïcode"):
        expected = _kafka(mailbox.encode(), list(range(PARTITIONS)), list(range(PARTITIONS)))
        assert owned([mailbox], frozenset({expected}), partition_of) == {mailbox}
        others = frozenset(range(PARTITIONS)) - {expected}
        assert owned([mailbox], others, partition_of) == frozenset()


@given(mailbox_ids, st.lists(assignments, min_size=2, max_size=6))
def test_rebalances_hand_every_mailbox_over_without_a_moment_of_two_owners(mailboxes, rebalances):
    """Each rebalance: every instance stops what it loses (revoked), then starts what it
    gains. At no point after a step do two instances run one mailbox, and in the end each
    mailbox runs exactly where its partition went."""
    running: list[set[str]] = [set() for _ in range(4)]
    for assignment in rebalances:
        for i in range(4):  # revoked before anyone is assigned anything (eager protocol)
            lost = frozenset(range(PARTITIONS)) - partitions_of(assignment, i)
            running[i] -= owned(running[i], lost, partition_of)
        for i in range(4):
            change = hand_over(running[i], mailboxes, partitions_of(assignment, i), partition_of)
            assert not change.stop  # already stopped when revoked
            running[i] = (running[i] - change.stop) | change.start
            for mailbox in running[i]:
                assert sum(mailbox in other for other in running) == 1
        for mailbox in mailboxes:
            owner = assignment[partition_of(mailbox)]
            assert mailbox in running[owner]


def test_an_assignment_that_shrinks_stops_what_it_no_longer_covers():
    mailboxes = [f"mb-{n}" for n in range(40)]
    everything = frozenset(range(PARTITIONS))
    running = owned(mailboxes, everything, partition_of)
    kept = frozenset(range(PARTITIONS // 2))
    change = hand_over(running, mailboxes, kept, partition_of)
    assert change.start == frozenset()
    assert change.stop == frozenset(m for m in mailboxes if partition_of(m) not in kept)
    assert change.stop  # 40 mailboxes over 12 partitions: some are on the other half


@given(st.integers(1, 40), st.floats(0, 1, exclude_max=True))
def test_retries_after_an_outage_spread_over_half_the_backoff(failures, draw):
    delay = retry_delay(failures, base=2.0, ceiling=300.0)
    spread = jittered(delay, draw)
    assert delay / 2 <= spread <= delay


def test_mailboxes_that_failed_together_do_not_retry_together():
    delays = {round(jittered(60.0, n / 100), 3) for n in range(100)}
    assert len(delays) == 100
    assert min(delays) == 30.0 and max(delays) < 60.0


@given(st.floats(1, 3600), st.floats(0, 1, exclude_max=True))
def test_polls_and_idle_renewals_spread_within_their_bounds(seconds, draw):
    # a poll never waits longer than its interval; an IDLE slice is spread around its own
    assert 0.75 * seconds <= jittered(seconds, draw, low=0.75) <= seconds
    assert 0.75 * seconds <= jittered(seconds, draw, low=0.75, high=1.25) <= 1.25 * seconds


class _Store:
    """The supervisor's store, as far as a late request after stop() reaches it."""

    def __init__(self) -> None:
        self.claims: list[str] = []

    async def imap_mailboxes(self):
        return [_Record("mb-1")]

    async def mailbox_by_id(self, mailbox_id: str):
        return _Record(mailbox_id)

    async def claim_sync(self, mailbox_id: str, instance_id: str, now) -> int:
        self.claims.append(mailbox_id)
        return 1


class _Record:
    source = "imap"
    removal_requested = False
    calendar = None

    def __init__(self, mailbox_id: str) -> None:
        from commsintel.ingest.domain.sightings import Mailbox

        self.mailbox = Mailbox("ws", mailbox_id, "m1", frozenset({"m1@ours.example"}))


async def test_a_stopped_instance_starts_nothing_on_a_late_request_or_assignment():
    from datetime import UTC, datetime

    from commsintel.contracts.events import SyncRequested
    from commsintel.ingest.service_layer.sync import SyncSupervisor, SyncTimings

    store = _Store()
    supervisor = SyncSupervisor(
        store=store,  # type: ignore[arg-type]
        intake=None,  # type: ignore[arg-type]
        publisher=None,  # type: ignore[arg-type]
        timings=SyncTimings(),
        calendars=None,  # type: ignore[arg-type]
    )
    await supervisor.stop()
    # the consumer is still delivering what it fetched while the service stops
    await supervisor.handle(
        [
            SyncRequested(
                event_id="e1",
                workspace_id="ws",
                mailbox_id="mb-2",
                reason="connected",
                requested_at=datetime.now(UTC),
            )
        ]
    )
    await supervisor.assigned(frozenset({0}))
    assert supervisor.syncing == frozenset()
    assert store.claims == []
