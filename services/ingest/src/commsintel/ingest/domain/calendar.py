"""Calendar resources turned into the facts of `ingest.calendar`: EventSynced for every
occurrence in the sync window, EventCancelled for every occurrence that went away.

Pure: bytes, the window and the previously published state come in; occurrences, events
and the new state go out. The rules (docs/decisions/0013):
- One occurrence per start inside [window.start, window.end): recurrence (RRULE, RDATE,
  EXDATE, RECURRENCE-ID overrides) is expanded by recurring-ical-events.
- `calendar_event_key` names the meeting workspace-wide: the UID, plus for an occurrence
  of a series its RECURRENCE-ID in UTC. Never the mailbox: two members' copies of one
  meeting share the key.
- Times travel in UTC; the IANA zone the start was given in travels as
  `start_timezone` ("" for UTC, floating times and zones without an IANA name). A whole
  day event (DATE values) starts and ends at midnight UTC of its dates, `all_day=True`.
- Event ids chain: an occurrence's new EventSynced id hashes its content and the id of
  what was last published for its key, so an edit (even one back to an earlier state)
  gets a new id, while reading unchanged data again publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from commsintel.contracts import ids
from commsintel.contracts.events import CalendarAttendee, EventCancelled, EventSynced
from commsintel.ingest.domain.sightings import Mailbox

Rsvp = Literal["accepted", "declined", "tentative", "needs_action"]

# Hostile input stays cheap: a resource bigger than this is not a calendar entry, and
# expanding a series may cost at most this many steps of the recurrence engine.
MAX_RESOURCE_BYTES = 4 * 1024 * 1024
MAX_FEED_BYTES = 64 * 1024 * 1024
MAX_OCCURRENCES = 5_000
MAX_EXPANSION_STEPS = 1_000_000
# One resource is one meeting (RFC 4791: one UID): its master and overrides.
MAX_RULES = 20
MAX_KEY_PART = 200

# RFC 5545 PARTSTAT -> the contract's rsvp. Someone who delegated will not attend.
_RSVP: dict[str, Rsvp] = {
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentative",
    "NEEDS-ACTION": "needs_action",
    "DELEGATED": "declined",
}
# Rooms and equipment are booked as attendees; they are not people.
_NOT_PEOPLE = frozenset({"ROOM", "RESOURCE"})
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "Zulu", "Etc/Zulu", "UCT"})
_STEPS_PER_PERIOD = {"YEARLY": 366, "MONTHLY": 31, "WEEKLY": 7, "DAILY": 1, "HOURLY": 1}
_PERIOD = {
    "YEARLY": timedelta(days=365),
    "MONTHLY": timedelta(days=28),
    "WEEKLY": timedelta(weeks=1),
    "DAILY": timedelta(days=1),
    "HOURLY": timedelta(hours=1),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Same weekdays and leap years every 400 years: probing a rule at least one whole cycle
# before datetime.MAXYEAR tells whether it ever matches, in bounded time (the engine
# gives up only at MAXYEAR).
_PROBE_YEAR = 9200


class MalformedCalendar(ValueError):
    """The bytes are not a calendar resource we can use; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SyncWindow:
    """The span of occurrences that sync publishes, by start: [start, end)."""

    start: datetime
    end: datetime

    def __contains__(self, when: datetime) -> bool:
        return self.start <= when < self.end


def sync_window(now: datetime, *, days_back: int, days_ahead: int) -> SyncWindow:
    """Whole UTC days, so the window (and the re-expansion of series) moves once a day."""
    today = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    return SyncWindow(today - timedelta(days=days_back), today + timedelta(days=days_ahead + 1))


@dataclass(frozen=True, slots=True)
class Attendee:
    address: str
    display_name: str
    rsvp: Rsvp


@dataclass(frozen=True, slots=True)
class Occurrence:
    key: str
    uid: str
    series_key: str  # the UID for an occurrence of a series, "" for a single event
    title: str
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    start_timezone: str
    all_day: bool
    organizer: str
    attendees: tuple[Attendee, ...]
    cancelled: bool

    @property
    def content_hash(self) -> str:
        """What a consumer sees of the occurrence: a change here is an update."""
        content = [
            self.title,
            self.starts_at.isoformat(),
            self.ends_at.isoformat(),
            self.start_timezone,
            self.all_day,
            self.organizer,
            [[a.address, a.display_name, a.rsvp] for a in self.attendees],
            self.series_key,
        ]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CalendarResource:
    """One parsed resource: its occurrences in the window, cancelled ones included."""

    occurrences: tuple[Occurrence, ...]
    live_uids: frozenset[str]  # UIDs with at least one component not cancelled
    # When the moving window will reach occurrences not expanded yet (None: never).
    revisit_at: datetime | None


