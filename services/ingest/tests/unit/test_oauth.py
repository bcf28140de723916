"""OAuth2 provider presets and the credential's state machine (decision 0025)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commsintel.ingest.domain.oauth import (
    GOOGLE,
    MICROSOFT,
    REFRESH_MARGIN,
    Endpoint,
    OAuthCredential,
    generic,
    granted,
    microsoft,
    needs_refresh,
    refresh_due_at,
    refresh_refused,
    refresh_started,
    refresh_succeeded,
    refresh_unavailable,
    usable,
)

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_google_preset_has_imap_smtp_caldav_and_asks_for_a_refresh_token():
    assert GOOGLE.imap == Endpoint("imap.gmail.com", 993, "tls")
    assert GOOGLE.smtp == Endpoint("smtp.gmail.com", 465, "tls")
    assert GOOGLE.caldav_url.startswith("https://apidata.googleusercontent.com/caldav/v2/")
    assert "https://mail.google.com/" in GOOGLE.scopes
    assert dict(GOOGLE.authorization_params)["access_type"] == "offline"
    assert GOOGLE.token_endpoint == "https://oauth2.googleapis.com/token"


def test_microsoft_preset_has_imap_smtp_and_offline_access_per_tenant():
    assert MICROSOFT.imap == Endpoint("outlook.office365.com", 993, "tls")
    assert MICROSOFT.smtp == Endpoint("smtp.office365.com", 587, "starttls")
    assert "offline_access" in MICROSOFT.scopes
    assert "https://outlook.office.com/IMAP.AccessAsUser.All" in MICROSOFT.scopes
    assert "https://outlook.office.com/SMTP.Send" in MICROSOFT.scopes
    assert MICROSOFT.caldav_url == ""
    tenant = microsoft("contoso.onmicrosoft.com")
    assert tenant.token_endpoint == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )


def test_generic_provider_is_what_the_operator_configured():
    provider = generic(
        authorization_endpoint="https://idp.example/authorize",
        token_endpoint="https://idp.example/token",
        scopes=("mail",),
        imap=Endpoint("mail.example", 993, "tls"),
    )
    assert provider.name == "generic"
    assert provider.smtp is None
    assert provider.scopes == ("mail",)


def test_an_hour_token_is_refreshed_a_minute_before_expiry():
    credential = granted("google", T0, 3600)
    assert refresh_due_at(credential) == T0 + timedelta(minutes=59)
    assert not needs_refresh(credential, T0 + timedelta(minutes=58))
    assert needs_refresh(credential, T0 + timedelta(minutes=59))


def test_a_short_token_is_refreshed_with_a_fifth_of_its_life_left():
    credential = granted("generic", T0, 10)
    assert refresh_due_at(credential) == T0 + timedelta(seconds=8)


def test_a_token_without_a_lifetime_is_refreshed_only_after_an_auth_failure():
    credential = granted("generic", T0, None)
    assert not needs_refresh(credential, T0 + timedelta(days=400))
    assert needs_refresh(credential, T0, auth_failed=True)


def test_refused_refresh_needs_reauthorization_and_is_never_tried_again():
    credential = refresh_refused(refresh_started(granted("google", T0, 3600)))
    assert credential.state == "needs_reauthorization"
    assert not usable(credential)
    assert not needs_refresh(credential, T0 + timedelta(days=1), auth_failed=True)
    with pytest.raises(ValueError):
        refresh_started(credential)


def test_an_unanswered_refresh_stays_valid_and_is_retried():
    credential = refresh_unavailable(refresh_started(granted("google", T0, 3600)))
    assert credential.state == "valid"
    assert credential.refresh_failures == 1
    assert needs_refresh(credential, T0 + timedelta(hours=2))


lifetimes = st.one_of(st.none(), st.integers(min_value=1, max_value=10 * 86400))
steps = st.lists(st.sampled_from(["refresh_ok", "refused", "unavailable", "tick"]), max_size=30)


@given(lifetime=lifetimes, elapsed=st.integers(min_value=0, max_value=20 * 86400))
def test_refresh_is_due_before_expiry_and_never_more_than_the_margin_early(lifetime, elapsed):
    credential = granted("google", T0, lifetime)
    due = refresh_due_at(credential)
    if lifetime is None:
        assert due is None
        return
    assert due is not None and due < credential.expires_at
    assert credential.expires_at - due <= REFRESH_MARGIN
    now = T0 + timedelta(seconds=elapsed)
    assert needs_refresh(credential, now) == (now >= due)


@given(lifetime=lifetimes, actions=steps)
def test_state_machine_only_leaves_needs_reauthorization_by_a_new_grant(lifetime, actions):
    credential: OAuthCredential = granted("microsoft", T0, lifetime)
    now = T0
    for action in actions:
        before = credential
        if action == "tick":
            now += timedelta(seconds=900)
            continue
        if credential.state == "needs_reauthorization":
            with pytest.raises(ValueError):
                refresh_started(credential)
            assert not needs_refresh(credential, now, auth_failed=True)
            continue
        refreshing = refresh_started(credential)
        assert refreshing.state == "refreshing"
        if action == "refresh_ok":
            credential = refresh_succeeded(refreshing, now, lifetime)
            assert credential.state == "valid" and credential.refresh_failures == 0
            assert not needs_refresh(credential, now) or lifetime is not None
        elif action == "refused":
            credential = refresh_refused(refreshing)
            assert credential.state == "needs_reauthorization"
        else:
            credential = refresh_unavailable(refreshing)
            assert credential.state == "valid"
            assert credential.refresh_failures == before.refresh_failures + 1
        assert credential.provider == "microsoft"
    # a new authorization always brings it back
    assert usable(granted("microsoft", now, lifetime))


def settings(**overrides):
    from commsintel.ingest.config import IngestSettings

    return IngestSettings(signing_key="k" * 32, encryption_key="A" * 43 + "=", **overrides)


def test_operator_settings_offer_only_the_configured_providers():
    assert settings().oauth_clients() == {}
    clients = settings(
        oauth_redirect_uri="https://app.example/cb",
        oauth_google_client_id="g-id",
        oauth_google_client_secret="g-secret",
        oauth_microsoft_client_id="m-id",
        oauth_microsoft_tenant="contoso",
        oauth_generic_client_id="x-id",
        oauth_generic_token_endpoint="https://idp.example/token",
        oauth_generic_authorization_endpoint="https://idp.example/auth",
        oauth_generic_scopes="mail offline_access",
        oauth_generic_imap="mail.example:143:starttls",
        oauth_generic_smtp="mail.example:587",
    ).oauth_clients()
    assert sorted(clients) == ["generic", "google", "microsoft"]
    assert clients["google"].provider is GOOGLE
    assert clients["google"].client_secret == "g-secret"
    assert "g-secret" not in repr(clients["google"])
    assert clients["microsoft"].provider.token_endpoint.startswith(
        "https://login.microsoftonline.com/contoso/"
    )
    generic_provider = clients["generic"].provider
    assert generic_provider.imap == Endpoint("mail.example", 143, "starttls")
    assert generic_provider.smtp == Endpoint("mail.example", 587, "tls")
    assert generic_provider.scopes == ("mail", "offline_access")
    assert {c.redirect_uri for c in clients.values()} == {"https://app.example/cb"}


def test_a_malformed_generic_server_setting_is_refused_at_start():
    with pytest.raises(ValueError):
        settings(oauth_generic_imap="mail.example")
    with pytest.raises(ValueError):
        settings(oauth_generic_smtp="mail.example:587:ssl")


def test_a_generic_provider_needs_an_issuer_or_a_token_endpoint():
    with pytest.raises(ValueError):
        generic(scopes=("mail",))
    assert generic(issuer="https://idp.example", scopes=()).token_endpoint == ""
