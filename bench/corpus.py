"""A mixed mail corpus for the ingest benchmarks, generated from a seed.

The sample workspace is tidy: short plain or alternative mail from a handful of
companies. Real mailboxes also hold what this module adds, in roughly these shares:
conversations in plain text (some quoted-printable, some CRLF exports), HTML mail with a
text alternative, attachments (PDFs and images of tens to a few hundred KB, base64),
names and subjects as RFC 2047 words in a dozen charsets or as raw UTF-8, IDNA domains,
long threads whose References headers carry dozens of ids, list mail with List-Id and
List-Unsubscribe, notifications from role senders, and a few broken messages (no From,
no usable date, lost boundaries, bad base64, unknown charsets, 8-bit junk in headers).

Every choice comes from one `random.Random(seed)`, never the clock, so a seed gives the
same bytes on every run; message ids carry a running number, so they never repeat.
"""

from __future__ import annotations

import base64
import quopri
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path

from commsintel.sample_mailboxes import SAMPLE_WORKSPACE, generate_sample_messages

OWNER = ("Robin Meyer", "robin@ours.example")
START = datetime(2024, 1, 1, tzinfo=UTC)

# (share, kind); the shares add up to 1.
KINDS = (
    (0.28, "conversation"),
    (0.20, "alternative"),
    (0.10, "long_thread"),
    (0.07, "attachment"),
    (0.16, "list"),
    (0.08, "international"),
    (0.07, "notification"),
    (0.04, "malformed"),
)

# (display name, charset it is sent in); None: raw UTF-8 bytes in the header, which
# RFC 5322 forbids and many clients write anyway.
_NAMES = (
    ("Jörg Müller", "iso-8859-1"),
    ("José Ortega", "iso-8859-1"),
    ("Søren Kierkegård", "utf-8"),
    ("François Lefèvre", "windows-1252"),
    ("Łukasz Żółkiewski", "iso-8859-2"),
    ("Antonín Dvořák", "utf-8"),
    ("Иван Петров", "koi8-r"),
    ("Мария Иванова", "windows-1251"),
    ("Ελένη Παππά", "iso-8859-7"),
    ("山田 太郎", "iso-2022-jp"),
    ("佐藤 花子", "shift_jis"),
    ("王 伟", "gb2312"),
    ("陳 美玲", "big5"),
    ("김민수", "euc-kr"),
    ("Zoë Ångström", None),
    ("Ahmet Y\u0131lmaz", "utf-8"),
)
_PLAIN_NAMES = (
    "Alice Martin", "Ben Okafor", "Carol Diaz", "Dave Chen", "Erin Walsh", "Frank Osei",
    "Grace Kim", "Hugo Laurent", "Irene Adler", "Jack Turner", "Karen O'Neil", "Liam Byrne",
    "Maya Patel", "Noah Fischer", "Olivia Rossi", "Paul Novak", "Quinn Harper", "Rosa Vega",
)  # fmt: skip
_DOMAINS = (
    "acme.example", "globex.example", "initech.example", "umbrella.example",
    "gmail.com", "outlook.com", "fastmail.com", "hooli.example", "stark.example",
)  # fmt: skip
_IDNA_DOMAINS = ("münchen.de", "straße.example", "bücher.example", "пример.рф", "例え.jp")
_SUBJECTS = (
    "Quarterly review", "Re: contract renewal", "Invoice {n}", "Lunch on Thursday?",
    "Proposal draft v{n}", "Meeting notes", "Question about the API", "Travel plans",
    "Budget {n}", "Follow-up from our call",
)  # fmt: skip
_INTERNATIONAL_SUBJECTS = (
    ("Grüße aus München \u2013 Angebot {n}", "windows-1252"),
    ("Réunion de l'équipe № {n}", "utf-8"),
    ("Отчёт за квартал {n}", "koi8-r"),
    ("会議の議事録 {n}", "iso-2022-jp"),
    ("見積書の件 {n}", "shift_jis"),
    ("季度报告 {n}", "gb2312"),
    ("Προσφορά {n}", "iso-8859-7"),
    ("Zażółć gęślą jaźń {n}", "iso-8859-2"),
    ("Ça va? 🙂 {n}", None),
)
_WORDS = (
    "the", "contract", "we", "agreed", "next", "week", "pricing", "update", "team",
    "please", "review", "attached", "numbers", "customer", "renewal", "schedule", "call",
    "thanks", "for", "your", "patience", "deadline", "shipping", "invoice", "München",
    "café", "naïve", "résumé", "Straße", "€", "—", "déjà", "vu", "and", "with", "from",
)  # fmt: skip
_LISTS = (
    ("Python announce", "python-announce-list.python.org", "python-announce"),
    ("Product updates", "news.globex.example", "news"),
    ("Kubernetes dev", "kubernetes-dev.googlegroups.com", "kubernetes-dev"),
    ("Hacker Newsletter", "hackernewsletter.example", "hn"),
)
_NOTIFIERS = (
    "noreply@github.com", "notifications@jira.initech.example", "no-reply@accounts.example",
    "do-not-reply@billing.globex.example", "MAILER-DAEMON@mx.acme.example",
    "bounces+12345@mail.stark.example",
)  # fmt: skip
_ZONES = (0, 1, 2, -5, -8, 9, 5.5, -3)