# --- parsing --------------------------------------------------------------------------


def parse_calendar_resource(raw: bytes, window: SyncWindow) -> CalendarResource:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedCalendar(f"expected calendar bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > MAX_RESOURCE_BYTES:
        raise MalformedCalendar(f"calendar resource of {len(raw)} bytes is too large")
    if not raw.strip():
        raise MalformedCalendar("empty calendar resource")
    # The libraries warn about what they guess (zone names, odd rules): the guess is
    # what we use, and hostile input must not flood the log.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            calendar = icalendar.Calendar.from_ical(raw)
        except Exception as error:  # the parser raises many kinds on hostile input
            raise MalformedCalendar(f"not iCalendar: {_said(error)}") from error
        if not isinstance(calendar, icalendar.Calendar):
            raise MalformedCalendar("not a VCALENDAR")
        try:
            return _resource(calendar, window)
        except MalformedCalendar:
            raise
        except Exception as error:
            raise MalformedCalendar(f"cannot expand the events: {_said(error)}") from error


def _resource(calendar: icalendar.Calendar, window: SyncWindow) -> CalendarResource:
    events = list(calendar.walk("VEVENT"))
    rules = sum(len(_listed(e.get("RRULE"))) for e in events)
    if rules > MAX_RULES:
        raise MalformedCalendar(f"{rules} recurrence rules in one resource (at most {MAX_RULES})")
    steps = 0
    for event in events:
        _start(event)  # raises for an event without a usable start
        if not str(event.get("UID", "")).strip():
            # A stable stand-in: attendee replies keep it, a move or rename does not.
            event["UID"] = _fingerprint(event)
        steps += _expansion_steps(event, window)
        if steps > MAX_EXPANSION_STEPS:
            raise MalformedCalendar("RRULE repeats too often to expand")
    # A series keys each occurrence by its original start; a single event by its UID
    # alone, so moving it is an update, not a cancellation and a new meeting.
    series_uids = frozenset(
        str(e["UID"]) for e in events if any(p in e for p in ("RRULE", "RDATE", "RECURRENCE-ID"))
    )
    method_cancels = str(calendar.get("METHOD", "")).upper() == "CANCEL"
    live_uids = frozenset(
        str(e["UID"]) for e in events if not method_cancels and not _is_cancelled(e)
    )
    occurrences: dict[str, Occurrence] = {}
    for component in _expanded(calendar, window):
        occurrence = _occurrence(component, series_uids, method_cancels)
        if occurrence.starts_at in window:
            occurrences.setdefault(occurrence.key, occurrence)
        if len(occurrences) > MAX_OCCURRENCES:
            raise MalformedCalendar(f"more than {MAX_OCCURRENCES} occurrences in the window")
    return CalendarResource(
        occurrences=tuple(sorted(occurrences.values(), key=lambda o: (o.starts_at, o.key))),
        live_uids=live_uids,
        revisit_at=_revisit_at(events, window),
    )


def _expanded(calendar: icalendar.Calendar, window: SyncWindow) -> list[icalendar.Component]:
    return list(recurring_ical_events.of(calendar).between(window.start, window.end))


def _expansion_steps(event: icalendar.Component, window: SyncWindow) -> int:
    """About how many steps the recurrence engine takes for the event; rules it would
    spend unbounded time on (hostile or broken) are rejected."""
    steps = sum(len(r.dts) for r in _listed(event.get("RDATE")))
    if steps > MAX_OCCURRENCES:
        raise MalformedCalendar(f"more than {MAX_OCCURRENCES} RDATE values")
    start = _naive_utc(_start(event))
    for rule in _listed(event.get("RRULE")):
        frequency = str((rule.get("FREQ") or [""])[0]).upper()
        if frequency not in _PERIOD:
            raise MalformedCalendar(f"RRULE frequency {frequency or 'missing'} is not supported")
        interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
        until = (rule.get("UNTIL") or [None])[0]
        end = _naive_utc(window.end)
        if until is not None:
            end = min(end, _naive_utc(until))
        periods = max(0.0, (end - start) / (_PERIOD[frequency] * interval)) + 1
        times_per_day = 1
        for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            times_per_day *= max(1, len(rule.get(part) or []))
        steps += int(periods * _STEPS_PER_PERIOD[frequency] * times_per_day)
        if steps > MAX_EXPANSION_STEPS:
            raise MalformedCalendar("RRULE repeats too often to expand")
        if not _ever_matches(rule, start):
            raise MalformedCalendar("RRULE never matches a date")
    return steps


def _ever_matches(rule: Any, start: datetime) -> bool:
    pattern = {k: v for k, v in rule.items() if k.upper() not in ("COUNT", "UNTIL")}
    text = icalendar.vRecur(pattern).to_ical().decode()
    probe_start = start.replace(year=_PROBE_YEAR + start.year % 400)
    return next(iter(rrulestr(text, dtstart=probe_start)), None) is not None


def _revisit_at(events: list[icalendar.Component], window: SyncWindow) -> datetime | None:
    if any("RRULE" in e or "RDATE" in e for e in events):
        return window.end  # a series: expand it again once the window has moved on
    later = [s for e in events if (s := _utc(_start(e))) >= window.end]
    return min(later, default=None)


# --- feeds ----------------------------------------------------------------------------


def feed_resources(raw: bytes) -> dict[str, bytes]:
    """An .ics file or feed cut into one resource per UID, as a CalDAV server stores
    them: that UID's VEVENTs (master and overrides) with the VTIMEZONEs they name."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedCalendar(f"expected calendar bytes, got {type(raw).__name__}")
    if len(raw) > MAX_FEED_BYTES:
        raise MalformedCalendar(f"calendar feed of {len(raw)} bytes is too large")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            calendar = icalendar.Calendar.from_ical(bytes(raw))
        except Exception as error:
            raise MalformedCalendar(f"not iCalendar: {_said(error)}") from error
        if not isinstance(calendar, icalendar.Calendar):
            raise MalformedCalendar("not a VCALENDAR")
        return _split_by_uid(calendar)


def _split_by_uid(calendar: icalendar.Calendar) -> dict[str, bytes]:
    zones = {str(z.get("TZID", "")): z for z in calendar.walk("VTIMEZONE")}
    by_uid: dict[str, list[icalendar.Component]] = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", "")).strip()
        if not uid:
            uid = event["UID"] = _fingerprint_or_bytes(event)
        by_uid.setdefault(uid, []).append(event)
    resources = {}
    for uid, events in sorted(by_uid.items()):
        resource = icalendar.Calendar()
        for name in ("VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-TIMEZONE"):
            if name in calendar:
                resource[name] = calendar[name]
        named = {tzid for event in events for tzid in _zones_named(event)}
        for tzid, zone in sorted(zones.items()):
            if tzid in named:
                resource.add_component(zone)
        for event in events:
            resource.add_component(event)
        resources[uid] = resource.to_ical()
    return resources


def _zones_named(event: icalendar.Component) -> Iterator[str]:
    for value in event.values():
        for item in _listed(value):
            if tzid := getattr(item, "params", {}).get("TZID"):
                yield str(tzid)


def _fingerprint_or_bytes(event: icalendar.Component) -> str:
    try:
        return _fingerprint(event)
    except MalformedCalendar:  # read as a resource, it will say what is wrong with it
        return f"no-uid:{hashlib.sha256(event.to_ical()).hexdigest()[:32]}"


# --- one occurrence -------------------------------------------------------------------


def _occurrence(
    component: icalendar.Component, series_uids: frozenset[str], method_cancels: bool
) -> Occurrence:
    uid = str(component["UID"])
    start, end = _start(component), _end(component)
    all_day = not isinstance(start, datetime)
    series_key = _key_part(uid) if uid in series_uids else ""
    key = _key_part(uid)
    if series_key:
        # The engine names every occurrence of a series by its original start.
        recurrence_id = _when(component, "RECURRENCE-ID") or start
        key = f"{series_key}/{_instant(recurrence_id)}"
    starts_at = _utc(start)
    return Occurrence(
        key=key,
        uid=uid,
        series_key=series_key,
        title=_text(component.get("SUMMARY")),
        starts_at=starts_at,
        ends_at=max(starts_at, _utc(end)),
        start_timezone=_zone_name(start, component.get("DTSTART")),
        all_day=all_day,
        organizer=_address(component.get("ORGANIZER")),
        attendees=tuple(_attendees(component.get("ATTENDEE"))),
        cancelled=method_cancels or _is_cancelled(component),
    )


def _end(component: icalendar.Component) -> date | datetime:
    start = _start(component)
    if (end := _when(component, "DTEND")) is not None:
        return end
    duration = getattr(component.get("DURATION"), "dt", None)
    if isinstance(duration, timedelta):
        return start + duration
    # RFC 5545: a whole-day event without an end lasts the day, a timed one no time.
    return start + timedelta(days=1) if not isinstance(start, datetime) else start


def _attendees(values: Any) -> Iterator[Attendee]:
    seen: set[str] = set()
    for value in _listed(values):
        params = getattr(value, "params", {})
        if str(params.get("CUTYPE", "")).upper() in _NOT_PEOPLE:
            continue
        address = _address(value)
        if not address or address in seen:
            continue
        seen.add(address)
        yield Attendee(
            address=address,
            display_name=_text(params.get("CN")),
            rsvp=_RSVP.get(str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(), "needs_action"),
        )


def _address(value: Any) -> str:
    """`mailto:Bob@Acme.com` -> `bob@acme.com`; "" for anything that is not an address."""
    if value is None:
        return ""
    text = str(value).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    text = text.strip().strip("<>").strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or _CONTROL.search(text) or " " in text:
        return ""
    return text


def _is_cancelled(component: icalendar.Component) -> bool:
    return str(component.get("STATUS", "")).upper() == "CANCELLED"


# --- times and zones ------------------------------------------------------------------


def _start(component: icalendar.Component) -> date | datetime:
    start = _when(component, "DTSTART")
    if start is None:
        raise MalformedCalendar(f"{component.name} without DTSTART")
    return start


def _when(component: icalendar.Component, name: str) -> date | datetime | None:
    """A DATE or DATE-TIME property's value; anything else there is malformed."""
    try:
        value = getattr(component.get(name), "dt", None)
    except ValueError as error:  # icalendar raises it for a property it could not parse
        raise MalformedCalendar(f"{name} is not a date or a date-time") from error
    if value is None or isinstance(value, date):
        return value
    raise MalformedCalendar(f"{name} is not a date or a date-time")


def _utc(when: date | datetime) -> datetime:
    """DATE -> midnight UTC of that date; floating -> read as UTC; aware -> UTC."""
    if not isinstance(when, datetime):
        return datetime.combine(when, time(), UTC)
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _naive_utc(when: date | datetime) -> datetime:
    return _utc(when).replace(tzinfo=None)


def _instant(when: date | datetime) -> str:
    if not isinstance(when, datetime):
        return when.strftime("%Y%m%d")
    return _utc(when).strftime("%Y%m%dT%H%M%SZ")


def _zone_name(start: date | datetime, prop: Any) -> str:
    zone = start.tzinfo if isinstance(start, datetime) else None
    if zone is None:
        return ""
    names = [getattr(zone, "key", None), getattr(zone, "zone", None)]
    names.append(str(getattr(prop, "params", {}).get("TZID", "")))
    for name in filter(None, names):
        if (iana := _iana_name(str(name))) is not None:
            return "" if iana in _UTC_NAMES else iana
    return ""


@lru_cache(maxsize=1024)
def _iana_name(tzid: str) -> str | None:
    """An IANA name for a TZID: as is, from the Windows names, or the tail of a path
    such as /mozilla.org/20050126_1/Europe/Berlin."""
    known = _iana_names()
    tzid = tzid.strip().strip('"')
    if tzid in known:
        return tzid
    if (windows := WINDOWS_TO_OLSON.get(tzid)) is not None and windows in known:
        return windows
    parts = tzid.split("/")
    for cut in range(1, len(parts)):
        if (tail := "/".join(parts[cut:])) in known:
            return tail
    return None


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | _UTC_NAMES


# --- small text helpers ---------------------------------------------------------------


def _listed(values: Any) -> list[Any]:
    if values is None:
        return []
    return list(values) if isinstance(values, list) else [values]


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _key_part(uid: str) -> str:
    """UIDs are free text: long or odd ones are keyed by their hash."""
    uid = uid.strip()
    if len(uid) <= MAX_KEY_PART and not _CONTROL.search(uid):
        return uid
    return "sha256:" + hashlib.sha256(uid.encode("utf-8", "surrogatepass")).hexdigest()


def _fingerprint(event: icalendar.Component) -> str:
    parts = [_start(event).isoformat(), str(event.get("SUMMARY", ""))]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"no-uid:{digest[:32]}"


def _said(error: BaseException) -> str:
    text = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- what was published, and what is due ----------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishedOccurrence:
    """The last fact published for one key of a resource (a tombstone when cancelled)."""

    event_id: str
    content_hash: str
    uid: str
    starts_at: datetime
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class ResourceState:
    """What one mailbox has published from one resource of one calendar."""

    calendar_id: str
    href: str
    etag: str
    revisit_at: datetime | None
    occurrences: Mapping[str, PublishedOccurrence] = field(default_factory=dict)
    deleted: bool = False

    def live_keys(self) -> set[str]:
        return {k for k, o in self.occurrences.items() if not o.cancelled}


@dataclass(frozen=True, slots=True)
class ResourceOutcome:
    events: tuple[EventSynced | EventCancelled, ...]
    state: ResourceState

    @property
    def synced(self) -> int:
        return sum(isinstance(e, EventSynced) for e in self.events)

    @property
    def cancelled(self) -> int:
        return sum(isinstance(e, EventCancelled) for e in self.events)


def resource_read(
    mailbox: Mailbox,
    *,
    calendar_id: str,
    href: str,
    etag: str,
    resource: CalendarResource,
    previous: ResourceState | None,
    window: SyncWindow,
    now: datetime,
) -> ResourceOutcome:
    """The events that bring consumers from `previous` to `resource`, and the new state.

    An occurrence missing now is cancelled when it would have been read had it still
    existed (its start lies in the window) or when its whole event is gone or cancelled;
    one that merely slid out of the window stays as it was published.
    """
    before = dict(previous.occurrences) if previous is not None else {}
    after = dict(before)
    events: list[EventSynced | EventCancelled] = []
    live = {o.key: o for o in resource.occurrences if not o.cancelled}
    for key, occurrence in live.items():
        last = before.get(key)
        content_hash = occurrence.content_hash
        if last is not None and not last.cancelled and last.content_hash == content_hash:
            continue
        chain = last.event_id if last is not None else f"{calendar_id}\x1f{href}"
        event = _event_synced(mailbox, occurrence, content_hash, chain)
        events.append(event)
        after[key] = PublishedOccurrence(
            event.event_id, content_hash, occurrence.uid, occurrence.starts_at
        )
    for key, last in sorted(before.items()):
        if key in live or last.cancelled:
            continue
        if last.starts_at in window or last.uid not in resource.live_uids:
            cancel = _event_cancelled(mailbox, key, last, now)
            events.append(cancel)
            after[key] = _tombstone(last, cancel)
    state = ResourceState(calendar_id, href, etag, resource.revisit_at, after)
    return ResourceOutcome(tuple(events), state)


def resource_deleted(previous: ResourceState, mailbox: Mailbox, now: datetime) -> ResourceOutcome:
    """The resource is gone: every occurrence still standing is cancelled."""
    events = []
    after = dict(previous.occurrences)
    for key, last in sorted(previous.occurrences.items()):
        if not last.cancelled:
            cancel = _event_cancelled(mailbox, key, last, now)
            events.append(cancel)
            after[key] = _tombstone(last, cancel)
    state = ResourceState(previous.calendar_id, previous.href, "", None, after, deleted=True)
    return ResourceOutcome(tuple(events), state)


def needs_revisit(revisit_at: datetime | None, window: SyncWindow) -> bool:
    """Unchanged on the server, but the window has moved onto occurrences not read yet
    (`revisit_at` of the resource's state)."""
    return revisit_at is not None and revisit_at < window.end


def _event_synced(
    mailbox: Mailbox, occurrence: Occurrence, content_hash: str, chain: str
) -> EventSynced:
    return EventSynced(
        event_id=ids.event_id(
            mailbox.workspace_id,
            "EventSynced",
            mailbox.mailbox_id,
            occurrence.key,
            content_hash,
            chain,
        ),
        workspace_id=mailbox.workspace_id,
        mailbox_id=mailbox.mailbox_id,
        member_id=mailbox.member_id,
        mailbox_owner_addresses=tuple(sorted(mailbox.owner_addresses)),
        calendar_event_key=occurrence.key,
        title=occurrence.title,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        organizer=occurrence.organizer,
        attendees=tuple(
            CalendarAttendee(address=a.address, display_name=a.display_name, rsvp=a.rsvp)
            for a in occurrence.attendees
        ),
        start_timezone=occurrence.start_timezone,
        all_day=occurrence.all_day,
        series_key=occurrence.series_key,
    )


def _event_cancelled(
    mailbox: Mailbox, key: str, last: PublishedOccurrence, now: datetime
) -> EventCancelled:
    return EventCancelled(
        event_id=ids.event_id(
            mailbox.workspace_id, "EventCancelled", mailbox.mailbox_id, key, last.event_id
        ),
        workspace_id=mailbox.workspace_id,
        mailbox_id=mailbox.mailbox_id,
        member_id=mailbox.member_id,
        calendar_event_key=key,
        cancelled_at=now,
    )


def _tombstone(last: PublishedOccurrence, cancel: EventCancelled) -> PublishedOccurrence:
    # Kept so that the occurrence coming back gets a new id, not the one consumers saw.
    return PublishedOccurrence(cancel.event_id, "", last.uid, last.starts_at, cancelled=True)
