"""Synthetic workspaces at any size (10k, 100k, 1M messages), generated from a seed.

`generate(100_000, seed=7)` describes a workspace: members on the own domain with
aliases, customer companies (Zipf-ranked: the first gets the most mail), free-mail
contacts, newsletters and machine senders. Its mail and calendar are produced lazily,
in time order, so memory stays flat as the size grows:

- `workspace.mail()`: the distinct messages (`Mail`: content, thread, holders, defect);
- `workspace.messages()`: (member, raw RFC 5322 bytes), one pair per mailbox a message
  sits in: a message between two colleagues comes twice, with one Message-ID;
- `workspace.meetings()`: `Meeting`s, each a VEVENT block and the members holding it.

`write(workspace, out_dir)` (bench/workspaces/writer.py) writes one mbox and one .ics
per member and a workspace.json, for the real import path. Size means distinct
messages: `generate(n, ...)` plans exactly n distinct Message-IDs, of which ~0.5% are
planted unreadable (quarantined by the product's parser).

Every random choice comes from `random.Random` seeded from the seed and a stable label,
never the clock, so a seed and size give byte-identical output.
"""

from bench.workspaces.calendar import Meeting
from bench.workspaces.mail import Mail, render
from bench.workspaces.people import Company, Person, company_count, default_members
from bench.workspaces.workspace import END, Workspace, generate
from bench.workspaces.writer import Written, measure, write

__all__ = [
    "END",
    "Company",
    "Mail",
    "Meeting",
    "Person",
    "Workspace",
    "Written",
    "company_count",
    "default_members",
    "generate",
    "measure",
    "render",
    "write",
]