@dataclass
class _Thread:
    subject: str
    people: list[str]
    ids: list[str] = field(default_factory=list)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.number = 0
        self.when = START
        self.threads: list[_Thread] = []
        self.people = [self._person() for _ in range(400)]
        # A few distinct blobs, encoded once: generating fresh random megabytes for each
        # attachment would make the generator, not the parser, the slow part.
        self.attachments = [self._attachment(index) for index in range(12)]

    # --- people and addresses ------------------------------------------------------

    def _person(self) -> str:
        rng = self.rng
        domain = rng.choice(_DOMAINS)
        if rng.random() < 0.12:
            domain = _ascii_domain(rng.choice(_IDNA_DOMAINS), upper=rng.random() < 0.3)
        local = f"{rng.choice(_PLAIN_NAMES).split()[0].lower()}.{rng.randrange(1000)}"
        if rng.random() < 0.1:
            local = local.capitalize()  # mixed case: the parser lowercases
        if rng.random() < 0.35:
            name, charset = rng.choice(_NAMES)
            return f"{_encoded(name, charset)} <{local}@{domain}>"
        name = rng.choice(_PLAIN_NAMES)
        return (
            formataddr((name, f"{local}@{domain}")) if rng.random() < 0.9 else local + "@" + domain
        )

    def _recipients(self, count: int) -> str:
        return ",\n ".join(self.rng.sample(self.people, count))

    # --- headers -------------------------------------------------------------------

    def _next_id(self, domain: str = "corpus.example") -> str:
        self.number += 1
        return f"<{self.number}.{self.rng.getrandbits(40):010x}@{domain}>"

    def _date(self) -> str:
        self.when += timedelta(seconds=self.rng.randrange(30, 3600))
        zone = timezone(timedelta(hours=self.rng.choice(_ZONES)))
        text = format_datetime(self.when.astimezone(zone))
        return text + " (UTC)" if self.rng.random() < 0.05 else text

    def _received(self) -> list[str]:
        hops = []
        for hop in range(self.rng.randrange(1, 5)):
            hops.append(
                f"Received: from mx{hop}.relay.example (mx{hop}.relay.example [192.0.2.{hop}])\n"
                f"\tby mail.ours.example with ESMTPS id {self.rng.getrandbits(48):012x}\n"
                f"\tfor <{OWNER[1]}>; {format_datetime(self.when)}"
            )
        return hops

    def _envelope(self, sender: str, to: str, subject: str, message_id: str) -> list[str]:
        return [
            *self._received(),
            f"Date: {self._date()}",
            f"From: {sender}",
            f"To: {to}",
            f"Subject: {subject}",
            f"Message-ID: {message_id}",
            "MIME-Version: 1.0",
        ]

    def _sender_and_to(self) -> tuple[str, str]:
        owner = formataddr(OWNER)
        if self.rng.random() < 0.3:
            return owner, self._recipients(self.rng.randrange(1, 4))
        to = owner if self.rng.random() < 0.7 else f"{owner},\n {self._recipients(2)}"
        return self.rng.choice(self.people), to

    # --- bodies --------------------------------------------------------------------

    def _text(self, words: int) -> str:
        rng = self.rng
        lines, line = [], []
        for _ in range(words):
            line.append(rng.choice(_WORDS))
            if len(line) > rng.randrange(8, 30):
                lines.append(" ".join(line))
                line = []
        lines.append(" ".join(line))
        return "\n".join(lines) + "\n\n-- \nRobin Meyer\nOurs Ltd. | +49 30 1234567\n"

    def _text_part(self, text: str, subtype: str = "plain") -> str:
        encoding = self.rng.choice(("quoted-printable", "quoted-printable", "8bit", "base64"))
        if encoding == "quoted-printable":
            payload = quopri.encodestring(text.encode("utf-8")).decode("ascii")
        elif encoding == "base64":
            payload = base64.encodebytes(text.encode("utf-8")).decode("ascii")
        else:
            payload = text
        return (
            f'Content-Type: text/{subtype}; charset="utf-8"\n'
            f"Content-Transfer-Encoding: {encoding}\n\n{payload}\n"
        )

    def _html(self, text: str) -> str:
        paragraphs = "".join(f'<p style="margin:0">{line}</p>\n' for line in text.split("\n"))
        style = "<style>p {font-family: Arial}</style>"
        return f"<html><head>{style}</head><body>\n{paragraphs}</body></html>"

    def _alternative(self, text: str) -> str:
        return _multipart(
            "alternative",
            f"alt{self.number}",
            [self._text_part(text), self._text_part(self._html(text), "html")],
        )

    def _attachment(self, index: int) -> tuple[str, str, str]:
        kind = ("pdf", "png", "jpeg")[index % 3]
        size = self.rng.randrange(20_000, 400_000)
        magic = {"pdf": b"%PDF-1.4\n", "png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff\xe0"}
        content = magic[kind] + self.rng.randbytes(size)
        content_type = "application/pdf" if kind == "pdf" else f"image/{kind}"
        return f"scan-{index}.{kind}", content_type, base64.encodebytes(content).decode("ascii")

    # --- kinds ---------------------------------------------------------------------

    def conversation(self) -> list[str]:
        sender, to = self._sender_and_to()
        subject = self.rng.choice(_SUBJECTS).format(n=self.number)
        headers = self._envelope(sender, to, subject, self._next_id())
        body = self._text_part(self._text(self.rng.randrange(20, 300)))
        return [*headers, body]

    def alternative(self) -> list[str]:
        sender, to = self._sender_and_to()
        subject = self.rng.choice(_SUBJECTS).format(n=self.number)
        headers = self._envelope(sender, to, subject, self._next_id())
        cc = f"Cc: {self._recipients(self.rng.randrange(1, 6))}"
        return [*headers, cc, self._alternative(self._text(self.rng.randrange(40, 400)))]

    def long_thread(self) -> list[str]:
        rng = self.rng
        if not self.threads or rng.random() < 0.08:
            people = rng.sample(self.people, rng.randrange(2, 8))
            self.threads.append(_Thread(rng.choice(_SUBJECTS).format(n=self.number), people))
            self.threads = self.threads[-20:]
        thread = rng.choice(self.threads)
        message_id = self._next_id()
        sender, subject = rng.choice(thread.people), f"Re: {thread.subject}"
        headers = self._envelope(sender, formataddr(OWNER), subject, message_id)
        if thread.ids:
            headers.append(f"In-Reply-To: {thread.ids[-1]}")
            headers.append("References: " + "\n ".join(thread.ids[:1] + thread.ids[-80:]))
        headers.append("Cc: " + ",\n ".join(thread.people))
        thread.ids.append(message_id)
        quoted = "".join(f"> {line}\n" for line in self._text(rng.randrange(50, 400)).split("\n"))
        return [*headers, self._text_part(self._text(rng.randrange(10, 80)) + quoted)]

    def attachment(self) -> list[str]:
        sender, to = self._sender_and_to()
        headers = self._envelope(sender, to, f"Documents {self.number}", self._next_id())
        parts = [self._alternative(self._text(self.rng.randrange(20, 100)))]
        for _ in range(1 if self.rng.random() < 0.8 else 2):
            filename, content_type, encoded = self.rng.choice(self.attachments)
            if self.rng.random() < 0.3:
                filename = Header(f"Übersicht {filename}", "utf-8").encode()
            parts.append(
                f'Content-Type: {content_type}; name="{filename}"\n'
                f'Content-Disposition: attachment; filename="{filename}"\n'
                f"Content-Transfer-Encoding: base64\n\n{encoded}"
            )
        return [*headers, _multipart("mixed", f"mix{self.number}", parts)]

    def list_mail(self) -> list[str]:
        name, host, local = self.rng.choice(_LISTS)
        sender = formataddr((name, f"{local}@{host}"))
        subject = f"[{local}] {self.rng.choice(_SUBJECTS).format(n=self.number)}"
        headers = self._envelope(sender, formataddr(OWNER), subject, self._next_id(host))
        headers += [
            f"List-Id: {name} <{local}.{host}>",
            f"List-Unsubscribe: <mailto:{local}-leave@{host}>, <https://{host}/u/{self.number}>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Precedence: list" if self.rng.random() < 0.6 else "Precedence: bulk",
        ]
        return [*headers, self._alternative(self._text(self.rng.randrange(200, 900)))]

    def international(self) -> list[str]:
        subject, charset = self.rng.choice(_INTERNATIONAL_SUBJECTS)
        name, name_charset = self.rng.choice(_NAMES)
        sender = f"{_encoded(name, name_charset)} <{self.rng.randrange(999)}@" + (
            _ascii_domain(self.rng.choice(_IDNA_DOMAINS), upper=False) + ">"
        )
        encoded_subject = _encoded(subject.format(n=self.number), charset)
        headers = self._envelope(sender, formataddr(OWNER), encoded_subject, self._next_id())
        text = f"{name}\n{subject}\n" + self._text(self.rng.randrange(20, 200))
        return [*headers, self._alternative(text)]

    def notification(self) -> list[str]:
        sender = self.rng.choice(_NOTIFIERS)
        subject = f"[ticket #{self.number}] status changed"
        headers = self._envelope(sender, formataddr(OWNER), subject, self._next_id())
        headers.append("Auto-Submitted: auto-generated")
        headers.append(f"X-GitHub-Reason: {self.rng.choice(['mention', 'review_requested'])}")
        return [*headers, self._alternative(self._text(self.rng.randrange(20, 120)))]

    def malformed(self) -> list[str]:
        rng = self.rng
        sender, to = self._sender_and_to()
        message_id = self._next_id()
        text = self._text(rng.randrange(10, 60))
        case = rng.randrange(10)
        headers = self._envelope(sender, to, "broken", message_id)
        if case == 0:  # no From: quarantined
            headers = [h for h in headers if not h.startswith("From:")]
        elif case == 1:  # no usable date anywhere: quarantined
            headers = [h for h in headers if not h.startswith(("Date:", "Received:"))]
        elif case == 2:  # garbage date, Received has one
            headers = [h if not h.startswith("Date:") else "Date: yesterday-ish" for h in headers]
        elif case == 3:  # the closing and inner boundaries never come
            return [*headers, 'Content-Type: multipart/mixed; boundary="lost"\n\n' + text]
        elif case == 4:  # base64 cut short, bad padding
            _filename, content_type, encoded = rng.choice(self.attachments)
            cut = encoded[: rng.randrange(100, 5000)] + "=\n"
            part = f"Content-Type: {content_type}\nContent-Transfer-Encoding: base64\n\n{cut}"
            return [*headers, _multipart("mixed", "cut", [self._text_part(text), part])]
        elif case == 5:  # unknown charsets in a name and the body
            headers.append("Cc: =?x-unknown?q?Mr_X?= <x@acme.example>")
            return [*headers, f"Content-Type: text/plain; charset=x-made-up\n\n{text}"]
        elif case == 6:  # encoded words that do not decode
            headers.append("Reply-To: =?utf-8?b?!!!not-base64?= <r@acme.example>")
            headers = [h.replace("Subject: broken", "Subject: =?utf-8?q?=ZZ?=") for h in headers]
        elif case == 7:  # nested multiparts, 40 deep
            body = "".join(
                f'Content-Type: multipart/mixed; boundary="n{i}"\n\n--n{i}\n' for i in range(40)
            )
            return [*headers, body + self._text_part(text)]
        elif case == 8:  # a header line without a colon, a NUL, a lone CR
            headers.insert(3, "This line is not a header")
            headers.append("X-Junk: a\x00b\rc")
        else:  # In-Reply-To with prose around the id, References without brackets
            headers.append(f"In-Reply-To: Your message of Monday {message_id[1:-1]}")
            headers.append("References: 1@a.example 2@b.example")
        return [*headers, self._text_part(text)]


