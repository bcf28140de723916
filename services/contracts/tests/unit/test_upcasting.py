"""Old versions of an event stay readable (decision 0007): a stored payload of an old
type goes through the pure upcast functions registered for it and reads as the current
version; what cannot be upcast is poison, never a crash."""

import json

import pytest

from commsintel.contracts.envelope import PoisonMessage, Upcaster, decode_event, upcaster
from commsintel.contracts.events import PersonCreated

CURRENT = "commsintel.identity.PersonCreated.v1"
# A made-up earlier version, as a real v1 -> v2 change would look: the address was
# called `email` and the name came in two parts.
V0 = "commsintel.identity.PersonCreated.v0"
V00 = "commsintel.identity.PersonCreated.v00"
STORED_V0 = {
    "event_id": "e1",
    "workspace_id": "ws",
    "person_id": "p1",
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "created_because": "sent to by alice",
}


def _v0_to_v1(payload: dict) -> dict:
    upcast = {k: v for k, v in payload.items() if k not in ("email", "first_name", "last_name")}
    upcast["address"] = payload["email"]
    upcast["display_name"] = f"{payload['first_name']} {payload['last_name']}"
    return upcast


def _headers(event_type: str, event_id: str = "e1") -> dict[str, str]:
    return {"ce_specversion": "1.0", "ce_type": event_type, "ce_id": event_id}


def _registry() -> dict[str, Upcaster]:
    registry: dict[str, Upcaster] = {}
    upcaster(V0, CURRENT, registry)(_v0_to_v1)
    return registry


def test_a_stored_old_version_reads_as_the_current_event() -> None:
    event = decode_event(_headers(V0), json.dumps(STORED_V0).encode(), _registry())
    assert isinstance(event, PersonCreated)
    assert event.address == "ada@example.com"
    assert event.display_name == "Ada Lovelace"
    assert event.event_id == "e1"


def test_upcasts_chain_through_every_version_in_between() -> None:
    registry = _registry()

    @upcaster(V00, V0, registry)
    def _v00_to_v0(payload: dict) -> dict:
        return {**payload, "email": payload["mail"]}

    stored = {k: v for k, v in STORED_V0.items() if k != "email"} | {"mail": "ada@example.com"}
    event = decode_event(_headers(V00), json.dumps(stored).encode(), registry)
    assert isinstance(event, PersonCreated) and event.address == "ada@example.com"


def test_an_upcast_is_pure_and_leaves_the_stored_payload_alone() -> None:
    stored = dict(STORED_V0)
    _v0_to_v1(stored)
    assert stored == STORED_V0


def test_an_old_version_without_an_upcaster_is_poison() -> None:
    with pytest.raises(PoisonMessage, match="unknown event type"):
        decode_event(_headers(V0), json.dumps(STORED_V0).encode(), {})


def test_an_old_payload_the_upcast_cannot_make_valid_is_poison() -> None:
    broken = {k: v for k, v in STORED_V0.items() if k != "person_id"}
    with pytest.raises(PoisonMessage, match="does not match its schema"):
        decode_event(_headers(V0), json.dumps(broken).encode(), _registry())


def test_an_upcast_to_a_type_nobody_reads_is_poison() -> None:
    registry = {V0: Upcaster("commsintel.identity.Gone.v9", lambda payload: payload)}
    with pytest.raises(PoisonMessage, match="not a current type"):
        decode_event(_headers(V0), json.dumps(STORED_V0).encode(), registry)


def test_an_old_version_that_is_not_json_is_poison() -> None:
    with pytest.raises(PoisonMessage, match="not JSON"):
        decode_event(_headers(V0), b"{not json", _registry())


def test_the_current_version_is_read_without_any_upcast() -> None:
    current = _v0_to_v1(STORED_V0)
    event = decode_event(_headers(CURRENT), json.dumps(current).encode(), _registry())
    assert isinstance(event, PersonCreated)
    assert set(PersonCreated.model_fields) >= set(current)
