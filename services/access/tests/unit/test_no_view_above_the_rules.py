"""The property: over random histories of two workspaces (mailboxes, shared messages,
sharing levels, mailbox grants, record shares, requests and decisions, blocklist
retractions, removals), every view of every member matches the reference model, and no
subject or content is ever shown above the viewer's level."""

from __future__ import annotations

from histories import EVERY_KIND, Reference, check_views, events_of, fold, histories
from hypothesis import HealthCheck, example, given, settings


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories)
@example(history=EVERY_KIND)
def test_no_view_ever_shows_more_than_the_rules_allow(history) -> None:
    check_views(fold(events_of(history)), Reference.of(history))
