"""Which IMAP folders to sync, and from which UID: the rules of incremental mailbox sync.

A folder's cursor is (UIDVALIDITY, last UID fetched). IMAP promises that, as long as a
folder's UIDVALIDITY stays the same, UIDs only grow and are never reused, so everything
new has a UID above the cursor. When UIDVALIDITY changes, every old UID is meaningless
and the folder is read again from the start (sightings keep that from duplicating mail).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

INBOX = "INBOX"

# Special-use flags (RFC 6154) of folders that hold correspondence worth syncing.
_SENT = "\\sent"
_ARCHIVE = "\\archive"
# Never synced: not selectable, mail the member threw away or never sent, and virtual
# folders whose every message also lives in a real folder (\All would sync it all twice;
# Gmail's \Flagged and \Important are views too).
_VIRTUAL_FLAGS = frozenset({"\\all", "\\flagged", "\\important"})
_SKIPPED_FLAGS = frozenset(
    {"\\noselect", "\\nonexistent", "\\trash", "\\junk", "\\drafts", *_VIRTUAL_FLAGS}
)
_SPECIAL_USE_FLAGS = frozenset({_SENT, _ARCHIVE, "\\trash", "\\junk", "\\drafts", *_VIRTUAL_FLAGS})
# Servers without SPECIAL-USE: the usual names of the folders the flags would mark.
_SKIPPED_NAMES = frozenset(
    {"trash", "deleted items", "deleted messages", "junk", "junk e-mail", "spam", "drafts"}
)


@dataclass(frozen=True, slots=True)
class FolderCursor:
    """How far a mailbox's folder has been synced: every UID <= last_uid is done."""

    folder: str
    uidvalidity: int
    last_uid: int
    highest_modseq: int | None = None


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """What the server says about a folder now (STATUS / EXAMINE)."""

    folder: str
    uidvalidity: int
    uidnext: int
    messages: int
    highest_modseq: int | None = None


@dataclass(frozen=True, slots=True)
class FolderPlan:
    """Fetch every message with UID >= first_uid; full_resync means the cursor is void."""

    folder: str
    full_resync: bool
    first_uid: int
    reason: str


def plan_folder_sync(cursor: FolderCursor | None, status: FolderStatus) -> FolderPlan | None:
    """What to fetch from a folder, or None when nothing arrived since the cursor."""
    if cursor is not None:
        _check_same_folder(cursor, status.folder)
    if cursor is None:
        return FolderPlan(status.folder, full_resync=True, first_uid=1, reason="backfill")
    if cursor.uidvalidity != status.uidvalidity:
        return FolderPlan(
            status.folder, full_resync=True, first_uid=1, reason="uidvalidity changed"
        )
    if cursor.highest_modseq is not None and status.highest_modseq == cursor.highest_modseq:
        return None  # CONDSTORE: nothing at all changed in the folder since the last pass
    if status.uidnext <= cursor.last_uid + 1:
        return None
    return FolderPlan(
        status.folder, full_resync=False, first_uid=cursor.last_uid + 1, reason="incremental"
    )


def advance(
    cursor: FolderCursor | None,
    folder: str,
    uidvalidity: int,
    fetched_uids: Iterable[int],
    *,
    highest_modseq: int | None = None,
) -> FolderCursor:
    """The cursor after a batch of `folder` was fetched and stored.

    Batches arrive in ascending UID order, so a sync stopped after any batch resumes
    from the returned cursor without gaps. Within one UIDVALIDITY the cursor never moves
    backwards (a late or repeated batch changes nothing); under a new UIDVALIDITY it
    starts over.
    """
    if cursor is not None:
        _check_same_folder(cursor, folder)
    newest = max(fetched_uids, default=0)
    if cursor is None or cursor.uidvalidity != uidvalidity:
        return FolderCursor(folder, uidvalidity, newest, highest_modseq)
    modseqs = [m for m in (cursor.highest_modseq, highest_modseq) if m is not None]
    return replace(
        cursor,
        last_uid=max(cursor.last_uid, newest),
        highest_modseq=max(modseqs) if modseqs else None,
    )


def folders_to_sync(folders: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """The folders of a LIST answer (name, flags) that hold the member's correspondence.

    INBOX first, then the \\Sent and \\Archive folders, then the member's own folders in
    server order. Trash, junk, drafts, unselectable and virtual
    (\\All, \\Flagged, \\Important) folders are skipped; on a server without special-use
    flags, trash, junk and drafts are recognised by their usual names.
    """
    flags_of = {name: {flag.lower() for flag in flags} for name, flags in folders}
    any_special_use = any(flags & _SPECIAL_USE_FLAGS for flags in flags_of.values())

    def wanted(name: str) -> bool:
        flags = flags_of[name]
        if name.upper() == INBOX:
            return not flags & {"\\noselect", "\\nonexistent"}
        if flags & _SKIPPED_FLAGS:
            return False
        return any_special_use or name.lower() not in _SKIPPED_NAMES

    def rank(name: str) -> int:
        flags = flags_of[name]
        if name.upper() == INBOX:
            return 0
        if _SENT in flags:
            return 1
        if _ARCHIVE in flags:
            return 2
        return 3

    names = [name for name in dict.fromkeys(name for name, _ in folders) if wanted(name)]
    return sorted(names, key=rank)  # stable: server order within each rank


def sent_folder(folders: list[tuple[str, tuple[str, ...]]]) -> str | None:
    """Where the server keeps sent mail: the \\Sent special-use folder, else a folder with
    one of the usual names; None when there is none."""
    for name, flags in folders:
        if _SENT in {flag.lower() for flag in flags}:
            return name
    usual = {"sent", "sent items", "sent messages", "sent mail"}
    return next((name for name, _ in folders if name.lower() in usual), None)


def _check_same_folder(cursor: FolderCursor, folder: str) -> None:
    if cursor.folder != folder:
        raise ValueError(f"cursor of folder {cursor.folder!r} used for folder {folder!r}")
