"""Every form a credential takes on the wire, and server replies cleaned of all of them.

A server that refuses a command may echo it back, and the command carries the secret
encoded: IMAP-quoted (`"p\\"q\\\\x"`), as a literal, inside the base64 of a SASL string
(XOAUTH2 `user=..\\x01auth=Bearer TOKEN\\x01\\x01`, PLAIN `\\0user\\0pass`, HTTP Basic
`user:pass`), or URL-encoded. Removing only the secret as typed lets those through, so a
reply is cleaned of every form of every secret the session sent, and kept only if none
survives (docs/decisions/0020).

Calendar URLs are secrets as a whole (a private feed's token sits in its path or query):
`redacted_url` is the form that may be stored in clear and shown.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, quote_plus, unquote, urlsplit, urlunsplit

# A secret this short would match everywhere in a reply: keep no reply at all.
SHORTEST_SCRUBBABLE = 4
WITHHELD = "(the server's reply is not shown: it may contain a credential)"
MASK = "***"
REPLY_LIMIT = 300


def secret_forms(secret: str, username: str = "") -> frozenset[str]:
    """The secret as typed and as every encoding this service sends it in."""
    if not secret:
        return frozenset()
    sasl = (
        f"user={username}\x01auth=Bearer {secret}\x01\x01",  # XOAUTH2
        f"\0{username}\0{secret}",  # PLAIN
        f"{username}\0{username}\0{secret}",  # PLAIN with an authorization identity
        f"{username}:{secret}",  # HTTP Basic
        secret,  # AUTH LOGIN answers the password alone
    )
    forms = {
        secret,
        secret.replace("\\", "\\\\").replace('"', '\\"'),  # IMAP quoted string
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }
    for text in sasl:
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
        forms |= {encoded, encoded.rstrip("=")}
        urlsafe = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")
        forms |= {urlsafe, urlsafe.rstrip("=")}
    # Client libraries quote the server's bytes in their errors (imaplib: `LOGIN command
    # error: BAD [b'...']`), which escapes backslashes, quotes and control bytes again.
    for form in list(forms):
        forms |= _python_reprs(form)
    return frozenset(form for form in forms if form)


def _python_reprs(form: str) -> set[str]:
    as_bytes = "".join(_byte_shown(byte) for byte in form.encode("utf-8"))
    as_text = "".join(_char_shown(char) for char in form)
    return {
        variant for shown in (as_bytes, as_text) for variant in (shown, shown.replace("'", "\\'"))
    }


_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _byte_shown(byte: int) -> str:
    char = chr(byte)
    if char in _ESCAPES:
        return _ESCAPES[char]
    return char if 0x20 <= byte < 0x7F else f"\\x{byte:02x}"


def _char_shown(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    return char if char.isprintable() else repr(char)[1:-1]


def url_secrets(url: str) -> tuple[str, ...]:
    """What in a calendar URL is a secret: the URL itself, its userinfo password, its
    query values, and its path segments that look like tokens."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return (url,)
    found = [url]
    if password:
        found += [password, unquote(password)]
    for pair in parts.query.split("&"):
        value = pair.partition("=")[2] or ("" if "=" in pair else pair)
        # `lang=en` is no secret, and would otherwise withhold every reply
        if len(unquote(value)) >= SHORTEST_SCRUBBABLE:
            found += [value, unquote(value)]
    for segment in parts.path.split("/"):
        if _looks_like_token(unquote(segment)):
            found += [segment, unquote(segment)]
    return tuple(dict.fromkeys(s for s in found if s))


def redacted_url(url: str) -> str:
    """scheme://host[:port]/path with no userinfo, token-like path segments masked, the
    query's values masked and no fragment: what may be stored in clear and shown."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = "/".join(
        MASK if _looks_like_token(unquote(segment)) else segment
        for segment in parts.path.split("/")
    )
    query = "&".join(
        f"{pair.partition('=')[0]}={MASK}" if "=" in pair else MASK
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit(SplitResult(parts.scheme.lower(), netloc, path, query, ""))


def _looks_like_token(segment: str) -> bool:
    """Private feed tokens: long, or mixing letters and digits (`private-3f9a...`,
    iCloud's base64, Outlook's hex). File names such as `basic.ics` stay readable."""
    stem = segment.rsplit(".", 1)[0] if segment.endswith((".ics", ".ical")) else segment
    if len(stem) >= 24:
        return True
    has_digit = any(c.isdigit() for c in stem)
    has_letter = any(c.isalpha() for c in stem)
    return len(stem) >= 12 and has_digit and has_letter


@dataclass(frozen=True)
class SecretScrub:
    """Cleans server replies of every form of the secrets one session sent.

    `scrub(reply)` masks each form (case-insensitively: some servers upper-case what
    they echo), collapses whitespace and shortens the reply; a reply in which any form
    still shows, or a session with a secret too short to find safely, gives WITHHELD.
    """

    secrets: tuple[str, ...]
    usernames: tuple[str, ...] = ("",)

    @classmethod
    def of(cls, secrets: Iterable[str | None], usernames: Iterable[str | None] = ()) -> SecretScrub:
        return cls(
            tuple(s for s in secrets if s),
            tuple(dict.fromkeys(["", *(u for u in usernames if u)])),
        )

    def __call__(self, reply: str, limit: int = REPLY_LIMIT) -> str:
        if not self.secrets:
            return _short(reply, limit)
        if any(len(" ".join(s.split())) < SHORTEST_SCRUBBABLE for s in self.secrets):
            return WITHHELD
        pattern = self._pattern()
        cleaned = _short(pattern.sub(MASK, " ".join(reply.split())), limit)
        # A mask next to text can rebuild a form (a secret holding "***"): check again.
        return WITHHELD if pattern.search(cleaned) else cleaned

    def _pattern(self) -> re.Pattern[str]:
        forms: set[str] = set()
        for secret in self.secrets:
            for username in self.usernames:
                for form in secret_forms(secret, username):
                    forms |= {form, " ".join(form.split())}
        ordered = sorted((f for f in forms if f), key=len, reverse=True)
        return re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
