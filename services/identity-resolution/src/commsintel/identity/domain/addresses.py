"""Address and domain rules: which strings are one person, and which company a domain is.

Identity resolution keys people by their normalized address and companies by the
registrable domain of that address (DESIGN.md section 1, "Records"). Everything here is
pure; the only I/O is reading the Public Suffix List snapshot bundled with
`publicsuffixlist`, once, at import.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

# ICANN and private sections both count: a customer at foo.github.io is not GitHub.
# Unknown TLDs follow the PSL's implicit "*" rule, as every browser does.
_PSL = PublicSuffixList()

# Characters that cannot appear in a bare address. Quoted local parts ("a b"@x.com) and
# display-name forms ("Jane <jane@x.com>") are not accepted: ingest parses headers, and
# hands over bare addresses only.
_LOCAL_PART_FORBIDDEN = frozenset('()<>[]:;,\\"@')

# One DNS label in ASCII (punycode) form: letters, digits, inner hyphens, at most 63.
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MAX_DOMAIN_LENGTH = 253

# Google delivers googlemail.com mail to the gmail.com mailbox of the same name.
_PROVIDER_ALIASES = {"googlemail.com": "gmail.com"}

# Gmail ignores dots in the local part: jane.doe@ and janedoe@ are one inbox.
_DOT_INSENSITIVE_PROVIDERS = frozenset({"gmail.com"})

# Providers that deliver local+anything@ to local@, so a "+tag" is never a new person.
# Yahoo is absent on purpose: its disposable addresses use "-" and are separate
# mailboxes, and a "+" there is part of the name.
_PLUS_TAG_PROVIDERS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "protonmail.com",
        "protonmail.ch",
        "proton.me",
        "pm.me",
    }
)

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # Google
        "gmail.com",
        "googlemail.com",
        # Yahoo (any TLD also counts, see _FREE_MAIL_BRANDS)
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.co.jp",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "rocketmail.com",
        # Microsoft
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "outlook.fr",
        "outlook.de",
        "live.com",
        "live.co.uk",
        "live.fr",
        "msn.com",
        # AOL
        "aol.com",
        "aim.com",
        # Apple
        "icloud.com",
        "me.com",
        "mac.com",
        # Proton, Tuta and other privacy providers
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "tutanota.com",
        "tutanota.de",
        "tuta.io",
        "posteo.de",
        "mailbox.org",
        "hushmail.com",
        # Europe
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "freenet.de",
        "mail.com",
        "laposte.net",
        "orange.fr",
        "free.fr",
        "libero.it",
        "seznam.cz",
        "wp.pl",
        # Russia and CIS
        "mail.ru",
        "inbox.ru",
        "list.ru",
        "bk.ru",
        "yandex.ru",
        "yandex.com",
        "ya.ru",
        # Asia
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "daum.net",
        "rediffmail.com",
        # Paid personal mail: a subscriber is a person, not a company
        "zoho.com",
        "zohomail.com",
        "fastmail.com",
        "fastmail.fm",
        "hey.com",
        # Consumer ISP mailboxes
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "btinternet.com",
        # Disposable inboxes
        "mailinator.com",
        "guerrillamail.com",
        "guerrillamail.net",
        "sharklasers.com",
        "10minutemail.com",
        "yopmail.com",
        "temp-mail.org",
        "trashmail.com",
        "maildrop.cc",
        "dispostable.com",
    }
)

# Providers that run the same free service under every country TLD they own
# (yahoo.com.br, hotmail.es, gmx.at, yandex.kz...): the brand alone decides.
_FREE_MAIL_BRANDS = frozenset({"yahoo", "hotmail", "gmx", "yandex"})

# Shared and automated mailboxes. Mail to or from them says nothing about a person, so
# they never become person records (DESIGN.md: role and automated addresses).
_ROLE_LOCAL_PARTS = frozenset(
    {
        # automated senders
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "mailer-daemon",
        "mailerdaemon",
        "postmaster",
        "hostmaster",
        "webmaster",
        "abuse",
        "bounce",
        "bounces",
        "notifications",
        "notification",
        "notify",
        "alerts",
        "alert",
        "newsletter",
        "newsletters",
        "news",
        "marketing",
        "automated",
        "daemon",
        "system",
        "root",
        # team mailboxes: whoever answers, the record would not be one person
        "info",
        "support",
        "sales",
        "billing",
        "admin",
        "administrator",
        "hello",
        "contact",
        "team",
        "help",
        "jobs",
        "careers",
        "privacy",
        "security",
    }
)

# Bulk senders number their envelope addresses (noreply-4711@, bounces+abc@).
_ROLE_PREFIXES = (
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "bounce",
    "mailer-daemon",
)


# Pure and hot (every participant of every message): a bounded cache keeps memory flat.
@lru_cache(maxsize=65_536)
def normalize_address(address: str) -> str | None:
    """The one spelling of an address under which its owner is a single person.

    Case never matters (every major provider treats local parts case-insensitively),
    the domain is kept in its Unicode form, and provider aliases, Gmail dots and
    "+tags" at providers that ignore them collapse onto the same mailbox. Returns None
    for anything that is not a plain address, so it never becomes a record.
    """
    bare = address.strip().strip("<>").strip()
    if bare.count("@") != 1:
        return None
    raw_local, _, domain = bare.partition("@")
    canonical_local = _canonical_local_part(raw_local)
    canonical_domain = _canonical_domain(domain)
    if canonical_local is None or canonical_domain is None:
        return None
    local = canonical_local
    canonical_domain = _PROVIDER_ALIASES.get(canonical_domain, canonical_domain)
    if canonical_domain in _PLUS_TAG_PROVIDERS:
        local = local.partition("+")[0]
    if canonical_domain in _DOT_INSENSITIVE_PROVIDERS:
        local = local.replace(".", "")
    if not local:
        # "+tag@gmail.com" or "...@gmail.com": no mailbox can have that name.
        return None
    return f"{local}@{canonical_domain}"


def address_domain(normalized_address: str) -> str:
    """The domain part of an address produced by `normalize_address`."""
    _, at, domain = normalized_address.rpartition("@")
    if not at:
        raise ValueError(f"not a normalized address: {normalized_address!r}")
    return domain


@lru_cache(maxsize=65_536)
def registrable_domain(domain: str) -> str | None:
    """The domain a company owns (eTLD+1): eu.acme.co.uk and mail.acme.com are the
    companies acme.co.uk and acme.com. None for a bare public suffix (co.uk, github.io),
    which nobody owns, and for anything that is not a domain."""
    canonical = _canonical_domain(domain)
    if canonical is None:
        return None
    return _PSL.privatesuffix(canonical)


def is_free_mail_domain(domain: str) -> bool:
    """Free, consumer and disposable providers create no company: thousands of
    unrelated people share gmail.com. Subdomains count too (mail.yahoo.co.uk)."""
    canonical = _canonical_domain(domain)
    if canonical is None:
        return False
    registrable = _PSL.privatesuffix(canonical)
    if canonical in FREE_MAIL_DOMAINS or registrable in FREE_MAIL_DOMAINS:
        return True
    return registrable is not None and _brand(registrable) in _FREE_MAIL_BRANDS


def is_role_address(normalized_address: str) -> bool:
    """Shared and automated mailboxes (noreply@, mailer-daemon@, support@, info@...)
    never become people: nobody can be linked, met or scored through them."""
    local, at, _ = normalized_address.rpartition("@")
    if not at:
        raise ValueError(f"not a normalized address: {normalized_address!r}")
    local = local.lower()
    # support+eu@ and sales+emea@ are still the support and sales mailboxes.
    if local.partition("+")[0] in _ROLE_LOCAL_PARTS:
        return True
    return local.startswith(_ROLE_PREFIXES)


def company_name_from_domain(registrable: str) -> str:
    """A readable first guess at a company's name until enrichment finds the real one:
    acme-corp.co.uk -> "Acme Corp". Only the owned label counts, never the suffix."""
    canonical = _canonical_domain(registrable)
    if canonical is None:
        return registrable
    owned = _PSL.privatesuffix(canonical) or canonical
    words = [word for word in re.split(r"[-_.]+", _brand(owned)) if word]
    if not words:
        return owned
    return " ".join(word[:1].upper() + word[1:] for word in words)


def _canonical_local_part(local: str) -> str | None:
    """Lowercased, NFC-composed local part, or None if it cannot be a bare address."""
    # A name typed with a composed or a decomposed accent is the same mailbox.
    composed = unicodedata.normalize("NFC", local)
    if not composed:
        return None
    for char in composed:
        if char.isspace() or not char.isprintable() or char in _LOCAL_PART_FORBIDDEN:
            return None
    return unicodedata.normalize("NFC", composed.lower())


def _canonical_domain(domain: str) -> str | None:
    """Lowercase Unicode form of a mail domain (xn--bcher-kva.de -> bücher.de), without
    the trailing root dot, or None if it is not a valid domain name with a dot."""
    name = domain.lower()
    if name.endswith("."):
        name = name[:-1]
    if not name or any(char.isspace() for char in name):
        return None
    try:
        # IDNA 2003 (the standard library codec) both validates punycode labels and
        # maps Unicode labels the way mail clients display them.
        ascii_form = name.encode("idna").decode("ascii").lower()
        unicode_form = ascii_form.encode("ascii").decode("idna").lower()
    except UnicodeError:
        return None
    labels = ascii_form.split(".")
    if len(labels) < 2 or len(ascii_form) > _MAX_DOMAIN_LENGTH:
        return None
    if not all(_LDH_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[-1].isdigit():
        # 192.168.0.1 is a host, not a domain anyone receives mail at by name.
        return None
    return unicode_form


def _brand(registrable: str) -> str:
    """The owned label of a registrable domain: yahoo.co.uk -> yahoo."""
    suffix = _PSL.publicsuffix(registrable)
    if suffix is None or suffix == registrable:
        return registrable
    return registrable[: -len(suffix) - 1]
