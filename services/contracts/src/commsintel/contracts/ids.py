"""Deterministic ids: the same workspace and normalized key always give the same id,
so replays and re-imports produce identical records."""

import uuid

_NAMESPACE = uuid.UUID("6f1c3f0e-2b7a-4f61-9a53-2f9d7c1e5a10")


def _derived(workspace_id: str, kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{workspace_id}\x1f{kind}\x1f{key}"))


def person_id(workspace_id: str, normalized_address: str) -> str:
    return _derived(workspace_id, "person", normalized_address)


def company_id(workspace_id: str, registrable_domain: str) -> str:
    return _derived(workspace_id, "company", registrable_domain)


def mailbox_id(workspace_id: str, member_id: str, mailbox_address: str) -> str:
    return _derived(workspace_id, "mailbox", f"{member_id}\x1f{mailbox_address.lower()}")


def event_id(workspace_id: str, *parts: str) -> str:
    """Id of an event that is a pure function of its inputs (idempotent republish)."""
    return _derived(workspace_id, "event", "\x1f".join(parts))
