"""Who may add members: admins, and for a workspace's first admin the deployment's
operator, never the first member who asks (docs/decisions/0021)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commsintel.contracts.errors import InvalidValue, NotAllowed
from commsintel.identity.domain.workspace import WorkspaceSettings, add_member, apply_setting

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_the_first_member_who_asks_does_not_become_admin_of_a_new_workspace() -> None:
    settings = WorkspaceSettings("acme")
    with pytest.raises(NotAllowed):
        add_member(
            settings,
            caller="mallory",
            member_id="mallory",
            addresses=["m@x.io"],
            is_admin=True,
            at=AT,
        )


def test_nor_of_a_workspace_that_already_has_mail() -> None:
    # Mail synced: mailbox owners are known, but nobody is an admin yet.
    settings = WorkspaceSettings("acme").with_mailbox_owners(("alice@acme.io",))
    with pytest.raises(NotAllowed):
        add_member(
            settings,
            caller="alice",
            member_id="alice",
            addresses=["alice@acme.io"],
            is_admin=True,
            at=AT,
        )


def test_the_operator_sets_the_first_admin_who_then_adds_the_others() -> None:
    settings = WorkspaceSettings("acme")
    # The operator makes alice the admin.
    event = add_member(
        settings,
        caller="operator",
        member_id="alice",
        addresses=["Alice@Acme.io"],
        is_admin=True,
        at=AT,
        by_operator=True,
    )
    assert (event.member_id, event.addresses, event.is_admin, event.added_by) == (
        "alice",
        ("alice@acme.io",),
        True,
        "operator",
    )
    settings = apply_setting(settings, event)
    assert settings.is_admin("alice")
    # Alice adds ben; ben, not an admin, adds nobody.
    settings = apply_setting(
        settings,
        add_member(
            settings,
            caller="alice",
            member_id="ben",
            addresses=["ben@acme.io"],
            is_admin=False,
            at=AT,
        ),
    )
    with pytest.raises(NotAllowed):
        add_member(
            settings,
            caller="ben",
            member_id="carol",
            addresses=["c@acme.io"],
            is_admin=False,
            at=AT,
        )


def test_the_operator_adds_admins_only() -> None:
    with pytest.raises(InvalidValue, match="admins only"):
        add_member(
            WorkspaceSettings("acme"),
            caller="operator",
            member_id="ben",
            addresses=["ben@acme.io"],
            is_admin=False,
            at=AT,
            by_operator=True,
        )


def test_the_last_admin_cannot_demote_themself_and_leave_the_workspace_without_one() -> None:
    settings = apply_setting(
        WorkspaceSettings("acme"),
        add_member(
            WorkspaceSettings("acme"),
            caller="operator",
            member_id="alice",
            addresses=["alice@acme.io"],
            is_admin=True,
            at=AT,
            by_operator=True,
        ),
    )
    with pytest.raises(InvalidValue, match="last admin"):
        add_member(
            settings,
            caller="alice",
            member_id="alice",
            addresses=["alice@acme.io"],
            is_admin=False,
            at=AT,
        )
