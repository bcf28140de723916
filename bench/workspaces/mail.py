"""The workspace's mail as one chronological stream of distinct messages.

Each message is planned once (who, when, which thread) and rendered once per member who
is a party to it, with the same Message-ID in every copy: a reply between two colleagues
sits in both their mailboxes, as it does in a real workspace. Only the open threads are
remembered (at most OPEN_THREADS, each with the root and the last REFERENCE_TAIL ids), so
memory stays flat however many messages are asked for.

Planted defects, by share of distinct messages:
- QUARANTINED (~0.5%): no From, no Date and no Received, or a Date nobody can read and no
  Received: the product's parser raises MalformedMessage on each.
- DAMAGED (~1%): readable but dirty (an unknown charset, an encoded word that does not
  decode, raw 8-bit bytes in a header, a text part declared base64 that is not): these
  parse, as they must in a real mailbox.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from bench.workspaces.people import REGIONS, Company, Directory, Person
from commsintel.sample_mailboxes import _Mail, _quote, _render

OPEN_THREADS = 400
REFERENCE_TAIL = 12
QUARANTINED_SHARE = 0.005
DAMAGED_SHARE = 0.03  # of new threads' draws: ~1% of all messages
REPLY_SHARE = 0.42
# What a new (non-reply) message is, by share.
_NEW_KINDS = ("customer", "internal", "free_mail", "newsletter", "notification")
_NEW_WEIGHTS = (0.50, 0.14, 0.08, 0.17, 0.11)
# Replies a new thread will get at most (it may be closed earlier when too many are open).
_REPLIES = {
    "customer": ((0, 1, 2, 3, 4, 6, 10, 16), (20, 22, 18, 14, 10, 8, 5, 3)),
    "internal": ((0, 1, 2, 3, 5), (30, 30, 20, 12, 8)),
    "free_mail": ((0, 1, 2, 4), (35, 35, 20, 10)),
}
ZIPF_EXPONENT = 1.05
QUARANTINE_DEFECTS = ("no_from", "no_date", "garbage_date")
DAMAGE_DEFECTS = ("unknown_charset", "bad_encoded_word", "raw_8bit_header", "bad_base64")

_CUSTOMER_SUBJECTS = (
    "{company}: intro", "Following up on today's call", "Proposal for {company}",
    "{company} renewal {year}", "Onboarding plan", "Question about the data export",
    "Security questionnaire", "Invoice {n}", "Meeting next week?", "QBR agenda \u2013 Q{q}",
    "Contract redlines", "Feature request: Salesforce sync", "Pilot results", "Checking in",
    "Sandbox access", "Updated order form", "Pricing question", "Angebot für {company}",
    "Suite à notre échange", "Support ticket {n}: login issue",
)  # fmt: skip
_INTERNAL_SUBJECTS = (
    "Pipeline review", "Can you cover the {company} call?", "Forecast for Q{q}",
    "Team offsite", "Handover: {company}", "Deal desk: {company} discount", "1:1 notes",
    "Hiring: account executive", "Board deck numbers", "Lunch?",
)  # fmt: skip
_FREE_MAIL_SUBJECTS = (
    "Catching up", "Introduction", "Quick question", "Coffee next week?", "Referral",
    "Your talk at the meetup", "Re: job opening", "Photos from Saturday",
)  # fmt: skip
_SENTENCES = (
    "Thanks for the time today, it was good to hear how the team is getting on.",
    "As promised, a short summary of where we landed and the next steps.",
    "Could you share the numbers from last quarter before {weekday}?",
    "We are happy to extend the pilot by two weeks if that helps.",
    "Legal came back with a few comments on the liability cap.",
    "The invoice should reflect the {n} seats we agreed on.",
    "Would {weekday} afternoon work for a 30 minute call?",
    "I have looped in a colleague who looks after onboarding.",
    "Our IT team wants to test the mailbox connection before rolling out.",
    "Attached is the updated plan with the dates we discussed.",
    "Let me know if anything in the proposal needs another look.",
    "The dashboard shows the last export from {weekday}, is that expected?",
    "We would like to add the partnerships team next month.",
    "Happy to walk through the numbers whenever suits.",
    "Sorry for the slow reply, it has been a busy week.",
    "Sounds good, let's go with that.",
    "Can we move our call to {weekday}? Something came up.",
    "Great news: the budget for {year} was approved.",
    "Grüße aus München, und danke für das Angebot.",
    "Merci pour votre retour rapide, c'est noté.",
)  # fmt: skip
_GREETINGS = ("Hi {first},", "Hello {first},", "{first},", "Hi {first},", "Dear {first},")
_CLOSINGS = ("Best,", "Thanks,", "Cheers,", "Kind regards,", "Best regards,")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_OUTLOOK_SERVERS = ("AM0PR04MB", "DB9PR08MB", "LO2P265MB", "SN6PR11MB")
_TEXT_ENCODING = re.compile(rb"Transfer-Encoding: (?:7bit|quoted-printable)")
_ZONES = {region: timezone(timedelta(minutes=spec[0])) for region, spec in REGIONS.items()}


@dataclass(frozen=True, slots=True)
class Mail:
    """One distinct message: its content, the members whose mailboxes hold it, and what
    was planted in it."""

    kind: str  # customer, internal, free_mail, newsletter, notification, quarantined
    content: _Mail
    thread_id: str  # Message-ID of the thread's first message
    holders: tuple[Person, ...]  # members who are a party (From, To, Cc or Bcc)
    defect: str = ""  # one of QUARANTINE_DEFECTS or DAMAGE_DEFECTS

    @property
    def message_id(self) -> str:
        return self.content.message_id

    @property
    def quarantined(self) -> bool:
        return self.defect in QUARANTINE_DEFECTS


@dataclass(slots=True)
class _Thread:
    kind: str
    subject: str
    company: Company | None
    ours: list[Person]
    theirs: list[Person]
    root: str
    tail: list[str]
    last: _Mail  # the last message, its text without the quote below it
    remaining: int
    outlook: bool


def zipf_weights(count: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Cumulative Zipf weights for ranks 1..count, for `random.choices(cum_weights=...)`."""
    return list(itertools.accumulate(1 / (rank + 1) ** exponent for rank in range(count)))


