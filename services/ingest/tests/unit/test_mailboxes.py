"""Mailbox sync status, retry backoff, sealed values and the ids of retractions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commsintel.ingest.adapters.crypto import (
    SecretBox,
    UnreadableSecret,
    decode_key,
    encode_key,
    new_key,
)
from commsintel.ingest.domain.mailboxes import (
    ImapEndpoint,
    SyncStatus,
    imap_mailbox_id,
    retry_delay,
    sync_advanced,
    sync_failed,
    sync_started,
    sync_succeeded,
)
from commsintel.ingest.domain.parsing import parse_message
from commsintel.ingest.domain.sightings import (
    Mailbox,
    message_retracted,
    message_shown_again,
    message_synced,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_an_error_keeps_the_time_of_the_last_success_until_the_next_one():
    status = sync_succeeded(sync_started(SyncStatus(), 10, T0), T0)
    failed = sync_failed(status, "unreachable", "cannot reach imap.example.com", T0 + timedelta(1))
    assert failed.state == "error" and failed.last_success_at == T0
    retried = sync_started(failed, 3, T0 + timedelta(2))
    assert retried.state == "syncing" and retried.error_kind == "unreachable"
    recovered = sync_succeeded(sync_advanced(retried, 3, T0 + timedelta(3)), T0 + timedelta(3))
    assert (recovered.state, recovered.error_kind, recovered.error_message) == ("idle", "", "")
    assert recovered.last_success_at == T0 + timedelta(3)


def test_progress_never_shows_more_done_than_total():
    status = sync_advanced(sync_started(SyncStatus(), 5, T0), 7, T0)
    assert status.messages_done == 7 and status.messages_total == 7


@given(st.integers(min_value=1, max_value=200))
def test_backoff_grows_and_is_capped(failures):
    assert 0 < retry_delay(failures) <= 300
    assert retry_delay(failures + 1) >= retry_delay(failures)


def test_the_same_account_is_the_same_mailbox_whatever_the_case():
    one = ImapEndpoint("IMAP.Example.com", 993, "tls", "Alice@Example.com", "password")
    two = ImapEndpoint("imap.example.com", 993, "tls", "alice@example.com", "xoauth2")
    assert imap_mailbox_id("ws", "m1", one) == imap_mailbox_id("ws", "m1", two)
    assert imap_mailbox_id("ws", "m1", one) != imap_mailbox_id("ws", "m2", one)


def test_a_sealed_value_opens_only_with_its_key_and_where_it_belongs():
    box = SecretBox(new_key())
    sealed = box.seal(b"hunter2", "credentials:mb1")
    assert b"hunter2" not in sealed
    assert box.open(sealed, "credentials:mb1") == b"hunter2"
    with pytest.raises(UnreadableSecret):
        box.open(sealed, "credentials:mb2")  # copied onto another mailbox
    with pytest.raises(UnreadableSecret):
        SecretBox(new_key()).open(sealed, "credentials:mb1")
    assert box.seal(b"hunter2", "x") != box.seal(b"hunter2", "x")  # fresh nonce each time


def test_keys_from_settings_round_trip_and_bad_ones_are_refused():
    key = new_key()
    assert decode_key(encode_key(key)) == key
    for bad in ("", "not base64 !!", encode_key(b"short")):
        with pytest.raises(ValueError):
            decode_key(bad)


def test_hiding_and_showing_again_are_new_facts_each_time():
    mailbox = Mailbox("ws", "mb1", "m1", frozenset({"alice@northwind.io"}))
    raw = (
        b"From: Priya <priya@brightpath.com>\r\nTo: alice@northwind.io\r\n"
        b"Message-ID: <1@brightpath.com>\r\nDate: Tue, 02 Jan 2024 10:00:00 +0000\r\n\r\nhi\r\n"
    )
    first = message_synced(mailbox, parse_message(raw, owner_addresses=mailbox.owner_addresses))
    assert message_shown_again(first, 0) == first  # never published: its first id
    again = [message_shown_again(first, n).event_id for n in (1, 2)]
    retracted = [
        message_retracted(mailbox, first.message_key, n, "blocklisted: x.com", T0).event_id
        for n in (0, 1)
    ]
    assert len({first.event_id, *again, *retracted}) == 5
    # ...and the same again when computed again (a crash re-publishes, never invents).
    assert message_shown_again(first, 1).event_id == again[0]
