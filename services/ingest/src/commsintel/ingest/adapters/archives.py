"""Streaming readers for imported mail archives: mbox, Maildir, a folder of .eml files.

One message is in memory at a time, so a multi-gigabyte mbox imports in constant
memory. Each item says where it came from, for quarantine reasons.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_MBOX_SEPARATOR = b"From "
_BLANK_LINES = (b"\n", b"\r\n")


@dataclass(frozen=True, slots=True)
class ArchiveItem:
    source: str  # "path/to/file.mbox#17" (17th message, counting from 1) or "dir/x.eml"
    raw: bytes


class ArchiveNotFound(FileNotFoundError):
    """Nothing at the path the member gave for an archive import."""


def iter_archive(path: Path) -> Iterator[ArchiveItem]:
    """The messages of the archive at `path`, in a stable order.

    A directory with cur/ or new/ is a Maildir (cur, then new, names sorted); any other
    directory is searched recursively for *.eml files (sorted); a .eml file is one
    message; any other file is read as an mbox.
    """
    path = Path(path)
    if not path.exists():
        raise ArchiveNotFound(errno.ENOENT, "no mail archive at this path", str(path))
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            return _maildir_items(path)
        return _eml_items(path)
    if _is_eml(path):
        return _file_items([path])
    return _mbox_items(path)


def _maildir_items(maildir: Path) -> Iterator[ArchiveItem]:
    for folder in (maildir / "cur", maildir / "new"):
        if folder.is_dir():
            # Names starting with "." are not messages in Maildir.
            names = sorted(f.name for f in folder.iterdir() if not f.name.startswith("."))
            yield from _file_items(folder / name for name in names)


def _eml_items(directory: Path) -> Iterator[ArchiveItem]:
    yield from _file_items(sorted(f for f in directory.rglob("*") if _is_eml(f)))


def _is_eml(path: Path) -> bool:
    return path.suffix.lower() == ".eml" and path.is_file()


def _file_items(files: Iterable[Path]) -> Iterator[ArchiveItem]:
    for file in files:
        if file.is_file():
            yield ArchiveItem(source=str(file), raw=file.read_bytes())


def _mbox_items(mbox: Path) -> Iterator[ArchiveItem]:
    """Split on From_ lines that start the file or follow a blank line (mboxrd rules).

    Anything before the first From_ line is yielded as a message of its own when it is
    not blank, so a lone message without .eml suffix still imports (or is quarantined
    with a reason) instead of vanishing.
    """
    number = 0
    lines: list[bytes] = []
    in_message = False  # the current lines began with a From_ line
    after_blank = True
    with mbox.open("rb") as handle:
        for line in handle:
            if after_blank and line.startswith(_MBOX_SEPARATOR):
                if in_message or _has_text(lines):
                    number += 1
                    yield _mbox_item(mbox, number, lines)
                lines, in_message, after_blank = [], True, False
                continue
            after_blank = line in _BLANK_LINES
            lines.append(_unescaped(line))
    if in_message or _has_text(lines):
        yield _mbox_item(mbox, number + 1, lines)


def _has_text(lines: list[bytes]) -> bool:
    return any(line.strip() for line in lines)


def _unescaped(line: bytes) -> bytes:
    # mboxrd: writers prefix body lines matching /^>*From / with one more ">".
    if line.startswith(b">") and line.lstrip(b">").startswith(_MBOX_SEPARATOR):
        return line[1:]
    return line


def _mbox_item(mbox: Path, number: int, lines: list[bytes]) -> ArchiveItem:
    # The blank line before the next From_ line belongs to the mbox, not the message.
    if lines and lines[-1] in _BLANK_LINES:
        lines = lines[:-1]
    return ArchiveItem(source=f"{mbox}#{number}", raw=b"".join(lines))
