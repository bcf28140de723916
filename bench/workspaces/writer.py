"""A workspace on disk, as members would export it: `<address>.mbox` (mboxrd) and
`<address>.ics` per member, and `workspace.json` saying who is who, so a benchmark can
import every member's archive through the real ingest path (`commsintel import PATH
--member ID --owner-address ADDRESS`, or `IngestService.import_archive`)."""

from __future__ import annotations

import json
import resource
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC
from email.utils import parseaddr
from pathlib import Path

from bench.workspaces.mail import Mail, render
from bench.workspaces.workspace import Workspace, generate

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CALENDAR_HEAD = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//commsintel//synthetic workspace//EN\r\n"
    "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"
)


@dataclass(frozen=True)
class Written:
    distinct_messages: int
    mailbox_copies: int
    quarantined: int  # distinct messages planted unreadable
    damaged: int  # distinct messages planted dirty but readable
    meetings: int
    calendar_copies: int
    bytes: int
    manifest: Path


def write(workspace: Workspace, out_dir: Path) -> Written:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    members = workspace.members
    copies = dict.fromkeys((m.member_id for m in members), 0)
    events = dict.fromkeys((m.member_id for m in members), 0)
    distinct = quarantined = damaged = meetings = 0
    with ExitStack() as files:
        mboxes = {
            m.member_id: files.enter_context(_open(out_dir, m.address, "mbox")) for m in members
        }
        for mail in workspace.mail():
            distinct += 1
            quarantined += mail.quarantined
            damaged += bool(mail.defect) and not mail.quarantined
            for holder in mail.holders:
                mboxes[holder.member_id].write(_mbox_entry(mail, render(mail, holder)))
                copies[holder.member_id] += 1
    with ExitStack() as files:
        calendars = {
            m.member_id: files.enter_context(_open(out_dir, m.address, "ics")) for m in members
        }
        for calendar in calendars.values():
            calendar.write(_CALENDAR_HEAD.encode())
        for meeting in workspace.meetings():
            meetings += 1
            block = meeting.text.encode("utf-8")
            for holder in meeting.holders:
                calendars[holder.member_id].write(block)
                events[holder.member_id] += 1
        for calendar in calendars.values():
            calendar.write(b"END:VCALENDAR\r\n")
    manifest = out_dir / "workspace.json"
    counts = {
        "distinct_messages": distinct,
        "mailbox_copies": sum(copies.values()),
        "quarantined": quarantined,
        "damaged": damaged,
        "meetings": meetings,
        "calendar_copies": sum(events.values()),
        "companies": len(workspace.companies),
    }
    manifest.write_text(json.dumps(_manifest(workspace, counts, copies, events), indent=2) + "\n")
    size = sum(p.stat().st_size for p in out_dir.iterdir() if p.suffix in (".mbox", ".ics"))
    return Written(
        distinct, counts["mailbox_copies"], quarantined, damaged, meetings,
        counts["calendar_copies"], size, manifest,
    )  # fmt: skip


def measure(
    messages: int, *, seed: int = 7, members: int | None = None, out_dir: Path | None = None
) -> dict[str, float]:
    """Generate and write a workspace (into a temporary directory unless `out_dir`), and
    say what it holds and how long it took."""
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        workspace = generate(messages, seed=seed, members=members)
        written = write(workspace, Path(out_dir or scratch))
        seconds = time.perf_counter() - started
    return {
        "members": len(workspace.members),
        "companies": len(workspace.companies),
        "distinct_messages": written.distinct_messages,
        "mailbox_copies": written.mailbox_copies,
        "quarantined_planted": written.quarantined,
        "damaged_readable": written.damaged,
        "meetings": written.meetings,
        "calendar_copies": written.calendar_copies,
        "size_mb": written.bytes / 1e6,
        "seconds": seconds,
        "distinct_msgs_per_s": written.distinct_messages / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _open(out_dir: Path, address: str, suffix: str):
    return (out_dir / f"{address}.{suffix}").open("wb", buffering=256 * 1024)


def _manifest(workspace: Workspace, counts: dict, copies: dict, events: dict) -> dict:
    return {
        "generator": "bench.workspaces",
        "workspace_id": workspace.workspace_id,
        "seed": workspace.seed,
        "messages": workspace.message_count,
        "own_domain": workspace.own_domain,
        "end": workspace.end.isoformat(),
        "counts": counts,
        "members": [
            {
                "member_id": m.member_id,
                "name": m.name,
                "address": m.address,
                "aliases": list(m.aliases),
                "mbox": f"{m.address}.mbox",
                "ics": f"{m.address}.ics",
                "messages": copies[m.member_id],
                "meetings": events[m.member_id],
            }
            for m in workspace.members
        ],
    }


def _mbox_entry(mail: Mail, raw: bytes) -> bytes:
    """An mboxrd entry: a From_ line (envelope sender, UTC time), then the message with
    body lines matching /^>*From / quoted with one more '>'."""
    envelope = parseaddr(mail.content.sender[1])[1] or "MAILER-DAEMON"
    sent = mail.content.date.astimezone(UTC)
    day = f"{_WEEKDAYS[sent.weekday()]} {_MONTHS[sent.month - 1]} {sent.day:2d}"
    stamp = f"{day} {sent:%H:%M:%S} {sent.year}"
    if b"From " in raw:
        lines = raw.split(b"\n")
        raw = b"\n".join(b">" + x if x.lstrip(b">").startswith(b"From ") else x for x in lines)
    return f"From {envelope} {stamp}\n".encode() + raw.rstrip(b"\n") + b"\n\n"
