"""The sender's own signature block -> what it says about them: name, job title, company,
phone numbers, profile links, company website and other addresses they give.

Pure and total: any text gives a Signature or None, never an exception. Only the
sender's new text is read: quoted replies and forwarded mail carry other people's
signatures, and those must never be attributed to the sender. The importer calls this for
every message, so every regex here runs on one short line and cannot backtrack badly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields

_MAX_OWN_TEXT = 4000  # characters at the end of the sender's own text that are read
_MAX_BLOCK_LINES = 8  # a signature after a closing line is short...
_MAX_BLOCK_LINE = 80  # ...and made of short lines
_MAX_DELIMITED_LINES = 12  # after "-- " the sender said where it starts: allow a bit more
_MAX_DELIMITED_LINE = 100  # longer lines there are legal disclaimers, not contact details
_MAX_TITLE = 60


@dataclass(frozen=True, slots=True)
class Signature:
    name: str | None
    job_title: str | None
    company_name: str | None
    phone_numbers: tuple[str, ...]  # "+" then digits, or digits only; 7 to 15 digits
    linkedin_url: str | None  # https://www.linkedin.com/in/<handle>
    twitter_url: str | None  # https://x.com/<handle>
    github_url: str | None  # https://github.com/<user>
    website_domain: str | None  # lowercased host without "www."
    email_addresses: tuple[str, ...]  # lowercased, other than the sender's own address


def extract_signature(
    text_body: str | None, *, sender_address: str, sender_display_name: str
) -> Signature | None:
    if not isinstance(text_body, str) or not text_body.strip():
        return None
    display_name = sender_display_name if isinstance(sender_display_name, str) else ""
    display_tokens = _name_tokens(display_name)
    block = _signature_block(_own_lines(text_body), display_tokens)
    if not block:
        return None
    sender = sender_address.strip().lower() if isinstance(sender_address, str) else ""
    return _read_block(block, sender, display_tokens, bool(display_name.strip()))


# --- the sender's own text ----------------------------------------------------------


def _own_lines(text: str) -> list[str]:
    """The sender's new lines: quoted lines dropped, everything from a reply or forward
    header on cut, then only the last _MAX_OWN_TEXT characters."""
    lines = text.splitlines()
    own: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            continue
        if _opens_quoted_material(stripped, lines, index):
            break
        own.append(line)
    kept: list[str] = []
    total = 0
    for line in reversed(own):
        total += len(line) + 1
        if total > _MAX_OWN_TEXT:
            break
        kept.append(_INVISIBLE.sub("", line.replace("\u00a0", " ")).strip())
    kept.reverse()
    return kept


_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_HEADER_LOOKAHEAD = 4
_FROM_LABELS = ("from:", "von:", "de:", "van:", "från:", "fra:")
_SENT_LABELS = ("sent:", "date:", "gesendet:", "datum:", "envoyé:", "enviado:", "verzonden:")
# "-----Original Message-----", "---------- Forwarded message ---------" and translations
_DASHED_MARKERS = frozenset(
    {"original message", "forwarded message", "ursprüngliche nachricht",
     "weitergeleitete nachricht", "message d'origine", "message transféré"}
)  # fmt: skip


def _opens_quoted_material(stripped: str, lines: list[str], index: int) -> bool:
    if not stripped or len(stripped) > 400:
        return False
    if len(stripped) >= 10 and not stripped.strip("_"):  # Outlook's quote separator
        return True
    folded = stripped.casefold().strip("*")
    if stripped.startswith("-") and folded.strip("- ") in _DASHED_MARKERS:
        return True
    if folded.startswith("begin forwarded message"):  # Apple Mail
        return True
    if folded.startswith(_FROM_LABELS):
        if any(label in folded for label in _SENT_LABELS):
            return True
        following = lines[index + 1 : index + 1 + _HEADER_LOOKAHEAD]
        return any(line.strip().casefold().startswith(_SENT_LABELS) for line in following)
    # "On <date>, <name> wrote:", sometimes wrapped onto a second line, and its translations.
    if not _starts_reply_header(folded):
        return False
    if _ends_reply_header(folded):
        return True
    next_line = lines[index + 1].strip().casefold() if index + 1 < len(lines) else ""
    return len(next_line) <= 200 and _ends_reply_header(next_line)


def _starts_reply_header(folded: str) -> bool:
    return folded.startswith(("on ", "am ", "le ", "el ", "op ", "den ", "il "))


def _ends_reply_header(folded: str) -> bool:
    folded = folded.rstrip()
    return folded.endswith(
        ("wrote:", "a écrit :", "a écrit:", "escribió:", "schreef:", "skrev:", "ha scritto:")
    ) or (folded.endswith(":") and " schrieb " in folded)


# --- the signature block ------------------------------------------------------------


def _folded_phrases(*phrases: str) -> frozenset[str]:
    return frozenset(phrase.casefold() for phrase in phrases)


_CLOSINGS = _folded_phrases(
    "best", "all the best", "best regards", "best wishes", "kind regards", "kindest regards",
    "warm regards", "warmest regards", "regards", "many regards", "with regards",
    "with best regards", "with kind regards", "thanks", "thank you", "many thanks",
    "thanks again", "thanks so much", "thank you so much", "thanks and regards",
    "thanks & regards", "with thanks", "cheers", "sincerely", "yours sincerely",
    "sincerely yours", "yours faithfully", "yours truly", "respectfully", "warmly",
    "take care", "talk soon", "speak soon", "br",
    "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße",
    "viele grüße", "beste grüße", "liebe grüße", "herzliche grüße", "schöne grüße",
    "grüße", "gruß", "mfg", "lg", "vg", "vielen dank",
    "cordialement", "bien cordialement", "bien à vous", "merci", "salutations",
    "saludos", "un saludo", "atentamente", "met vriendelijke groet", "groeten",
    "med vänliga hälsningar", "vänliga hälsningar", "hälsningar", "mvh",
    "med venlig hilsen", "med vennlig hilsen", "hilsen",
)  # fmt: skip
_CLIENT_TAGLINES = (
    "sent from my", "sent from outlook", "sent with ", "get outlook for", "von meinem",
    "envoyé de mon", "enviado desde mi", "[image:", "[cid:",
)  # fmt: skip
_CLOSING_PUNCTUATION = " ,.!:;-\u2013\u2014"


def _signature_block(lines: list[str], display_tokens: frozenset[str]) -> list[str] | None:
    """The lines of the signature: after a "-- " line, else after the last closing line
    ("Best regards,"), else the last paragraph when it opens with the sender's name."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] == "--":
            block = _block_lines(lines[index + 1 :], _MAX_DELIMITED_LINE)[:_MAX_DELIMITED_LINES]
            if block:
                return block
            break
    seen = 0
    for index in range(len(lines) - 1, -1, -1):
        if not lines[index]:
            continue
        is_closing, rest = _closing(lines[index])
        if is_closing:
            block = ([rest] if rest else []) + [line for line in lines[index + 1 :] if line]
            if len(block) > _MAX_BLOCK_LINES or any(len(b) > _MAX_BLOCK_LINE for b in block):
                return None
            return _block_lines(block, _MAX_BLOCK_LINE) or None
        seen += 1
        if seen > _MAX_BLOCK_LINES:
            break
    return _last_paragraph_opening_with_name(lines, display_tokens)


