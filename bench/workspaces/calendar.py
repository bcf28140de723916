"""The workspace's calendar: meetings with the same members and companies as its mail.

Every meeting is one VEVENT block (a series: its master and any moved occurrence, one
UID) written into the calendar of every member who organizes or attends it, with the
same UID and bytes in each, as a calendar server shares an invitation. The mix:
- weekly team meetings and 1:1s between colleagues, and fortnightly or monthly
  check-ins with the biggest accounts: RRULEs with COUNT or UNTIL, some with an EXDATE
  and a RECURRENCE-ID override;
- one-off meetings over the whole span, mostly with customers (Zipf over companies like
  the mail), some internal, a few all-day; ~5% cancelled (STATUS:CANCELLED);
- attendees with ROLE, RSVP and PARTSTAT (accepted, tentative, declined, needs-action;
  the further in the future, the more still need action).
Times are UTC, or local with an IANA TZID for the series.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench.workspaces.mail import zipf_weights
from bench.workspaces.people import Directory, Person

FUTURE = timedelta(days=90)  # meetings are booked up to this far past the last mail
_PARTSTATS = ("ACCEPTED", "TENTATIVE", "DECLINED", "NEEDS-ACTION")
_MEMBER_ZONES = {
    "uk": "Europe/London",
    "de": "Europe/Berlin",
    "us-east": "America/New_York",
    "us-west": "America/Los_Angeles",
}
_CUSTOMER_SUMMARIES = (
    "{company} <> {us}: intro", "Demo for {company}", "{company} QBR",
    "Pricing discussion, {company}", "Onboarding kick-off: {company}", "Security review",
    "Contract walkthrough", "Renewal call, {company}", "Technical deep dive",
)  # fmt: skip
_INTERNAL_SUMMARIES = (
    "Pipeline review", "Deal desk", "Forecast call", "Hiring sync", "Sales kick-off prep",
    "Account planning: {company}", "Retro", "Lunch & learn",
)  # fmt: skip
_LOCATIONS = (
    "https://zoom.us/j/{n}", "https://meet.google.com/{code}", "Room Orion, 3rd floor",
    "https://teams.microsoft.com/l/meetup-join/{n}", "Their office", "",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Meeting:
    uid: str
    holders: tuple[Person, ...]  # members who organize or attend it
    text: str  # one or more VEVENT blocks, CRLF line ends, folded at 75 octets
    recurring: bool
    cancelled: bool


def meeting_count(messages: int) -> int:
    """One-off meetings: one per 40 messages (10k -> 250, 1M -> 25,000)."""
    return max(20, messages // 40)


class CalendarStream:
    def __init__(self, directory: Directory, messages: int, seed: int, end: datetime) -> None:
        self.directory = directory
        self.rng = random.Random(f"calendar:{seed}")
        self.start = end - timedelta(days=730)
        self.end = end
        self.count = meeting_count(messages)
        self.company_weights = zipf_weights(len(directory.companies))
        self.number = 0

    def __iter__(self) -> Iterator[Meeting]:
        yield from self._series()
        span = self.end + FUTURE - self.start
        for number in range(self.count):
            when = self.start + span * ((number + self.rng.random()) / self.count)
            yield self._one_off(when)

    # --- series ------------------------------------------------------------------------

    def _series(self) -> Iterator[Meeting]:
        members, rng = self.directory.members, self.rng
        for team in range(0, len(members), 12):
            people = list(members[team : team + 12])
            if len(people) > 1:
                yield self._recurring("Weekly team meeting", people[0], people[1:], "WEEKLY", 1)
        for index in range(0, len(members) - 1, 2):
            manager, report = members[index], members[index + 1]
            yield self._recurring(
                f"1:1 {manager.name.split()[0]} / {report.name.split()[0]}",
                manager,
                [report],
                "WEEKLY",
                1,
            )
        for company in self.directory.companies[: 2 * len(members)]:
            owner = members[company.owners[0]]
            people = list(company.people[: rng.randint(1, 3)])
            interval = rng.choice((2, 4))
            yield self._recurring(f"{company.name} check-in", owner, people, "WEEKLY", interval)

    def _recurring(
        self, summary: str, organizer: Person, attendees: list[Person], freq: str, interval: int
    ) -> Meeting:
        rng = self.rng
        zone = ZoneInfo(_MEMBER_ZONES.get(organizer.region, "Europe/London"))
        first = self.start.date() + timedelta(days=rng.randrange(0, 200))
        first += timedelta(days=(rng.randrange(5) - first.weekday()) % 7)  # a weekday
        start = datetime.combine(first, time(rng.randint(9, 16), rng.choice((0, 30))), zone)
        length = timedelta(minutes=rng.choice((30, 30, 45, 60)))
        uid = self._uid()
        rule = f"FREQ={freq};INTERVAL={interval}" if interval > 1 else f"FREQ={freq}"
        if rng.random() < 0.5:
            rule += f";COUNT={rng.randint(10, 80)}"
        else:
            until = self.end + timedelta(days=rng.randrange(-200, 90))
            rule += f";UNTIL={until.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        lines = self._event(uid, summary, organizer, attendees, start, start + length, zone)
        lines.insert(-1, f"RRULE:{rule}")
        step = timedelta(weeks=interval)
        if rng.random() < 0.3:  # one occurrence skipped (a holiday)
            skipped = start + step * rng.randint(2, 8)
            lines.insert(-1, f"EXDATE;TZID={zone.key}:{skipped:%Y%m%dT%H%M%S}")
        text = _block(lines)
        if rng.random() < 0.3:  # one occurrence moved by an hour
            original = start + step * rng.randint(9, 12) if rng.random() < 0.5 else start + step
            moved = self._event(
                uid, summary, organizer, attendees, original + timedelta(hours=1),
                original + timedelta(hours=1) + length, zone, sequence=1,
            )  # fmt: skip
            moved.insert(-1, f"RECURRENCE-ID;TZID={zone.key}:{original:%Y%m%dT%H%M%S}")
            text += _block(moved)
        return Meeting(uid, _members_of(organizer, attendees), text, True, False)

    # --- one-off meetings --------------------------------------------------------------

    def _one_off(self, when: datetime) -> Meeting:
        rng, directory = self.rng, self.directory
        members = directory.members
        if rng.random() < 0.8:
            company = directory.companies[self._zipf()]
            owner = members[company.owners[0]]
            customers = list(company.people[: rng.randint(1, 3)])
            ours = [owner] + ([rng.choice(members)] if rng.random() < 0.3 else [])
            ours = list(dict.fromkeys(ours))
            organizer = owner if rng.random() < 0.7 else customers[0]
            attendees = [p for p in (*ours, *customers) if p is not organizer]
            summary = rng.choice(_CUSTOMER_SUMMARIES)
        else:
            company = directory.companies[self._zipf()]
            team = rng.sample(members, min(len(members), rng.randint(2, 6)))
            organizer, attendees = team[0], team[1:]
            summary = rng.choice(_INTERNAL_SUMMARIES)
        summary = summary.format(
            company=company.name, us=directory.own_domain.split(".")[0].title()
        )
        day = when.date()
        if day.weekday() >= 5:
            day += timedelta(days=7 - day.weekday())
        uid = self._uid()
        cancelled = rng.random() < 0.05
        if rng.random() < 0.02:  # an all-day offsite or visit
            lines = self._event(
                uid, summary, organizer, attendees, day, day + timedelta(days=1), None
            )
        else:
            start = datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30))), UTC)
            length = timedelta(minutes=rng.choice((15, 30, 30, 45, 60, 60, 90)))
            lines = self._event(uid, summary, organizer, attendees, start, start + length, None)
        if cancelled:
            lines = [
                "STATUS:CANCELLED"
                if line == "STATUS:CONFIRMED"
                else "SEQUENCE:2"
                if line.startswith("SEQUENCE:")
                else line
                for line in lines
            ]
        return Meeting(uid, _members_of(organizer, attendees), _block(lines), False, cancelled)

    # --- pieces ------------------------------------------------------------------------

    def _event(
        self,
        uid: str,
        summary: str,
        organizer: Person,
        attendees: list[Person],
        start: date | datetime,
        end: date | datetime,
        zone: ZoneInfo | None,
        sequence: int = 0,
    ) -> list[str]:
        rng = self.rng
        future = isinstance(start, datetime) and start.astimezone(UTC) > self.end - timedelta(
            days=14
        )
        lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{_utc_text(self.start)}"]
        lines += [_when("DTSTART", start, zone), _when("DTEND", end, zone)]
        lines += [f"SUMMARY:{_escaped(summary)}", f"SEQUENCE:{sequence}", "STATUS:CONFIRMED"]
        location = rng.choice(_LOCATIONS).format(
            n=rng.randrange(10**9, 10**10), code=f"{rng.getrandbits(40):010x}"
        )
        if location:
            lines.append(f"LOCATION:{_escaped(location)}")
        lines.append(f"ORGANIZER;CN={_param(organizer.name)}:mailto:{organizer.address}")
        lines.append(
            f"ATTENDEE;CN={_param(organizer.name)};ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:{organizer.address}"
        )
        weights = (20, 10, 5, 65) if future else (60, 10, 10, 20)
        for person in attendees:
            partstat = rng.choices(_PARTSTATS, weights)[0]
            role = "OPT-PARTICIPANT" if rng.random() < 0.1 else "REQ-PARTICIPANT"
            lines.append(
                f"ATTENDEE;CN={_param(person.name)};ROLE={role};PARTSTAT={partstat};RSVP=TRUE:"
                f"mailto:{person.address}"
            )
        lines.append("END:VEVENT")
        return lines

    def _uid(self) -> str:
        self.number += 1
        return f"{self.number:06d}-{self.rng.getrandbits(64):016x}@{self.directory.own_domain}"

    def _zipf(self) -> int:
        weights = self.company_weights
        return bisect.bisect(weights, self.rng.random() * weights[-1])


def _members_of(organizer: Person, attendees: list[Person]) -> tuple[Person, ...]:
    return tuple(dict.fromkeys(p for p in (organizer, *attendees) if p.is_member))


def _when(name: str, value: date | datetime, zone: ZoneInfo | None) -> str:
    if not isinstance(value, datetime):
        return f"{name};VALUE=DATE:{value:%Y%m%d}"
    if zone is None:
        return f"{name}:{_utc_text(value)}"
    return f"{name};TZID={zone.key}:{value.astimezone(zone):%Y%m%dT%H%M%S}"


def _utc_text(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _param(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ",;:") else value


def _block(lines: list[str]) -> str:
    return "".join(_folded(line) + "\r\n" for line in lines)


def _folded(line: str) -> str:
    """RFC 5545 3.1: lines of at most 75 octets, continued with CRLF and a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    pieces, current, size, limit = [], [], 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, 74
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)
