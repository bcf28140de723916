"""The one check every request passes before any work: limits by field name, enum values,
timestamps, and the size of what could become an event."""

from __future__ import annotations

import pytest

from commsintel.contracts.errors import InvalidValue, TooLarge
from commsintel.contracts.proto.access.v1 import access_pb2 as access
from commsintel.contracts.proto.identity.v1 import identity_pb2 as identity
from commsintel.contracts.proto.ingest.v1 import ingest_pb2 as ingest
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2 as intelligence
from commsintel.platform.request_checks import MAX_ID_CHARS, check_request


def test_ordinary_requests_pass() -> None:
    check_request(identity.AddMemberRequest(member_id="alice", addresses=["a@acme.io"]))
    check_request(intelligence.GetRecordIntelligenceRequest(record_id="r" * MAX_ID_CHARS))
    check_request(ingest.SendEmailRequest(mailbox_id="m", text_body="x" * 1_000_000))


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (intelligence.GetRecordIntelligenceRequest(record_id="r" * 3_000_000), "record_id is too"),
        (access.CheckVisibilityRequest(message_keys=["k"] * 1001), "more than 1000"),
        (access.GetRecordRequest(record_id="r\x00"), "record_id holds"),
        (access.ListRecordsRequest(kind=99), "kind has an unknown value"),
        (access.ListRecordsRequest(page_token="x" * 10_000), "page_token is too long"),
        (
            ingest.ConnectMailboxRequest(imap=ingest.ImapCredentials(security=7)),
            "imap.security has an unknown value",
        ),
    ],
)
def test_a_field_out_of_bounds_is_named_and_not_echoed(request_, message: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_request(request_)
    assert message in str(refused.value)
    assert len(str(refused.value)) < 100


@pytest.mark.parametrize("seconds", [-62_135_596_801, 253_402_300_800, 2**62])
def test_a_timestamp_outside_years_1_to_9999_is_refused(seconds: int) -> None:
    request = intelligence.GetRecordIntelligenceRequest(record_id="r")
    request.as_of.seconds = seconds
    with pytest.raises(InvalidValue, match="as_of is out of range"):
        check_request(request)


def test_a_request_too_large_for_an_event_is_resource_exhausted() -> None:
    # Each value fits; together they would not fit a Kafka record.
    request = identity.SetPersonFieldRequest(
        person_id="p", field="name", values=["v" * 10_000] * 200
    )
    with pytest.raises(TooLarge):
        check_request(request)