def _block_lines(lines: list[str], max_length: int) -> list[str]:
    cleaned = (line.strip("* \t") for line in lines)
    return [
        line
        for line in cleaned
        if line and len(line) <= max_length and not line.casefold().startswith(_CLIENT_TAGLINES)
    ]


def _closing(line: str) -> tuple[bool, str]:
    """Whether the line is a closing, and a name written after it ("Thanks, Jane")."""
    if _is_closing_phrase(line):
        return True, ""
    head, comma, tail = line.partition(",")
    tail = tail.strip()
    if comma and _is_closing_phrase(head) and (_is_sign_off(tail) or _is_person_name(tail)):
        return True, tail
    return False, ""


def _is_closing_phrase(text: str) -> bool:
    return " ".join(text.strip(_CLOSING_PUNCTUATION).split()).casefold() in _CLOSINGS


def _last_paragraph_opening_with_name(
    lines: list[str], display_tokens: frozenset[str]
) -> list[str] | None:
    if not display_tokens:
        return None
    start = len(lines)
    while start > 0 and lines[start - 1]:
        start -= 1
    block = lines[start:]
    if not block or len(block) > _MAX_BLOCK_LINES or any(len(b) > _MAX_BLOCK_LINE for b in block):
        return None
    first = _segments(block[0])[0]
    if _is_person_name(first) and _name_tokens(first) & display_tokens:
        return _block_lines(block, _MAX_BLOCK_LINE) or None
    return None


