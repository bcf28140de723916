"""Intelligence answers for the records identity created, and NOT_FOUND for any other id:
which events make a record known."""

from __future__ import annotations

from datetime import UTC, datetime

from commsintel.contracts.events import (
    CompanyCreated,
    InteractionRecord,
    InteractionResolved,
    PersonCreated,
    PersonLinkedToCompany,
)
from commsintel.intelligence.service_layer.handlers import created_records

AT = datetime(2026, 3, 1, tzinfo=UTC)


def test_people_and_companies_identity_created_are_known_and_nothing_else_makes_one() -> None:
    events = [
        PersonCreated(
            event_id="e1",
            workspace_id="ws",
            person_id="p-bob",
            address="bob@acme.com",
            display_name="Bob",
            created_because="you emailed them",
        ),
        CompanyCreated(
            event_id="e2", workspace_id="ws", company_id="c-acme", domain="acme.com", name="Acme"
        ),
        PersonLinkedToCompany(
            event_id="e3", workspace_id="ws", person_id="p-eve", company_id="c-other", domain="o.io"
        ),
        InteractionResolved(
            event_id="e4",
            workspace_id="ws",
            interaction_key="m1",
            kind="email",
            mailbox_id="mb",
            member_id="alice",
            occurred_at=AT,
            direction="sent",
            participant_count=2,
            records=(InteractionRecord(record_id="p-zed", record_kind="person", role="to"),),
        ),
    ]
    assert created_records(events) == ["p-bob", "c-acme"]
