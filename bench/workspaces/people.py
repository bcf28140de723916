"""Who is in a synthetic workspace: members on the own domain (with aliases), customer
companies with their people, free-mail contacts, newsletters and machine senders.

Built once per workspace from its seed; its size grows with the number of companies
(sub-linearly in the message count), never with the messages themselves.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from commsintel.sample_mailboxes import _local_part

# Regions: UTC offset in minutes, the top-level domains their companies use, the phone
# pattern of their signatures ("#" is a digit).
REGIONS = {
    "uk": (0, (".co.uk", ".com", ".io"), "+44 20 7946 0###"),
    "de": (60, (".de", ".com"), "+49 30 5555 ###"),
    "fr": (60, (".fr", ".com"), "+33 1 99 00 ## ##"),
    "nl": (60, (".nl", ".com"), "+31 20 555 ####"),
    "se": (60, (".se", ".com"), "+46 8 555 ### ##"),
    "us-east": (-300, (".com", ".io", ".co"), "+1 212-555-01##"),
    "us-west": (-480, (".com", ".io", ".ai"), "+1 415-555-01##"),
    "au": (600, (".com.au", ".com"), "+61 2 5550 ####"),
    "jp": (540, (".co.jp", ".jp"), "+81 3-5555-####"),
    "in": (330, (".in", ".co.in", ".com"), "+91 22 5555 ####"),
}
_REGION_WEIGHTS = (20, 10, 6, 4, 3, 25, 15, 6, 4, 7)

_FIRST = (
    "Alice", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Kate", "Liam", "Maya", "Noah", "Olivia", "Priya", "Quentin", "Rosa", "Sam", "Tara",
    "Umar", "Vera", "Will", "Xin", "Yara", "Zoe", "Aiden", "Bianca", "Carlos", "Dana",
    "Elif", "Felix", "Gemma", "Hamid", "Ivy", "Jack", "Kiran", "Lena", "Mateo", "Nina",
    "Oscar", "Paula", "Rafael", "Sofia", "Tomás", "Ulla", "Viktor", "Wen", "Yusuf", "Zara",
    "Jürgen", "Søren", "José", "Łukasz", "Zoë", "François", "Ciarán", "Björn", "Anaïs", "Renée",
)  # fmt: skip
_LAST = (
    "Martin", "Okafor", "Nakamura", "Alvarez", "Smith", "Haddad", "Kim", "Laurent", "Costa",
    "Berg", "Walsh", "Byrne", "Patel", "Fischer", "Rossi", "Shah", "Dubois", "Vega", "Lee",
    "Singh", "Khan", "Novak", "Turner", "Chen", "Said", "Hughes", "Reed", "Schmidt", "Santos",
    "Cole", "Yilmaz", "Wagner", "Price", "Rahman", "Grant", "Murphy", "Rao", "Keller", "Silva",
    "Brooks", "Jensen", "Moreau", "Ito", "Wright", "Bauer", "Olsen", "Ward", "Mendes", "Park",
    "Müller", "Schröder", "Lefèvre", "Nilsen", "Martínez", "Weiß", "Ångström", "Żółkiewski",
)  # fmt: skip
# (display name, romanized for the address): names written in their own script.
_NATIVE_NAMES = (
    ("山田 太郎", "Taro Yamada"), ("佐藤 花子", "Hanako Sato"), ("王 伟", "Wei Wang"),
    ("Иван Петров", "Ivan Petrov"), ("Ελένη Παππά", "Eleni Pappa"), ("김민수", "Minsu Kim"),
)  # fmt: skip
_TITLES = (
    "Head of Procurement", "VP Sales", "Operations Director", "Head of IT", "CFO",
    "Customer Success Lead", "Senior Buyer", "Head of Partnerships", "Managing Director",
    "Engineering Manager", "Office Manager", "Product Lead",
)  # fmt: skip
_MEMBER_TITLES = ("Account Executive", "Head of Sales", "Customer Success", "Solutions Engineer")
_SYLLABLES = (
    "ac", "al", "ar", "bel", "bri", "cal", "cor", "dal", "den", "el", "fen", "gal", "har",
    "in", "jun", "kel", "lan", "lum", "mar", "mer", "nor", "nov", "or", "pal", "per", "quil",
    "ran", "ros", "sal", "sol", "tal", "ter", "tor", "ul", "val", "ver", "wen", "xan", "yor",
    "zen", "bra", "cre", "dru", "fra", "glo", "kra", "pri", "tri",
)  # fmt: skip
_COMPANY_WORDS = (
    "Logistics", "Labs", "Health", "Capital", "Foods", "Software", "Retail", "Energy",
    "Analytics", "Freight", "Media", "Robotics", "Payments", "Pharma", "Security", "Systems",
    "Studios", "Partners", "Insurance", "Mobility", "Hotels", "Learning", "Instruments", "",
)  # fmt: skip
_ADDRESS_STYLES = ("first.last", "first.last", "first.last", "flast", "first", "first-last")
FREE_MAIL = (
    "gmail.com", "gmail.com", "gmail.com", "outlook.com", "hotmail.com", "yahoo.com",
    "icloud.com", "proton.me", "gmx.de", "web.de",
)  # fmt: skip
_SPELLED_OUT = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "\u0131": "i"})
_OWN_DOMAINS = ("tallowcrm.io", "bluecanoe.com", "northpeak.io", "harbourline.co.uk")
_MACHINE_SENDERS = (
    ("GitHub", "noreply@github.com", "[GitHub] A new sign-in to your account"),
    ("Zoom", "no-reply@zoom.us", "Cloud recording is now available"),
    ("DocuSign", "dse_na2@docusign.net", "Completed: please review the signed contract"),
    ("Google", "no-reply@accounts.google.com", "Security alert"),
    ("Stripe", "notifications@stripe.com", "Your receipt from Stripe"),
    ("Linear", "notifications@linear.app", "Weekly digest: 12 issues updated"),
    ("Jira", "jira@{own}", "[JIRA] Ticket assigned to you"),
    ("Mail Delivery Subsystem", "mailer-daemon@{own}", "Undelivered Mail Returned to Sender"),
    ("Expensify", "do-not-reply@expensify.com", "Expense report approved"),
    ("Slack", "no_reply@slack.com", "You have unread messages"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Person:
    """A member (member_id set, aliases on the own domain) or anyone they correspond with."""

    name: str
    address: str
    region: str
    signature: str = ""
    member_id: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def is_member(self) -> bool:
        return bool(self.member_id)

    @property
    def addresses(self) -> tuple[str, ...]:
        return (self.address, *self.aliases)


@dataclass(frozen=True, slots=True)
class Company:
    name: str
    domain: str  # registrable domain
    region: str
    people: tuple[Person, ...]
    owners: tuple[int, ...]  # member indexes; two owners make a shared account
    outlook: bool  # Outlook clients: "RE:", html alternative, Exchange Message-IDs


@dataclass(frozen=True, slots=True)
class Newsletter:
    name: str
    address: str
    list_id: str
    host: str


@dataclass(frozen=True, slots=True)
class Directory:
    own_domain: str
    members: tuple[Person, ...]
    companies: tuple[Company, ...]  # by Zipf rank: the first gets the most mail
    free_mail: tuple[Person, ...]  # by Zipf rank too
    newsletters: tuple[Newsletter, ...]
    machine_senders: tuple[tuple[Person, str], ...]  # (sender, subject)


def default_members(messages: int) -> int:
    """10k messages -> 10 members, 100k -> ~45, 1M -> ~200: teams grow with their mail."""
    return max(3, min(200, round(messages**0.65 / 40)))


def company_count(messages: int) -> int:
    """10k -> ~500 companies, 100k -> ~2,000, 1M -> ~8,000."""
    return max(20, round(2 * messages**0.6))


def build_directory(rng: random.Random, messages: int, members: int) -> Directory:
    own_domain = rng.choice(_OWN_DOMAINS)
    team = _members(rng, members, own_domain)
    syllables = list(_SYLLABLES)
    rng.shuffle(syllables)
    companies = tuple(
        _company(rng, rank, syllables, members) for rank in range(company_count(messages))
    )
    free_mail = tuple(_free_mail_contact(rng) for _ in range(max(40, messages // 250)))
    newsletters = tuple(_newsletter(rng, index, syllables) for index in range(30))
    machines = tuple(
        (_machine(name, address.format(own=own_domain)), subject)
        for name, address, subject in _MACHINE_SENDERS
    )
    return Directory(own_domain, team, companies, free_mail, newsletters, machines)


def _person(name: str, address: str, region: str, signature: str = "", **member) -> Person:
    return Person(name, address, region, signature, **member)


def _name(rng: random.Random) -> tuple[str, str]:
    """(display name, name the address is made from)."""
    if rng.random() < 0.03:
        return rng.choice(_NATIVE_NAMES)
    name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    return name, name


def _members(rng: random.Random, count: int, own_domain: str) -> tuple[Person, ...]:
    taken: set[str] = set()
    team = []
    company = own_domain.split(".")[0].title()
    for index in range(count):
        name, plain = _name(rng)
        first, flast, full = (_ascii_local(plain, s) for s in ("first", "flast", "first.last"))
        primary = next(p for p in (first, flast, full, f"{full}{index}") if p not in taken)
        aliases = [a for a in (full, flast) if a != primary and a not in taken]
        if rng.random() < 0.3:
            aliases = aliases[:1]
        taken.update((primary, *aliases))
        region = rng.choices(("uk", "us-east", "us-west", "de"), (5, 3, 2, 1))[0]
        title = rng.choice(_MEMBER_TITLES)
        signature = f"{name}\n{title} | {company}\n{_phone(rng, region)}\nhttps://{own_domain}"
        team.append(
            _person(
                name,
                f"{primary}@{own_domain}",
                region,
                signature,
                member_id=primary,
                aliases=tuple(f"{alias}@{own_domain}" for alias in aliases),
            )
        )
    return tuple(team)


def _company(rng: random.Random, rank: int, syllables: list[str], members: int) -> Company:
    core = _core(rank, syllables)
    word = rng.choice(_COMPANY_WORDS)
    region = rng.choices(list(REGIONS), _REGION_WEIGHTS)[0]
    domain = core + rng.choice(REGIONS[region][1])
    mail_domain = f"mail.{domain}" if rng.random() < 0.05 else domain
    name = f"{core.title()} {word}".strip()
    # Big accounts have many contacts, most have a handful (heavy tailed, capped).
    size = min(40, int(rng.paretovariate(1.3)) + (6 if rank < 10 else 1))
    style = rng.choice(_ADDRESS_STYLES)
    people, taken = [], set()
    for _ in range(size):
        person_name, plain = _name(rng)
        local = _ascii_local(plain, style)
        while local in taken:
            local += str(rng.randrange(10))
        taken.add(local)
        signature = ""
        if rng.random() < 0.7:
            signature = (
                f"{person_name}\n{rng.choice(_TITLES)}, {name}\n{_phone(rng, region)}\nwww.{domain}"
            )
        people.append(_person(person_name, f"{local}@{mail_domain}", region, signature))
    owners = (rng.randrange(members),)
    if members > 1 and rng.random() < 0.2:
        owners += (rng.choice([m for m in range(members) if m != owners[0]]),)
    return Company(name, domain, region, tuple(people), owners, rng.random() < 0.3)


def _core(index: int, syllables: list[str]) -> str:
    """A pronounceable name unique to `index`: its digits in base len(syllables)."""
    parts = [syllables[index % len(syllables)]]
    index //= len(syllables)
    parts.append(syllables[(index + 7) % len(syllables)])
    index //= len(syllables)
    while index:
        parts.append(syllables[index % len(syllables)])
        index //= len(syllables)
    return "".join(parts)


def _free_mail_contact(rng: random.Random) -> Person:
    name, plain = _name(rng)
    local = _ascii_local(plain, rng.choice(("first.last", "flast", "first-last")))
    local += str(rng.randrange(10, 99)) if rng.random() < 0.5 else ""
    provider = rng.choice(FREE_MAIL)
    region = rng.choices(list(REGIONS), _REGION_WEIGHTS)[0]
    return _person(name, f"{local}@{provider}", region)


def _newsletter(rng: random.Random, index: int, syllables: list[str]) -> Newsletter:
    core = _core(5000 + index * 37, syllables)
    kind = rng.choice(("Weekly", "Digest", "Briefing", "Insider", "Update"))
    host = f"news.{core}.com"
    return Newsletter(
        f"The {core.title()} {kind}", f"newsletter@{host}", f"{kind.lower()}.{host}", host
    )


def _machine(name: str, address: str) -> Person:
    return _person(name, address, "us-west")


def _ascii_local(name: str, style: str) -> str:
    # Letters without an ASCII decomposition are spelled out as mail admins do, or dropped.
    plain = _local_part(name.translate(_SPELLED_OUT), style)
    return plain.encode("ascii", "ignore").decode("ascii")


def _phone(rng: random.Random, region: str) -> str:
    return "".join(str(rng.randrange(10)) if c == "#" else c for c in REGIONS[region][2])
