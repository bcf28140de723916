"""A synthetic workspace: who is in it (its directory) and, lazily, its mail and calendar."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.workspaces.calendar import CalendarStream, Meeting
from bench.workspaces.mail import Mail, MailStream, render
from bench.workspaces.people import Company, Directory, Person, build_directory, default_members

END = datetime(2026, 11, 1, tzinfo=UTC)  # the last mail; it spans the two years before


@dataclass(frozen=True)
class Workspace:
    seed: int
    message_count: int  # distinct messages (Message-IDs)
    workspace_id: str
    end: datetime
    directory: Directory

    @property
    def own_domain(self) -> str:
        return self.directory.own_domain

    @property
    def members(self) -> tuple[Person, ...]:
        return self.directory.members

    @property
    def companies(self) -> tuple[Company, ...]:
        return self.directory.companies

    def mail(self) -> Iterator[Mail]:
        return iter(MailStream(self.directory, self.message_count, self.seed, self.end))

    def messages(self) -> Iterator[tuple[Person, bytes]]:
        for mail in self.mail():
            for holder in mail.holders:
                yield holder, render(mail, holder)

    def meetings(self) -> Iterator[Meeting]:
        return iter(CalendarStream(self.directory, self.message_count, self.seed, self.end))


def generate(
    messages: int, *, seed: int, members: int | None = None, end: datetime = END
) -> Workspace:
    """A workspace of `messages` distinct messages and `members` members (by default
    growing with the size: see `default_members`)."""
    if messages < 1:
        raise ValueError("a workspace needs at least one message")
    team = default_members(messages) if members is None else members
    if team < 2:
        raise ValueError("a workspace needs at least two members (colleagues write each other)")
    directory = build_directory(random.Random(f"directory:{seed}"), messages, team)
    return Workspace(seed, messages, f"synthetic-{seed}-{messages}", end, directory)
