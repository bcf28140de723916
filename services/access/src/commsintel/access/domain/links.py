"""Which records took part in which messages and meetings, through which mailbox's
resolution, and their places in each record's activity (newest first). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EMAIL, CALENDAR = 0, 1  # activity kinds, in the order they sort at the same instant

# A position in a record's activity: (-microseconds since the epoch, kind, key), so that
# ascending order is newest first.
Position = tuple[int, int, str]


def stored_time(when: datetime) -> datetime:
    """UTC, to the millisecond: what MongoDB gives back."""
    when = when.astimezone(UTC)
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def position(when: datetime, kind: int, key: str) -> Position:
    return (-((when - _EPOCH) // _MICROSECOND), kind, key)


class Links:
    """Which records took part in which items (messages or meetings), through which
    mailbox's resolution, and when each item happened for each record."""

    def __init__(self, kind: int) -> None:
        self.kind = kind
        self.via: dict[str, dict[str, frozenset[str]]] = {}  # item -> mailbox -> records
        self.of_record: dict[str, dict[str, datetime]] = {}  # record -> item -> time
        self._sorted: dict[str, list[Position]] = {}

    def resolve(self, item: str, mailbox_id: str, records: frozenset[str], at: datetime) -> None:
        """A resolution of one mailbox's sighting replaces that mailbox's share."""
        via = self.via.setdefault(item, {})
        before = via.get(mailbox_id, frozenset())
        if records:
            via[mailbox_id] = records
        else:
            via.pop(mailbox_id, None)
        for record in records:
            self._put(record, item, at)
        for record in before - records:
            self._drop_if_unlinked(record, item)
        if not via:
            del self.via[item]

    def load(self, record: str, item: str, at: datetime, mailbox_ids: Iterable[str]) -> None:
        via = self.via.setdefault(item, {})
        for mailbox_id in mailbox_ids:
            via[mailbox_id] = via.get(mailbox_id, frozenset()) | {record}
        self._put(record, item, at)

    def drop_mailbox(self, mailbox_id: str) -> None:
        for item in [i for i, via in self.via.items() if mailbox_id in via]:
            records = self.via[item].pop(mailbox_id)
            for record in records:
                self._drop_if_unlinked(record, item)
            if not self.via[item]:
                del self.via[item]

    def records_via(self, item: str) -> dict[str, frozenset[str]]:
        return self.via.get(item, {})

    def positions(self, record: str) -> list[Position]:
        """The record's items, newest first."""
        found = self._sorted.get(record)
        if found is None:
            items = self.of_record.get(record, {})
            found = sorted(position(at, self.kind, item) for item, at in items.items())
            self._sorted[record] = found
        return found

    def _put(self, record: str, item: str, at: datetime) -> None:
        self.of_record.setdefault(record, {})[item] = at
        self._sorted.pop(record, None)

    def _drop_if_unlinked(self, record: str, item: str) -> None:
        if any(record in records for records in self.via.get(item, {}).values()):
            return
        items = self.of_record.get(record)
        if items is not None and items.pop(item, None) is not None:
            self._sorted.pop(record, None)
            if not items:
                del self.of_record[record]
