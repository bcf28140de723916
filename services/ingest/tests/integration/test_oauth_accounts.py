"""OAuth2 accounts against a local authorization server and a Dovecot that checks XOAUTH2
tokens by introspection (decision 0023)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commsintel.ingest.adapters.imap import ImapAccount, ImapAuthFailed, ImapSession
from commsintel.ingest.adapters.oauth import (
    OAuthClient,
    OAuthTokens,
    TokenEndpointUnavailable,
    TokenRefused,
)
from commsintel.ingest.domain.destinations import DestinationPolicy
from commsintel.ingest.domain.oauth import Endpoint, generic
from services.ingest.tests.integration.conftest import Dovecot, _running_dovecot
from services.ingest.tests.integration.local_destinations import LOOPBACK_ALLOWED
from services.ingest.tests.integration.oauth_server import (
    AuthorizationServer,
    running_authorization_server,
)

USER = "carol"
REDIRECT = "https://app.example/oauth/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[AuthorizationServer]:
    with running_authorization_server(lifetime=4) as server:
        yield server


@pytest.fixture(scope="module")
def oauth_dovecot(provider: AuthorizationServer) -> Iterator[Dovecot]:
    # The passwd-file entry gives the user a home; its password is never used.
    with _running_dovecot(
        {USER: "not-used-" + "x" * 20}, oauth_introspection_url=provider.introspection_endpoint
    ) as server:
        yield server


def client_for(provider: AuthorizationServer, dovecot: Dovecot | None = None) -> OAuthClient:
    imap = Endpoint(dovecot.host, dovecot.port, "none") if dovecot else None
    preset = generic(
        authorization_endpoint=provider.authorization_endpoint,
        token_endpoint=provider.token_endpoint,
        scopes=("mail",),
        imap=imap,
    )
    return OAuthClient(preset, provider.client_id, provider.client_secret, REDIRECT)


async def test_code_flow_with_pkce_then_refresh_and_revocation(provider):
    tokens = OAuthTokens(LOOPBACK_ALLOWED)
    client = client_for(provider)
    request = tokens.authorization_request(client, login_hint="carol@example.com")
    assert "code_challenge=" in request.url and request.state in request.url
    assert "login_hint=carol%40example.com" in request.url
    assert request.code_verifier not in request.url
    code, state = provider.authorize(request.url, USER)
    assert state == request.state
    with pytest.raises(TokenRefused):  # the verifier is checked (PKCE)
        await tokens.exchange_code(client, code, "wrong-verifier-" + "x" * 40)
    code, _ = provider.authorize(request.url, USER)
    grant = await tokens.exchange_code(client, code, request.code_verifier)
    assert grant.access_token.startswith("at-") and grant.refresh_token.startswith("rt-")
    assert grant.expires_in == 4
    again = await tokens.refresh(client, grant.refresh_token)
    assert again.access_token != grant.access_token
    assert again.refresh_token == grant.refresh_token
    provider.revoke(grant.refresh_token)
    with pytest.raises(TokenRefused) as refused:
        await tokens.refresh(client, grant.refresh_token)
    assert grant.refresh_token not in str(refused.value)


async def test_the_token_endpoint_is_an_outbound_fetch_checked_by_the_policy(provider):
    tokens = OAuthTokens(DestinationPolicy())  # public addresses only
    with pytest.raises(TokenEndpointUnavailable, match="refused"):
        await tokens.refresh(client_for(provider), "rt-anything")


async def test_dovecot_accepts_a_live_token_and_refuses_an_expired_one(provider, oauth_dovecot):
    tokens = OAuthTokens(LOOPBACK_ALLOWED)
    client = client_for(provider, oauth_dovecot)
    grant = await tokens.refresh(client, provider.grant_directly(USER))

    def account(token: str) -> ImapAccount:
        return ImapAccount(
            oauth_dovecot.host,
            oauth_dovecot.port,
            USER,
            oauth2_token=token,
            security="none",
            destinations=LOOPBACK_ALLOWED,
        )

    async with ImapSession(account(grant.access_token)) as imap:
        assert await imap.folders()
    with pytest.raises(ImapAuthFailed) as failed:
        async with ImapSession(account("at-not-a-token-" + "y" * 20)):
            pass
    assert "at-not-a-token" not in str(failed.value)
