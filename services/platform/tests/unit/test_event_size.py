"""An event too large for a Kafka record is refused before anything is sent, as
RESOURCE_EXHAUSTED for the API caller (not the producer's MessageSizeTooLargeError)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from faststream.kafka import KafkaBroker

from commsintel.contracts.errors import TooLarge
from commsintel.contracts.events import OwnDomainAdded
from commsintel.platform.streaming import MAX_EVENT_BYTES, EventPublisher


async def test_an_event_larger_than_a_kafka_record_is_refused_before_sending() -> None:
    # The broker is never started: the refusal comes before any network.
    publisher = EventPublisher(KafkaBroker("127.0.0.1:1"))
    # NUL characters: small as text, six bytes each in JSON.
    domain = "\x00" * (MAX_EVENT_BYTES // 5)
    event = OwnDomainAdded(
        event_id="e1",
        workspace_id="ws",
        domain=domain,
        added_by="alice",
        added_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(TooLarge):
        await publisher.publish([event])