# --- reading the block --------------------------------------------------------------


def _read_block(
    block: list[str], sender: str, display_tokens: frozenset[str], has_display_name: bool
) -> Signature | None:
    if len(block) > 1 and _is_sign_off(block[0]) and _is_person_name(_segments(block[1])[0]):
        block = block[1:]  # "Jane" signing off above the full signature
    opening = _segments(block[0])[0]
    if has_display_name and _is_person_name(opening) and not _name_tokens(opening) & display_tokens:
        # The block opens with someone else's name: none of it is the sender's (its
        # addresses would otherwise feed the merge rule as the sender's own).
        return None
    name, after_name = _name(block, display_tokens, has_display_name)
    job_title, company_name = _title_and_company(after_name, sender) if after_name else (None, None)
    if company_name is None:
        company_name = _company_elsewhere(block[1:], sender)
    urls = [url for line in block for url in _urls(line)]
    signature = Signature(
        name=name,
        job_title=job_title,
        company_name=company_name,
        phone_numbers=_phone_numbers(block),
        linkedin_url=_first(_linkedin_url(host, path) for host, path in urls),
        twitter_url=_first(
            [*(_twitter_url(host, path) for host, path in urls), *map(_labelled_handle, block)]
        ),
        github_url=_first(_github_url(host, path) for host, path in urls),
        website_domain=_first(_website_domain(host) for host, _path in urls),
        email_addresses=_email_addresses(block, sender),
    )
    return signature if any(getattr(signature, f.name) for f in fields(signature)) else None


def _name(
    block: list[str], display_tokens: frozenset[str], has_display_name: bool
) -> tuple[str | None, str | None]:
    """The sender's name and the line that follows it (where a title would be). A name
    that shares no word with the From display name is someone else's: no name, no title."""
    segments = _segments(block[0])
    candidate = segments[0]
    if not _is_person_name(candidate):
        return None, None
    if has_display_name and not _name_tokens(candidate) & display_tokens:
        return None, None
    after = " | ".join(segments[1:]) or (block[1] if len(block) > 1 else None)
    return " ".join(candidate.split()), after


_SEGMENT_SEPARATORS = re.compile(r"\s*[|\u2022\u00b7]\s*")


def _segments(line: str) -> list[str]:
    """The parts of "Jane Doe | Head of Sales | Acme" (there is always at least one)."""
    parts = (part.strip("* ") for part in _SEGMENT_SEPARATORS.split(line))
    return [part for part in parts if part] or [""]


