"""The property: over random histories of two workspaces (mailboxes, shared messages,
sharing levels, mailbox grants, record shares, requests and decisions, blocklist
retractions, removals), every view of every member matches the reference model, and no
subject or content is ever shown above the viewer's level."""

from __future__ import annotations

from histories import (
    EVERY_KIND,
    MESSAGES,
    RECORDS,
    VIEWERS,
    Reference,
    check_views,
    events_of,
    fold,
    histories,
    record_id,
)
from hypothesis import HealthCheck, example, given, settings


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories)
@example(history=EVERY_KIND)
def test_no_view_ever_shows_more_than_the_rules_allow(history) -> None:
    check_views(fold(events_of(history)), Reference.of(history))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories)
@example(history=EVERY_KIND)
def test_answers_remembered_between_changes_never_go_stale(history) -> None:
    # A state queried after every event (so it remembers answers) answers exactly like
    # one folded afresh from the same events.
    events = events_of(history)
    live = fold([])
    for done in range(1, len(events) + 1):
        fresh = fold(events[:done])
        for ws, state in live.items():
            state.apply_all(events[done - 1 : done])
            for viewer in VIEWERS:
                assert state.levels(viewer, MESSAGES) == fresh[ws].levels(viewer, MESSAGES)
                for message in MESSAGES:
                    assert state.email(viewer, message) == fresh[ws].email(viewer, message)
                for record in RECORDS:
                    rid = record_id(ws, record)
                    assert state.record_emails(viewer, rid, None, 10) == fresh[ws].record_emails(
                        viewer, rid, None, 10
                    )
    check_views(live, Reference.of(history))
