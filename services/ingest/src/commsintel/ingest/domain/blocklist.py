"""A mailbox's blocklist: addresses and domains whose correspondence the mailbox hides.

An entry is an address (`ceo@rival.com`) or a domain (`rival.com`, also written
`@rival.com`); a domain covers its subdomains (`mail.rival.com`). A message is hidden
for the mailbox when any participant on it, or on any message of its thread, is
blocklisted. Matching works on terms: every address of a thread stands for itself and
for each domain it belongs to, so one lookup finds every thread an entry touches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_MAX_ENTRIES = 10_000


class InvalidBlocklistEntry(ValueError):
    pass


@dataclass(frozen=True, slots=True, order=True)
class BlocklistEntry:
    value: str  # a normalized address or domain

    @property
    def is_domain(self) -> bool:
        return "@" not in self.value


def parse_entry(text: str) -> BlocklistEntry:
    """`Rival.COM`, `@rival.com`, `CEO@Rival.com` -> normalized; anything else refused."""
    cleaned = text.strip().lower()
    if cleaned.startswith("@"):
        cleaned = cleaned[1:]
    local, at, domain = cleaned.rpartition("@")
    if at and not local:
        raise InvalidBlocklistEntry(f"blocklist entry {text!r} has an empty local part")
    if any(ch.isspace() for ch in cleaned) or not domain:
        raise InvalidBlocklistEntry(f"blocklist entry {text!r} is not an address or a domain")
    domain = _domain(domain, text)
    return BlocklistEntry(f"{local}@{domain}" if at else domain)


def parse_entries(texts: Iterable[str]) -> tuple[BlocklistEntry, ...]:
    """Sorted and without repeats; the first bad entry fails the whole list."""
    entries = tuple(sorted({parse_entry(text) for text in texts}))
    if len(entries) > _MAX_ENTRIES:
        raise InvalidBlocklistEntry(f"a blocklist holds at most {_MAX_ENTRIES} entries")
    return entries


def terms_of(addresses: Iterable[str]) -> frozenset[str]:
    """What an entry can match among these normalized addresses: each address and every
    domain it belongs to (`a@x.rival.com` -> itself, `x.rival.com`, `rival.com`, `com`)."""
    terms: set[str] = set()
    for address in addresses:
        terms.add(address)
        domain = address.rpartition("@")[2]
        while domain:
            terms.add(domain)
            domain = domain.partition(".")[2]
    return frozenset(terms)


def blocking_entries(
    entries: Iterable[BlocklistEntry], thread_terms: frozenset[str]
) -> tuple[BlocklistEntry, ...]:
    """The entries that hide a thread with these terms (empty: the thread is visible)."""
    return tuple(entry for entry in entries if entry.value in thread_terms)


def hidden_reason(blocking: tuple[BlocklistEntry, ...]) -> str:
    return "blocklisted: " + ", ".join(entry.value for entry in blocking)


def _domain(domain: str, text: str) -> str:
    """Labels as unicode, the way parsing normalizes the addresses of a message."""
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        raise InvalidBlocklistEntry(f"blocklist entry {text!r} has no valid domain")
    return ".".join(_unicode_label(label, text) for label in labels)


def _unicode_label(label: str, text: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label[4:].encode("ascii").decode("punycode").lower()
    except UnicodeError:
        raise InvalidBlocklistEntry(f"blocklist entry {text!r} has a bad IDNA label") from None


def visibility_change(
    before: tuple[BlocklistEntry, ...],
    after: tuple[BlocklistEntry, ...],
    thread_terms: frozenset[str],
) -> str | None:
    """ "hide" when the new blocklist hides a visible thread, "show" when it brings a
    hidden one back, None when the thread stays as it was."""
    was_hidden = bool(blocking_entries(before, thread_terms))
    is_hidden = bool(blocking_entries(after, thread_terms))
    if is_hidden and not was_hidden:
        return "hide"
    if was_hidden and not is_hidden:
        return "show"
    return None


def changed_values(
    before: tuple[BlocklistEntry, ...], after: tuple[BlocklistEntry, ...]
) -> frozenset[str]:
    """Entries added or removed: only threads holding one of these can change."""
    return frozenset(e.value for e in set(before) ^ set(after))


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    message_key: str
    thread_key: str
    addresses: frozenset[str]  # normalized participant addresses


@dataclass
class Admission:
    """What a batch of new messages does to a mailbox under its blocklist."""

    published: list[str] = field(default_factory=list)  # message keys, in arrival order
    hidden: dict[str, str] = field(default_factory=dict)  # message key -> reason
    # Threads a new message turned hidden: what they showed before is to be retracted.
    newly_hidden_threads: dict[str, str] = field(default_factory=dict)  # thread -> reason
    thread_terms: dict[str, frozenset[str]] = field(default_factory=dict)


def admit(
    entries: tuple[BlocklistEntry, ...],
    stored_terms: Mapping[str, frozenset[str]],
    messages: Iterable[IncomingMessage],
) -> Admission:
    """Publish or hide each new message. A message that brings a blocklisted participant
    into a thread hides the whole thread: its own earlier messages in the batch are not
    published, and those published before are to be retracted."""
    admission = Admission()
    terms = dict(stored_terms)
    batch_keys_of: dict[str, list[str]] = {}
    for message in messages:
        before = terms.get(message.thread_key, frozenset())
        after = before | terms_of(message.addresses)
        terms[message.thread_key] = after
        admission.thread_terms[message.thread_key] = after
        batch_keys_of.setdefault(message.thread_key, []).append(message.message_key)
        blocking = blocking_entries(entries, after)
        if not blocking:
            admission.published.append(message.message_key)
            continue
        reason = hidden_reason(blocking)
        if not blocking_entries(entries, before):
            for key in batch_keys_of[message.thread_key]:
                admission.hidden[key] = reason
            if message.thread_key in stored_terms:
                admission.newly_hidden_threads[message.thread_key] = reason
        admission.hidden[message.message_key] = reason
    admission.published = [k for k in admission.published if k not in admission.hidden]
    return admission