def _title_and_company(line: str, sender: str) -> tuple[str | None, str | None]:
    parts = _segments(line)
    if len(parts) >= 2:
        first, second = parts[0], parts[1]
        if _has_company_suffix(first) and _is_title(second):
            return second, first
        return (
            first if _is_title(first) else None,
            second if _is_company_name(second) else None,
        )
    for separator in (" at ", " @ ", ", "):
        title, found, company = line.partition(separator)
        if not found or not _is_title(title) or not _is_company_name(company):
            continue
        # A comma is common inside titles ("Account Executive, North America"): split on
        # it only when what follows is clearly the company.
        if separator != ", " or _has_company_suffix(company) or _names_domain(company, sender):
            return title, company
    if _has_company_suffix(line) and _is_company_name(line):
        return None, line
    return (line if _is_title(line) else None), None


def _company_elsewhere(lines: list[str], sender: str) -> str | None:
    """A company further down the block: "Title | Company", or a line ending in Ltd, Inc..."""
    for line in lines:
        parts = _segments(line)
        if len(parts) >= 2 and _is_title(parts[0]) and _is_company_name(parts[1]):
            return parts[1]
        for part in parts:
            if _has_company_suffix(part) and _is_company_name(part):
                return part
    return None


_TITLE_WORDS = _folded_phrases(
    "head", "manager", "director", "executive", "officer", "president", "vp", "svp", "evp",
    "engineer", "founder", "co-founder", "cofounder", "ceo", "cto", "cfo", "coo", "cro",
    "cmo", "partner", "consultant", "sales", "marketing", "lead", "team", "department",
    "operations", "procurement", "support", "assistant", "specialist", "analyst",
    "developer", "designer", "associate", "counsel", "chief", "senior", "junior", "account",
    "customer", "success", "group", "office", "regards", "thanks", "iphone", "android",
    "geschäftsführer", "leiter", "leiterin", "vertrieb", "directeur", "directrice",
)  # fmt: skip
_NAME_MARKS = "-'\u2019"  # hyphens and apostrophes: "Anne-Marie O'Neill"
_HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "sir", "dame", "herr", "frau"})


def _is_person_name(text: str) -> bool:
    """2 to 4 words of letters (accents, hyphens and apostrophes allowed), capitalised at
    both ends ("Sanne de Boer"); an honorific or initial may end in a dot ("Dr.", "J.")."""
    words = text.split()
    if not 2 <= len(words) <= 4 or not (words[0][0].isupper() and words[-1][0].isupper()):
        return False
    for word in words:
        core = word[:-1] if word.endswith(".") else word
        letters = [c for c in core if c not in _NAME_MARKS]
        if not letters or not all(c.isalpha() for c in letters):
            return False
        if word.endswith(".") and len(core) > 4:
            return False
        if word.casefold() in _TITLE_WORDS:
            return False
    return not _has_company_suffix(text) and not _is_closing_phrase(text)


def _is_sign_off(text: str) -> bool:
    """A first name or initials signing off: "Jane", "- JD"."""
    word = text.lstrip("-\u2013\u2014~ ")
    return 0 < len(word) <= 30 and word.isalpha() and word[0].isupper()