class MailStream:
    def __init__(self, directory: Directory, messages: int, seed: int, end: datetime) -> None:
        self.directory = directory
        self.messages = messages
        self.rng = random.Random(f"mail:{seed}")
        self.end = end
        self.span = timedelta(days=730)
        self.open: list[_Thread] = []
        self.company_weights = zipf_weights(len(directory.companies))
        self.free_mail_weights = zipf_weights(len(directory.free_mail))
        self.subscriptions = [
            [
                directory.newsletters[(m * 7 + j * 11) % len(directory.newsletters)]
                for j in range(3 + m % 5)
            ]
            for m in range(len(directory.members))
        ]
        self.number = 0
        self.when = end - self.span

    def __iter__(self) -> Iterator[Mail]:
        rng = self.rng
        for number in range(self.messages):
            self.number = number
            # Strictly increasing, spread evenly over the span: message n falls in slot n.
            self.when = self.end - self.span + self.span * ((number + rng.random()) / self.messages)
            draw = rng.random()
            if draw < QUARANTINED_SHARE:
                yield self._quarantined()
            elif self.open and rng.random() < REPLY_SHARE:
                yield self._reply(self.open[rng.randrange(len(self.open))])
            else:
                kind = rng.choices(_NEW_KINDS, _NEW_WEIGHTS)[0]
                mail = getattr(self, f"_{kind}")()
                if draw > 1 - DAMAGED_SHARE and not _from_a_member(mail):
                    mail = dataclasses.replace(mail, defect=rng.choice(DAMAGE_DEFECTS))
                yield mail

    # --- new threads -------------------------------------------------------------------

    def _customer(self) -> Mail:
        rng, directory = self.rng, self.directory
        company = directory.companies[self._zipf(self.company_weights)]
        owner = directory.members[rng.choice(company.owners)]
        ours = [owner]
        if len(directory.members) > 1 and rng.random() < 0.25:
            ours.append(self._colleague_of(ours))
        theirs = self._people_of(company, rng.choice((1, 1, 1, 2, 2, 3)))
        if rng.random() < 0.05:  # a consultant on a personal address
            theirs.append(directory.free_mail[self._zipf(self.free_mail_weights)])
        subject = self._subject(_CUSTOMER_SUBJECTS, company)
        return self._start("customer", subject, company, ours, theirs, company.outlook)

    def _internal(self) -> Mail:
        rng, members = self.rng, self.directory.members
        ours = rng.sample(members, min(len(members), rng.choice((2, 2, 2, 3, 4))))
        company = self.directory.companies[self._zipf(self.company_weights)]
        subject = self._subject(_INTERNAL_SUBJECTS, company)
        return self._start("internal", subject, None, ours, [], False)

    def _free_mail(self) -> Mail:
        rng, directory = self.rng, self.directory
        contact = directory.free_mail[self._zipf(self.free_mail_weights)]
        ours = [rng.choice(directory.members)]
        subject = rng.choice(_FREE_MAIL_SUBJECTS)
        return self._start("free_mail", subject, None, ours, [contact], False)

    def _start(
        self,
        kind: str,
        subject: str,
        company: Company | None,
        ours: list[Person],
        theirs: list[Person],
        outlook: bool,
    ) -> Mail:
        rng = self.rng
        we_start = not theirs or rng.random() < 0.6
        side, other = (ours, theirs) if we_start else (theirs, ours)
        sender = side[0]
        everyone = [p for p in (*other, *side) if p is not sender]
        to, cc = everyone[:1], everyone[1:]
        bcc: list[Person] = []
        if sender.is_member and rng.random() < 0.03 and len(self.directory.members) > len(ours):
            bcc.append(self._colleague_of(ours))
        text = self._letter(sender, to[0])
        message_id = self._message_id(sender, outlook and not sender.is_member)
        content = _Mail(
            date=self._local_time(sender),
            sender=(sender.name, sender.address),
            to=tuple(self._address(p) for p in to),
            cc=tuple(self._address(p) for p in cc),
            bcc=tuple(self._address(p) for p in bcc),
            subject=subject,
            message_id=message_id,
            text=text,
            html=outlook and not sender.is_member,
            extra_headers=self._received(sender),
        )
        replies = _REPLIES[kind]
        remaining = rng.choices(*replies)[0]
        if remaining:
            thread = _Thread(
                kind, subject, company, ours, theirs, message_id, [], content, remaining, outlook
            )
            self._keep_open(thread)
        holders = _members_of((sender, *to, *cc, *bcc))
        return Mail(kind, content, message_id, holders)

    # --- replies -----------------------------------------------------------------------

    def _reply(self, thread: _Thread) -> Mail:
        rng = self.rng
        last_sender = thread.last.sender[1].lower()
        ours_spoke = any(p.address == last_sender for p in thread.ours)
        side = thread.theirs if ours_spoke and thread.theirs else thread.ours
        candidates = [p for p in side if p.address != last_sender] or side
        sender = candidates[0] if rng.random() < 0.7 else rng.choice(candidates)
        if rng.random() < 0.1:  # the cc chain grows: someone pulls in a colleague
            self._widen(thread, sender)
        previous = next(
            (p for p in (*thread.ours, *thread.theirs) if p.address == last_sender), None
        )
        to = [previous] if previous is not None and previous is not sender else []
        rest = [p for p in (*thread.ours, *thread.theirs) if p is not sender and p not in to]
        if not to:
            to, rest = rest[:1], rest[1:]
        cc = rest if rng.random() < 0.85 else []
        outlook = thread.outlook and not sender.is_member
        letter = self._letter(sender, to[0])
        text = letter + "\n\n" + _quote(thread.last, outlook) if rng.random() < 0.6 else letter
        references = (thread.root, *thread.tail)
        content = _Mail(
            date=self._local_time(sender),
            sender=(sender.name, sender.address),
            to=tuple(self._address(p) for p in to),
            cc=tuple(self._address(p) for p in cc),
            subject=("RE: " if outlook else "Re: ") + thread.subject,
            message_id=self._message_id(sender, outlook),
            text=text,
            in_reply_to=thread.last.message_id,
            references=references,
            html=outlook,
            extra_headers=self._received(sender),
        )
        thread.tail = [*thread.tail, content.message_id][-REFERENCE_TAIL:]
        thread.last = dataclasses.replace(content, text=letter)
        thread.remaining -= 1
        if not thread.remaining:
            self.open.remove(thread)
        return Mail(thread.kind, content, thread.root, _members_of((sender, *to, *cc)))

    def _widen(self, thread: _Thread, sender: Person) -> None:
        if sender.is_member and len(self.directory.members) > len(thread.ours):
            thread.ours.append(self._colleague_of(thread.ours))
        elif thread.company is not None:
            extra = [p for p in thread.company.people if p not in thread.theirs]
            if extra:
                thread.theirs.append(extra[0])

    def _keep_open(self, thread: _Thread) -> None:
        if len(self.open) >= OPEN_THREADS:
            del self.open[0]  # the oldest goes quiet
        self.open.append(thread)

    # --- one-off mail ------------------------------------------------------------------

    def _newsletter(self) -> Mail:
        rng = self.rng
        index = rng.randrange(len(self.directory.members))
        member = self.directory.members[index]
        letter = rng.choice(self.subscriptions[index])
        sender = Person(letter.name, letter.address, "us-east")
        issue = self.number
        extra = (
            *self._received(sender),
            ("List-Id", f"{letter.name} <{letter.list_id}>"),
            (
                "List-Unsubscribe",
                f"<mailto:unsubscribe@{letter.host}>, <https://{letter.host}/u/{issue:x}>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"),
        )
        text = "\n\n".join(
            (
                f"{letter.name}, issue {issue}",
                *self._sentences(rng.randrange(6, 14)),
                f"Unsubscribe: https://{letter.host}/u/{issue:x}",
            )
        )
        return self._one_off(
            "newsletter", sender, member, f"{letter.name} #{issue}", text, extra, True
        )

    def _notification(self) -> Mail:
        rng = self.rng
        sender, subject = rng.choice(self.directory.machine_senders)
        member = rng.choice(self.directory.members)
        extra = (*self._received(sender), ("Auto-Submitted", "auto-generated"))
        text = "\n\n".join(self._sentences(rng.randrange(1, 4)))
        return self._one_off("notification", sender, member, subject, text, extra, False)

    def _quarantined(self) -> Mail:
        rng, directory = self.rng, self.directory
        company = directory.companies[self._zipf(self.company_weights)]
        sender = self._people_of(company, 1)[0]
        member = directory.members[company.owners[0]]
        mail = self._one_off(
            "quarantined", sender, member, "Following up", self._letter(sender, member), (), False
        )
        return dataclasses.replace(mail, defect=rng.choice(QUARANTINE_DEFECTS))

    def _one_off(self, kind, sender, member, subject, text, extra, html) -> Mail:
        host = sender.address.rpartition("@")[2]
        message_id = (
            f"<{self.when:%Y%m%d%H%M%S}.{self.number:x}.{self.rng.getrandbits(32):08x}@{host}>"
        )
        content = _Mail(
            date=self._local_time(sender),
            sender=(sender.name, sender.address),
            to=(self._address(member),),
            subject=subject,
            message_id=message_id,
            text=text,
            html=html,
            extra_headers=extra,
        )
        return Mail(kind, content, message_id, (member,))

    # --- pieces ------------------------------------------------------------------------

    def _zipf(self, cumulative: list[float]) -> int:
        return bisect.bisect(cumulative, self.rng.random() * cumulative[-1])

    def _people_of(self, company: Company, count: int) -> list[Person]:
        people = company.people
        chosen = {min(len(people) - 1, int(self.rng.paretovariate(1.0)) - 1) for _ in range(count)}
        return [people[index] for index in sorted(chosen)]

    def _colleague_of(self, ours: Sequence[Person]) -> Person:
        members = self.directory.members
        while True:
            colleague = members[self.rng.randrange(len(members))]
            if colleague not in ours:
                return colleague

    def _subject(self, subjects: tuple[str, ...], company: Company) -> str:
        rng = self.rng
        return rng.choice(subjects).format(
            company=company.name,
            n=rng.randrange(1000, 9999),
            q=rng.randint(1, 4),
            year=self.when.year,
        )

    def _sentences(self, count: int) -> list[str]:
        rng, when = self.rng, self.when
        return [
            rng.choice(_SENTENCES).format(
                weekday=rng.choice(_WEEKDAY_NAMES), n=rng.randrange(5, 500), year=when.year + 1
            )
            for _ in range(count)
        ]

    def _letter(self, sender: Person, to: Person) -> str:
        rng = self.rng
        first = to.name.split()[0]
        parts = [
            rng.choice(_GREETINGS).format(first=first),
            "",
            " ".join(self._sentences(rng.randrange(1, 5))),
        ]
        parts += ["", rng.choice(_CLOSINGS), sender.name.split()[0]]
        if sender.signature and rng.random() < 0.8:
            parts += ["", "-- ", sender.signature]
        return "\n".join(parts)

    def _address(self, person: Person) -> tuple[str, str]:
        """The address this message uses: mostly the primary one, now and then an alias
        or a provider's other spelling (googlemail.com, mixed case)."""
        rng, address = self.rng, person.address
        draw = rng.random()
        if person.aliases and draw < 0.12:
            address = rng.choice(person.aliases)
        elif draw < 0.03 and address.endswith("@gmail.com"):
            address = address.replace("@gmail.com", "@googlemail.com")
        elif draw < 0.02:
            local, _at, domain = address.partition("@")
            address = f"{local.title()}@{domain.title()}"
        return person.name, address

    def _local_time(self, sender: Person) -> datetime:
        return self.when.astimezone(_ZONES.get(sender.region, UTC))

    def _message_id(self, sender: Person, outlook: bool) -> str:
        bits, number = self.rng.getrandbits(64), self.number
        if outlook:
            server = _OUTLOOK_SERVERS[bits % 4] + str(1000 + bits % 9000)
            return f"<{server}{number:08X}{bits:016X}@{server}.prod.outlook.com>"
        domain = sender.address.rpartition("@")[2]
        if sender.is_member or domain in ("gmail.com", "googlemail.com"):
            return f"<CA{number:x}x{bits:016x}{bits >> 20:x}@mail.gmail.com>"
        return f"<{self.when:%Y%m%d%H%M%S}.{number:x}.{bits:012x}@{domain}>"

    def _received(self, sender: Person) -> tuple[tuple[str, str], ...]:
        if sender.is_member:
            return ()
        host = sender.address.rpartition("@")[2].lower()
        stamp = self.when.strftime("%a, %d %b %Y %H:%M:%S +0000")
        return (
            (
                "Received",
                f"from mx.{host} (mx.{host})\n\tby mx.{self.directory.own_domain} with ESMTPS "
                f"id {self.rng.getrandbits(40):010x}; {stamp}",
            ),
        )


