from datetime import UTC, datetime

import pytest

from commsintel.contracts import ids
from commsintel.contracts.envelope import PoisonMessage, decode_event, encode_event
from commsintel.contracts.events import EVENT_TYPES, MailboxRemoved, PersonCreated


def _removed() -> MailboxRemoved:
    return MailboxRemoved(
        event_id="e1",
        workspace_id="ws",
        mailbox_id="mb",
        member_id="alice",
        removed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_event_travels_as_cloudevents_binary_binding_keyed_by_workspace() -> None:
    record = encode_event(_removed())
    assert record.topic == "ingest.mailboxes"
    assert record.key == b"ws"
    assert record.headers["ce_specversion"] == "1.0"
    assert record.headers["ce_type"] == "commsintel.ingest.MailboxRemoved.v1"
    assert record.headers["ce_id"] == "e1"
    assert record.headers["ce_subject"] == "ws"
    assert record.headers["ce_source"] == "commsintel/ingest"
    assert record.headers["ce_time"] == "2026-01-02T03:04:05+00:00"
    assert decode_event(record.headers, record.value) == _removed()


def test_every_event_type_names_its_version() -> None:
    assert all(name.endswith(".v1") for name in EVENT_TYPES)


@pytest.mark.parametrize(
    ("headers", "value", "reason"),
    [
        ({}, b"{}", "ce_specversion"),
        ({"ce_specversion": "1.0", "ce_type": "x.Unknown.v9"}, b"{}", "unknown event type"),
        ({"ce_specversion": "1.0", "ce_type": MailboxRemoved.TYPE}, b"{not json", "not JSON"),
        ({"ce_specversion": "1.0", "ce_type": MailboxRemoved.TYPE}, b'{"event_id": 3}', "schema"),
        ({"ce_specversion": "1.0", "ce_type": MailboxRemoved.TYPE}, b"", "empty"),
    ],
)
def test_undecodable_records_are_poison_with_a_reason(headers, value, reason) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        decode_event(headers, value)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError):
        MailboxRemoved(
            event_id="e",
            workspace_id="w",
            mailbox_id="m",
            member_id="a",
            removed_at=datetime(2026, 1, 1),
        )


def test_record_ids_are_derived_from_workspace_and_key() -> None:
    assert ids.person_id("ws", "bob@acme.com") == ids.person_id("ws", "bob@acme.com")
    assert ids.person_id("ws", "bob@acme.com") != ids.person_id("other", "bob@acme.com")
    assert ids.person_id("ws", "acme.com") != ids.company_id("ws", "acme.com")


def test_events_are_immutable() -> None:
    event = PersonCreated(
        event_id="e",
        workspace_id="w",
        person_id="p",
        address="a@b.c",
        display_name="",
        created_because="test",
    )
    with pytest.raises(ValueError):
        event.address = "x@y.z"  # type: ignore[misc]
