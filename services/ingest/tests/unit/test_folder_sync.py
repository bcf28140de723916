import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from commsintel.ingest.domain.folder_sync import (
    FolderCursor,
    FolderPlan,
    FolderStatus,
    advance,
    folders_to_sync,
    plan_folder_sync,
)

INBOX_NOW = FolderStatus("INBOX", uidvalidity=1700000000, uidnext=43, messages=40)


def test_first_sync_of_a_folder_is_a_backfill_from_the_first_message():
    assert plan_folder_sync(None, INBOX_NOW) == FolderPlan(
        "INBOX", full_resync=True, first_uid=1, reason="backfill"
    )


def test_new_mail_is_fetched_from_just_after_the_cursor():
    cursor = FolderCursor("INBOX", uidvalidity=1700000000, last_uid=40)

    assert plan_folder_sync(cursor, INBOX_NOW) == FolderPlan(
        "INBOX", full_resync=False, first_uid=41, reason="incremental"
    )


def test_folder_with_nothing_new_is_not_fetched_at_all():
    cursor = FolderCursor("INBOX", uidvalidity=1700000000, last_uid=42)

    assert plan_folder_sync(cursor, INBOX_NOW) is None


def test_recreated_folder_is_read_again_from_the_start():
    # the cursor is ahead of the new folder's UIDs, yet the whole folder is read again
    cursor = FolderCursor("INBOX", uidvalidity=1600000000, last_uid=900)

    assert plan_folder_sync(cursor, INBOX_NOW) == FolderPlan(
        "INBOX", full_resync=True, first_uid=1, reason="uidvalidity changed"
    )


def test_cursor_of_another_folder_is_refused():
    cursor = FolderCursor("Sent", uidvalidity=1700000000, last_uid=3)

    with pytest.raises(ValueError, match="Sent"):
        plan_folder_sync(cursor, INBOX_NOW)
    with pytest.raises(ValueError, match="Sent"):
        advance(cursor, "INBOX", 1700000000, [4])


def test_cursor_moves_to_the_newest_uid_of_each_batch_and_never_back():
    # given a first batch
    cursor = advance(None, "INBOX", 7, [3, 1, 2])
    assert cursor == FolderCursor("INBOX", uidvalidity=7, last_uid=3)

    # when a later batch and then a replayed older batch are applied
    cursor = advance(cursor, "INBOX", 7, [10, 12])
    cursor = advance(cursor, "INBOX", 7, [1, 2, 3])

    # then the cursor stays at the newest UID seen
    assert cursor.last_uid == 12
    # and an empty batch changes nothing
    assert advance(cursor, "INBOX", 7, []) == cursor


def test_cursor_starts_over_under_a_new_uidvalidity():
    cursor = FolderCursor("INBOX", uidvalidity=7, last_uid=500, highest_modseq=900)

    assert advance(cursor, "INBOX", 8, [2]) == FolderCursor("INBOX", 8, 2)


def test_cursor_keeps_the_highest_modseq_it_was_given():
    cursor = advance(None, "INBOX", 7, [1], highest_modseq=50)
    cursor = advance(cursor, "INBOX", 7, [2])
    assert cursor.highest_modseq == 50
    cursor = advance(cursor, "INBOX", 7, [3], highest_modseq=40)
    assert cursor.highest_modseq == 50
    cursor = advance(cursor, "INBOX", 7, [4], highest_modseq=60)
    assert cursor.highest_modseq == 60


def test_gmail_syncs_inbox_sent_and_labels_but_not_all_mail_trash_or_spam():
    gmail = [
        ("INBOX", ("\\HasNoChildren",)),
        ("Clients", ("\\HasNoChildren",)),
        ("[Gmail]", ("\\HasChildren", "\\Noselect")),
        ("[Gmail]/All Mail", ("\\All", "\\HasNoChildren")),
        ("[Gmail]/Drafts", ("\\Drafts", "\\HasNoChildren")),
        ("[Gmail]/Important", ("\\HasNoChildren", "\\Important")),
        ("[Gmail]/Sent Mail", ("\\HasNoChildren", "\\Sent")),
        ("[Gmail]/Spam", ("\\HasNoChildren", "\\Junk")),
        ("[Gmail]/Starred", ("\\Flagged", "\\HasNoChildren")),
        ("[Gmail]/Trash", ("\\HasNoChildren", "\\Trash")),
    ]

    assert folders_to_sync(gmail) == ["INBOX", "[Gmail]/Sent Mail", "Clients"]


def test_archive_folder_is_synced_after_sent_and_flags_are_case_insensitive():
    listing = [
        ("Projects", ()),
        ("Archive", ("\\ARCHIVE",)),
        ("Sent Items", ("\\sent",)),
        ("Deleted Items", ("\\TRASH",)),
        ("Inbox", ()),
    ]

    assert folders_to_sync(listing) == ["Inbox", "Sent Items", "Archive", "Projects"]


def test_server_without_special_use_skips_trash_junk_and_drafts_by_name():
    listing = [("INBOX", ()), ("Sent", ()), ("Trash", ()), ("Junk", ()), ("Drafts", ())]

    assert folders_to_sync(listing) == ["INBOX", "Sent"]


def test_unselectable_folders_are_never_synced():
    listing = [("INBOX", ()), ("Shared", ("\\Noselect",)), ("Gone", ("\\NonExistent",))]

    assert folders_to_sync(listing) == ["INBOX"]


batches = st.lists(st.lists(st.integers(min_value=1, max_value=10_000), max_size=20), max_size=30)


@given(batches)
def test_advancing_over_any_batches_never_moves_the_cursor_back(uid_batches):
    cursor = None
    seen: list[int] = []
    for batch in uid_batches:
        before = cursor.last_uid if cursor else 0
        cursor = advance(cursor, "INBOX", 42, batch)
        seen.extend(batch)
        assert cursor.last_uid >= before
        assert cursor.last_uid == max(seen, default=0)


@given(
    old_validity=st.integers(min_value=1, max_value=2**32 - 1),
    new_validity=st.integers(min_value=1, max_value=2**32 - 1),
    last_uid=st.integers(min_value=0, max_value=2**32 - 1),
    uidnext=st.integers(min_value=1, max_value=2**32),
)
def test_any_uidvalidity_change_plans_a_full_resync(old_validity, new_validity, last_uid, uidnext):
    assume(old_validity != new_validity)
    cursor = FolderCursor("INBOX", uidvalidity=old_validity, last_uid=last_uid)
    status = FolderStatus("INBOX", uidvalidity=new_validity, uidnext=uidnext, messages=0)

    plan = plan_folder_sync(cursor, status)

    assert plan is not None and plan.full_resync and plan.first_uid == 1


def test_an_unchanged_highest_modseq_means_nothing_to_fetch():
    cursor = FolderCursor("INBOX", uidvalidity=7, last_uid=500, highest_modseq=900)
    same = FolderStatus("INBOX", uidvalidity=7, uidnext=501, messages=500, highest_modseq=900)
    assert plan_folder_sync(cursor, same) is None
    newer = FolderStatus("INBOX", uidvalidity=7, uidnext=503, messages=502, highest_modseq=902)
    plan = plan_folder_sync(cursor, newer)
    assert plan is not None and plan.first_uid == 501