def _from_a_member(mail: Mail) -> bool:
    return any(member.address == mail.content.sender[1] for member in mail.holders)


def _members_of(parties: Sequence[Person]) -> tuple[Person, ...]:
    return tuple(dict.fromkeys(p for p in parties if p.is_member))


# --- rendering ---------------------------------------------------------------------------


def render(mail: Mail, holder: Person) -> bytes:
    """The message as it sits in `holder`'s mailbox (only the sender's copy shows Bcc)."""
    raw = _render(mail.content, holder.address.lower())
    return _with_defect(raw, mail.defect) if mail.defect else raw


def _with_defect(raw: bytes, defect: str) -> bytes:
    head, _blank, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    if defect == "no_from":
        lines = [line for line in lines if not line.startswith(b"From: ")]
    elif defect == "no_date":
        lines = [line for line in lines if not line.startswith(b"Date: ")]
    elif defect == "garbage_date":
        lines = [
            b"Date: sometime last week" if line.startswith(b"Date: ") else line for line in lines
        ]
    elif defect == "bad_encoded_word":
        lines = [
            b"Subject: =?utf-8?q?=ZZ?= " + line[9:] if line.startswith(b"Subject: ") else line
            for line in lines
        ]
    elif defect == "raw_8bit_header":
        lines = [
            b"From: Gr\xfc\xdfe " + line[6:] if line.startswith(b"From: ") else line
            for line in lines
        ]
    elif defect == "unknown_charset":
        return raw.replace(b'charset="UTF-8"', b'charset="x-no-such-charset"', 1)
    elif defect == "bad_base64":  # a text part declared base64 that is plain text
        return _TEXT_ENCODING.sub(b"Transfer-Encoding: base64", raw, count=1)
    return b"\n".join(lines) + b"\n\n" + body