def _name_tokens(name: str) -> frozenset[str]:
    """Words of a name compared case- and accent-insensitively, honorifics left out."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    ).casefold()
    return frozenset(word for word in _WORDS.findall(plain) if word not in _HONORIFICS)


_WORDS = re.compile(r"[^\W\d_]{2,}")


def _is_title(text: str) -> bool:
    return (
        1 < len(text) <= _MAX_TITLE
        and any(c.isalpha() for c in text)
        and not any(c.isdigit() for c in text)
        and "@" not in text
        and not _looks_like_url(text)
        and not _has_company_suffix(text)
        and not _is_closing_phrase(text)
    )


def _is_company_name(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    return (
        0 < len(text) <= _MAX_TITLE
        and any(c.isalpha() for c in text)
        and digits < 5  # "3M" is a company, "+44 20 7946 0958" is not
        and "@" not in text
        and not _looks_like_url(text)
        and not _is_closing_phrase(text)
    )


_LONG_SUFFIXES = _folded_phrases(
    "ltd", "limited", "inc", "incorporated", "gmbh", "llc", "plc", "llp", "corp",
    "corporation", "sarl", "sàrl", "pty", "srl", "spa", "oyj",
)  # fmt: skip
_SHORT_SUFFIXES = frozenset({"SA", "BV", "AG", "NV", "AB", "AS", "KG", "SE", "SAS", "SL", "OY"})


def _has_company_suffix(text: str) -> bool:
    words = text.split()
    if len(words) < 2:
        return False
    last = words[-1].strip(",;()").replace(".", "")
    return last.casefold() in _LONG_SUFFIXES or last in _SHORT_SUFFIXES


def _names_domain(company: str, sender: str) -> bool:
    """Whether the company's name is the one in the sender's mail domain."""
    squashed = "".join(c for c in company.casefold() if c.isalnum())
    labels = sender.rpartition("@")[2].split(".")[:-1]
    names = ("".join(c for c in label if c.isalnum()) for label in labels)
    return any(
        len(name) >= 3 and (squashed.startswith(name) or name.startswith(squashed))
        for name in names
        if squashed
    )


# --- phones, links and addresses ----------------------------------------------------

_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().\-/]{5,25}\d(?!\w)", re.ASCII)
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}", re.ASCII)
_URL = re.compile(
    r"(?<![\w@.\-])(?:https?://)?(?:[a-z0-9\-]+\.)+[a-z]{2,24}(?![\w\-@])"
    r"(?:[/?#][^\s<>()\"'\[\]]*)?",
    re.IGNORECASE | re.ASCII,
)
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+'%\-]{1,64}@[\w\-]+(?:\.[\w\-]+)+", re.ASCII)
_WEB_LABEL = re.compile(r"^(?:w|web|website|www|site|url|homepage)\s*[:.]\s*", re.IGNORECASE)
_HANDLE_LABEL = re.compile(
    r"^(?:twitter|x)(?:\s*[/(]\s*(?:twitter|x)\s*\)?)?\s*[:|\-\u2013\u2014]?\s*@(\w{1,15})(?!\w)",
    re.IGNORECASE | re.ASCII,
)

# Hosts that are not a company's website: mail providers, social networks, scheduling and
# meeting links, link shorteners.
_NOT_COMPANY_SITES = (
    "linkedin.com", "twitter.com", "x.com", "github.com", "gmail.com", "googlemail.com",
    "google.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
    "ymail.com", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de",
    "gmx.net", "web.de", "mail.com", "zoho.com", "yandex.ru", "facebook.com",
    "instagram.com", "youtube.com", "youtu.be", "tiktok.com", "calendly.com", "zoom.us",
    "microsoft.com", "office.com", "aka.ms", "bit.ly", "goo.gl", "t.co", "wa.me", "t.me",
)  # fmt: skip
_NOT_TWITTER_HANDLES = frozenset(
    {"home", "intent", "share", "search", "hashtag", "i", "settings", "explore", "login"}
)
_NOT_GITHUB_USERS = frozenset(
    {"orgs", "about", "features", "pricing", "login", "join", "settings", "marketplace",
     "topics", "explore", "sponsors", "enterprise", "security", "apps", "trending", "site"}
)  # fmt: skip
_LINKEDIN_HANDLE = re.compile(r"[\w\-%]{3,100}")
_TWITTER_HANDLE = re.compile(r"\w{1,15}", re.ASCII)
_GITHUB_USER = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,38})", re.IGNORECASE | re.ASCII)
# Role addresses belong to a team, not to the person whose signature names them.
_ROLE_LOCAL_PARTS = frozenset(
    {"info", "support", "sales", "hello", "contact", "office", "admin", "help", "team",
     "privacy", "legal", "billing", "accounts", "careers", "jobs", "press", "noreply",
     "no-reply", "enquiries", "inquiries", "service", "mail", "kontakt"}
)  # fmt: skip


# Registration, tax and bank numbers are long digit runs too.
_NOT_PHONE_LINES = (
    "registered", "registration", "company no", "reg. no", "vat", "iban", "bic", "swift",
    "hrb", "hra", "handelsregister", "amtsgericht", "ust-id", "steuer", "siret", "kvk",
)  # fmt: skip


def _phone_numbers(block: list[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for line in block:
        if any(marker in line.casefold() for marker in _NOT_PHONE_LINES):
            continue
        # " / " separates two numbers ("+44 20 7946 0958 / +44 7700 900123").
        without_links = _URL.sub(" ", _EMAIL.sub(" ", line)).replace(" / ", " | ")
        for match in _PHONE.finditer(without_links):
            number = match.group().strip()
            if _DATE.fullmatch(number):
                continue
            if number.startswith("+"):
                number = number.replace("(0)", "")  # "+44 (0)20": the trunk 0 is not dialled
            digits = "".join(c for c in number if c.isdigit())
            if 7 <= len(digits) <= 15:
                found["+" * number.startswith("+") + digits] = None
    return tuple(found)


def _urls(line: str) -> list[tuple[str, str]]:
    """(lowercased host, path) of each link on the line. A bare domain ("acme.com") counts
    only when the line (after a "Web:" label) is nothing else, or it is a profile link."""
    line = _EMAIL.sub(" ", line)
    alone = _WEB_LABEL.sub("", line).strip()
    links = []
    for match in _URL.finditer(line):
        token = match.group().rstrip(".,;:!?'\"")
        rest = token.split("://", 1)[1] if "://" in token else token
        host, _sep, path = rest.partition("/")
        host = host.split("?", 1)[0].split("#", 1)[0].lower()
        explicit = "://" in token or host.startswith("www.") or token == alone
        if explicit or _is_host(host, ("linkedin.com", "twitter.com", "x.com", "github.com")):
            links.append((host, path))
    return links


def _looks_like_url(text: str) -> bool:
    return "://" in text or "www." in text.casefold() or bool(_urls(text))


def _is_host(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def _path_head(path: str) -> tuple[str, str]:
    parts = [part for part in path.split("?", 1)[0].split("#", 1)[0].split("/") if part]
    return (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")


def _linkedin_url(host: str, path: str) -> str | None:
    kind, handle = _path_head(path)
    if _is_host(host, ("linkedin.com",)) and kind == "in" and _LINKEDIN_HANDLE.fullmatch(handle):
        return f"https://www.linkedin.com/in/{handle.lower()}"
    return None


def _twitter_url(host: str, path: str) -> str | None:
    handle = _path_head(path)[0].lstrip("@")
    if (
        host in ("twitter.com", "www.twitter.com", "mobile.twitter.com", "x.com", "www.x.com")
        and _TWITTER_HANDLE.fullmatch(handle)
        and handle.lower() not in _NOT_TWITTER_HANDLES
    ):
        return f"https://x.com/{handle.lower()}"
    return None


def _labelled_handle(line: str) -> str | None:
    match = _HANDLE_LABEL.match(line)
    return f"https://x.com/{match.group(1).lower()}" if match else None


def _github_url(host: str, path: str) -> str | None:
    user = _path_head(path)[0]
    if (
        host in ("github.com", "www.github.com")
        and _GITHUB_USER.fullmatch(user)
        and user.lower() not in _NOT_GITHUB_USERS
    ):
        return f"https://github.com/{user.lower()}"
    return None


def _website_domain(host: str) -> str | None:
    host = host.removeprefix("www.")
    if "." not in host or _is_host(host, _NOT_COMPANY_SITES):
        return None
    return host


def _email_addresses(block: list[str], sender: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for line in block:
        for match in _EMAIL.finditer(line):
            address = match.group().strip(".").lower()
            local, _at, domain = address.partition("@")
            tld = domain.rpartition(".")[2]
            if (
                address != sender
                and local
                and len(tld) >= 2
                and tld.isalpha()
                and local not in _ROLE_LOCAL_PARTS
            ):
                found[address] = None
    return tuple(found)


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)
