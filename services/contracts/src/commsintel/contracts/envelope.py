"""CloudEvents 1.0, Kafka binary binding: attributes in `ce_*` headers, the event JSON as
the value, workspace_id as the key (an event's KEY_FIELD where it says otherwise). The
W3C `traceparent` header rides alongside."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from pydantic import ValidationError

from commsintel.contracts.events import EVENT_TYPES, Event, event_time

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class PoisonMessage(ValueError):
    """A Kafka record that can never be turned into an event; it goes to the DLQ."""


Upcast = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Upcaster:
    """How a stored payload of an old event type reads as the next version: a pure
    function of the payload (decision 0007)."""

    to_type: str
    upcast: Upcast


# Every old event type that must stay readable, keyed by its `ce_type`. Empty while no
# event has a second version; a `...v2` registers its upcast from v1 here.
UPCASTERS: dict[str, Upcaster] = {}
MAX_UPCASTS = 16  # versions in one chain; more means the registry has a cycle


def upcaster(
    from_type: str, to_type: str, registry: dict[str, Upcaster] = UPCASTERS
) -> Callable[[Upcast], Upcast]:
    """Register the decorated pure function as the upcast from `from_type` to `to_type`."""

    def register(upcast: Upcast) -> Upcast:
        registry[from_type] = Upcaster(to_type, upcast)
        return upcast

    return register


@dataclass(frozen=True, slots=True)
class KafkaRecordOut:
    topic: str
    key: bytes
    value: bytes
    headers: dict[str, str]


def encode_event(event: Event) -> KafkaRecordOut:
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": event.event_id,
        "ce_type": event.TYPE,
        "ce_source": event.SOURCE,
        "ce_subject": event.workspace_id,
        "content-type": CONTENT_TYPE,
    }
    when = event_time(event)
    if when is not None:
        headers["ce_time"] = when.astimezone(UTC).isoformat()
    return KafkaRecordOut(
        topic=event.TOPIC,
        key=str(getattr(event, event.KEY_FIELD)).encode(),
        value=event.model_dump_json().encode(),
        headers=headers,
    )


def _header_text(value: bytes | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def header_map(headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes | str]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    decoded = {name: _header_text(value) for name, value in items}
    return {name: value for name, value in decoded.items() if value is not None}


def decode_event(
    headers: Mapping[str, str],
    value: bytes | None,
    upcasters: Mapping[str, Upcaster] = UPCASTERS,
) -> Event:
    """Turn one record into its event (an old version upcast to the current one), or
    raise PoisonMessage saying why not."""
    if headers.get("ce_specversion") != SPEC_VERSION:
        raise PoisonMessage(f"not a CloudEvents {SPEC_VERSION} record (ce_specversion missing)")
    event_type = headers.get("ce_type", "")
    model = EVENT_TYPES.get(event_type)
    if model is None and event_type not in upcasters:
        raise PoisonMessage(f"unknown event type {event_type!r}")
    if not value:
        raise PoisonMessage(f"{event_type} record has an empty value")
    if model is None:
        event = _upcast(event_type, value, upcasters)
    else:
        try:
            # Parsed and validated in one pass by pydantic-core (twice as fast as
            # json.loads then validate, which a replay of millions of events notices).
            event = model.model_validate_json(value)
        except ValidationError as error:
            raise _not_matching(event_type, error) from error
    if headers.get("ce_id") not in (None, event.event_id):
        raise PoisonMessage(f"ce_id {headers.get('ce_id')!r} differs from event_id")
    return event


def _upcast(event_type: str, value: bytes, upcasters: Mapping[str, Upcaster]) -> Event:
    try:
        payload = json.loads(value)
    except ValueError as error:
        raise PoisonMessage(f"{event_type} value is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise PoisonMessage(f"{event_type} value is not a JSON object")
    current = event_type
    for _ in range(MAX_UPCASTS):
        step = upcasters.get(current)
        if step is None:
            break
        payload, current = step.upcast(payload), step.to_type
    model = EVENT_TYPES.get(current)
    if model is None:
        raise PoisonMessage(f"{event_type} upcasts to {current!r}, which is not a current type")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise _not_matching(f"{event_type} (as {current})", error) from error


def _not_matching(event_type: str, error: ValidationError) -> PoisonMessage:
    if any(problem["type"] == "json_invalid" for problem in error.errors()):
        return PoisonMessage(f"{event_type} value is not JSON: {error}")
    return PoisonMessage(f"{event_type} value does not match its schema: {error}")