def labelled_messages(count: int, *, seed: int = 23) -> Iterator[tuple[str, bytes]]:
    """`count` (kind, raw message) pairs of the kinds in KINDS; message ids never repeat."""
    generator = _Generator(seed)
    shares = [share for share, _kind in KINDS]
    names = [kind for _share, kind in KINDS]
    for _ in range(count):
        kind = generator.rng.choices(names, shares)[0]
        lines = getattr(generator, "list_mail" if kind == "list" else kind)()
        raw = "\n".join(lines).encode("utf-8", "surrogateescape")
        if generator.rng.random() < 0.1:  # exported from Windows
            raw = raw.replace(b"\n", b"\r\n")
        yield kind, raw


def synthetic_messages(count: int, *, seed: int = 23) -> Iterator[bytes]:
    return (raw for _kind, raw in labelled_messages(count, seed=seed))


def sample_workspace_messages() -> list[bytes]:
    """The sample workspace's mail, every member's mailbox (a shared message twice)."""
    return [raw for member in SAMPLE_WORKSPACE.members for raw in generate_sample_messages(member)]


def owner_addresses() -> frozenset[str]:
    return frozenset({OWNER[1], *(member.address for member in SAMPLE_WORKSPACE.members)})


def parsing_corpus(synthetic: int = 3000, *, seed: int = 23) -> list[bytes]:
    """The sample workspace followed by `synthetic` messages of the mixed kinds."""
    return sample_workspace_messages() + list(synthetic_messages(synthetic, seed=seed))


