from pathlib import Path

import pytest

from commsintel.ingest.adapters.archives import ArchiveItem, ArchiveNotFound, iter_archive
from commsintel.ingest.domain.parsing import parse_message


def message(n: int, body: str = "Hello\n") -> bytes:
    return (
        f"From: sender{n}@example.com\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n"
        f"Message-ID: <{n}@example.com>\n\n{body}"
    ).encode()


def test_mbox_yields_each_message_with_from_lines_unescaped(tmp_path: Path):
    # given an mboxrd file with three messages; bodies quote "From " lines
    mbox = tmp_path / "inbox.mbox"
    mbox.write_bytes(
        b"From sender1@example.com Tue Jan  2 10:00:00 2024\n"
        + message(1, "Hi\n\n>From the start of a line\n>>From quoted twice\n")
        + b"\nFrom sender2@example.com Tue Jan  2 11:00:00 2024\n"
        + message(2, "Not a separator:\nFrom here without a blank line before\n")
        + b"\nFrom sender3@example.com Tue Jan  2 12:00:00 2024\n"
        + message(3)
        + b"\n"
    )

    items = list(iter_archive(mbox))

    # then each message comes back without its From_ line, escaping undone
    assert [item.source for item in items] == [f"{mbox}#1", f"{mbox}#2", f"{mbox}#3"]
    assert items[0].raw == message(1, "Hi\n\nFrom the start of a line\n>From quoted twice\n")
    assert items[1].raw == message(2, "Not a separator:\nFrom here without a blank line before\n")
    assert items[2].raw == message(3)
    # and every item is a message the parser accepts
    ids = [parse_message(i.raw, owner_addresses=frozenset()).message_id for i in items]
    assert ids == ["1@example.com", "2@example.com", "3@example.com"]


def test_mbox_with_crlf_line_endings_splits_the_same(tmp_path: Path):
    mbox = tmp_path / "windows.mbox"
    first, second = (message(n).replace(b"\n", b"\r\n") for n in (1, 2))
    mbox.write_bytes(b"From a Tue Jan  2\r\n" + first + b"\r\nFrom b Tue Jan  2\r\n" + second)

    assert [item.raw for item in iter_archive(mbox)] == [first, second]


def test_lone_message_without_eml_suffix_is_read_whole(tmp_path: Path):
    file = tmp_path / "saved-message.txt"
    file.write_bytes(message(1))

    assert list(iter_archive(file)) == [ArchiveItem(f"{file}#1", message(1))]


def test_empty_mbox_yields_nothing(tmp_path: Path):
    mbox = tmp_path / "empty.mbox"
    mbox.write_bytes(b"")

    assert list(iter_archive(mbox)) == []


def test_maildir_reads_cur_then_new_in_name_order(tmp_path: Path):
    # given a Maildir with read mail in cur/, unread in new/ and a temp file in tmp/
    maildir = tmp_path / "Maildir"
    for folder in ("cur", "new", "tmp"):
        (maildir / folder).mkdir(parents=True)
    (maildir / "cur" / "200.b:2,S").write_bytes(message(2))
    (maildir / "cur" / "100.a:2,S").write_bytes(message(1))
    (maildir / "new" / "300.c").write_bytes(message(3))
    (maildir / "new" / ".hidden").write_bytes(b"not mail")
    (maildir / "tmp" / "400.d").write_bytes(message(4))

    items = list(iter_archive(maildir))

    # then delivered messages come in order, half-written ones in tmp/ are left alone
    assert items == [
        ArchiveItem(str(maildir / "cur" / "100.a:2,S"), message(1)),
        ArchiveItem(str(maildir / "cur" / "200.b:2,S"), message(2)),
        ArchiveItem(str(maildir / "new" / "300.c"), message(3)),
    ]


def test_folder_of_eml_files_is_read_recursively_in_order(tmp_path: Path):
    # given exported .eml files in nested folders, next to other files
    export = tmp_path / "export"
    (export / "2024" / "01").mkdir(parents=True)
    (export / "b.eml").write_bytes(message(2))
    (export / "a.EML").write_bytes(message(1))
    (export / "2024" / "01" / "c.eml").write_bytes(message(3))
    (export / "notes.txt").write_bytes(b"not mail")

    items = list(iter_archive(export))

    assert [item.source for item in items] == [
        str(export / "2024" / "01" / "c.eml"),
        str(export / "a.EML"),
        str(export / "b.eml"),
    ]
    assert [item.raw for item in items] == [message(3), message(1), message(2)]


def test_single_eml_file_is_one_message(tmp_path: Path):
    eml = tmp_path / "x.eml"
    eml.write_bytes(message(1, "From the desk of Alice\n"))

    assert list(iter_archive(eml)) == [
        ArchiveItem(str(eml), message(1, "From the desk of Alice\n"))
    ]


def test_missing_archive_is_reported_before_reading(tmp_path: Path):
    with pytest.raises(ArchiveNotFound) as error:
        iter_archive(tmp_path / "nowhere.mbox")

    assert isinstance(error.value, FileNotFoundError)
    assert error.value.filename == str(tmp_path / "nowhere.mbox")
