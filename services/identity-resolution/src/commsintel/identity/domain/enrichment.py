"""Values of a record's fields, each with its source, from what the mail itself holds.

Precedence: a value a user set is never replaced by evidence; a signature outranks a
display name or the domain; among equals the later evidence wins, except that a display
name never replaces a fuller one ("Bob" does not replace "Bob Buyer").
"""

from __future__ import annotations

from datetime import datetime

from commsintel.contracts import ids
from commsintel.contracts.events import EnrichmentSource, RecordEnriched, SenderSignature
from commsintel.identity.domain.model import Company, IdentitySlice, Person, SourcedValue

PERSON_FIELDS = ("name", "job_title", "phone_numbers", "linkedin_url", "twitter_url", "github_url")
LIST_FIELDS = frozenset({"phone_numbers", "domains"})
_RANK = {"domain": 1, "display_name": 1, "signature": 2, "user": 3}


def _outranks(new: SourcedValue, current: SourcedValue | None, field: str) -> bool:
    if current is None:
        return True
    if current.source == "user" and new.source != "user":
        return False
    if _RANK[new.source] != _RANK[current.source]:
        return _RANK[new.source] > _RANK[current.source]
    if field == "name" and new.source == "display_name":
        return len(new.values[0].split()) >= len(current.values[0].split())
    return True


def propose(
    state: IdentitySlice,
    record: Person | Company,
    field: str,
    value: SourcedValue,
    cause: str,
) -> RecordEnriched | None:
    """Set `field` to `value` if it outranks what is there; the event says so."""
    current = record.fields.get(field)
    if field in LIST_FIELDS and current is not None and current.source == value.source:
        value = SourcedValue(
            tuple(sorted({*current.values, *value.values})),
            value.source,
            value.message_key,
            value.member_id,
            value.observed_at,
        )
    if current is not None and current.values == value.values:
        return None
    if not value.values or not all(value.values) or not _outranks(value, current, field):
        return None
    record.fields[field] = value
    if isinstance(record, Person):
        record_id, kind = record.person_id, "person"
        state.dirty_people.add(record_id)
    else:
        record_id, kind = record.company_id, "company"
        state.dirty_companies.add(record_id)
    return RecordEnriched(
        event_id=ids.event_id(state.workspace_id, "RecordEnriched", record_id, field, cause),
        workspace_id=state.workspace_id,
        record_id=record_id,
        record_kind=kind,
        field=field,
        value=value.values if field in LIST_FIELDS else value.values[0],
        source=EnrichmentSource(
            kind=value.source,  # type: ignore[arg-type]
            message_key=value.message_key,
            member_id=value.member_id,
            observed_at=value.observed_at,
        ),
    )


def from_signature(
    signature: SenderSignature, *, message_key: str, member_id: str, at: datetime
) -> dict[str, SourcedValue]:
    def sourced(*values: str | None) -> SourcedValue | None:
        kept = tuple(v for v in values if v)
        return SourcedValue(kept, "signature", message_key, member_id, at) if kept else None

    candidates = {
        "name": sourced(signature.name),
        "job_title": sourced(signature.job_title),
        "phone_numbers": sourced(*signature.phone_numbers),
        "linkedin_url": sourced(signature.linkedin_url),
        "twitter_url": sourced(signature.twitter_url),
        "github_url": sourced(signature.github_url),
    }
    return {field: value for field, value in candidates.items() if value is not None}


def apply_user_value(state: IdentitySlice, event: RecordEnriched) -> bool:
    """Apply a value a user set (SetPersonField); False if that person is unknown."""
    person = state.people.get(event.record_id)
    if person is None:
        return False
    values = event.value if isinstance(event.value, tuple) else (event.value,)
    person.fields[event.field] = SourcedValue(
        values, "user", None, event.source.member_id, event.source.observed_at
    )
    state.dirty_people.add(person.person_id)
    return True


def combined_fields(people: list[Person]) -> dict[str, SourcedValue]:
    """The fields of a merged record: for each field, the best value any of the merged
    people has (a user's value first, then a signature's, then the latest evidence).
    Derived, not copied, so an unmerge gives each person their own values back."""
    best: dict[str, SourcedValue] = {}
    for person in people:
        for name, value in person.fields.items():
            current = best.get(name)
            if current is None or (_RANK[value.source], value.observed_at) > (
                _RANK[current.source],
                current.observed_at,
            ):
                best[name] = value
    return best