def write_mbox(path: Path, count: int, *, seed: int = 23, on_progress=None) -> int:
    """An mboxrd file of `count` messages, streamed: the first member's sample mailbox,
    then mixed messages. Returns the file's size in bytes."""
    first = SAMPLE_WORKSPACE.members[0]
    messages = (
        raw
        for source in (generate_sample_messages(first), synthetic_messages(count, seed=seed))
        for raw in source
    )
    written = 0
    with path.open("wb") as mbox:
        for number, raw in enumerate(messages, start=1):
            if number > count:
                break
            mbox.write(_mbox_entry(raw, number))
            written += 1
            if on_progress is not None and number % 10_000 == 0:
                on_progress(number)
        return mbox.tell()


def _mbox_entry(raw: bytes, number: int) -> bytes:
    stamp = (START + timedelta(minutes=number)).strftime("%a %b %d %H:%M:%S %Y")
    lines = raw.rstrip(b"\r\n").split(b"\n")
    escaped = [b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines]
    return f"From corpus@ours.example {stamp}\n".encode() + b"\n".join(escaped) + b"\n\n"


def _multipart(subtype: str, boundary: str, parts: list[str]) -> str:
    body = "".join(f"--{boundary}\n{part}\n" for part in parts)
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n{body}--{boundary}--\n'


def _encoded(text: str, charset: str | None) -> str:
    """Header text as a sender's client writes it: RFC 2047 words, or raw UTF-8."""
    if charset is None:
        return f'"{text}"'
    return Header(text, charset).encode()


def _ascii_domain(domain: str, *, upper: bool) -> str:
    labels = [
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        for label in domain.split(".")
    ]
    joined = ".".join(labels)
    return joined.upper() if upper else joined
