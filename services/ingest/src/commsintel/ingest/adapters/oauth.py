"""OAuth2 token mechanics on Authlib (decision 0025): the authorization URL with state and
PKCE, the code exchange, and the refresh. Every request to a provider is an outbound
fetch like a CalDAV request: its URL is checked against the destination policy first
(decision 0020), and it never follows a redirect.

Tokens never reach a log line or an exception text from here: errors carry the
provider's error code (`invalid_grant`, ...) and our own words only.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace
from typing import Any

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from commsintel.ingest.adapters.destinations import PUBLIC_ONLY, check_url_async
from commsintel.ingest.domain.destinations import DestinationPolicy, DestinationRefused
from commsintel.ingest.domain.oauth import OAuthProvider

# The provider's answers that mean only a new authorization helps (RFC 6749 5.2).
REFUSALS = frozenset({"invalid_grant", "unauthorized_client", "access_denied"})
TIMEOUT = 20.0


class TokenRefused(Exception):
    """The provider refused the grant (revoked, consent withdrawn, expired, bad code)."""


class TokenEndpointUnavailable(Exception):
    """The provider did not answer usefully (network, 5xx, not JSON): try again later."""


@dataclass(frozen=True)
class OAuthClient:
    """The operator's registration with a provider: never the member's, never stored."""

    provider: OAuthProvider
    client_id: str
    client_secret: str = field(default="", repr=False)
    redirect_uri: str = ""


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)  # "" when the provider sent none (keep the old)
    expires_in: float | None


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str = field(repr=False)


class OAuthTokens:
    def __init__(self, destinations: DestinationPolicy = PUBLIC_ONLY) -> None:
        self._destinations = destinations
        self._discovered: dict[str, OAuthProvider] = {}

    async def resolved(self, client: OAuthClient) -> OAuthClient:
        """The client with its provider's endpoints: as configured, or discovered from its
        issuer's metadata (RFC 8414, then OpenID discovery), once per process."""
        provider = client.provider
        if provider.token_endpoint and provider.authorization_endpoint:
            return client
        if not provider.issuer:
            raise TokenEndpointUnavailable("the provider has no token endpoint configured")
        found = self._discovered.get(provider.issuer)
        if found is None:
            found = await self._discover(provider)
            self._discovered[provider.issuer] = found
        return replace(client, provider=found)

    async def _discover(self, provider: OAuthProvider) -> OAuthProvider:
        issuer = provider.issuer.rstrip("/")
        for path in (
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ):
            url = issuer + path
            try:
                await check_url_async(self._destinations, url)
            except (DestinationRefused, socket.gaierror, UnicodeError):
                raise TokenEndpointUnavailable("the issuer's address is refused") from None
            try:
                async with httpx2.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
                    answer = await http.get(url)
                metadata = answer.json() if answer.status_code == 200 else None
            except (httpx2.HTTPError, ValueError):
                metadata = None
            if not isinstance(metadata, dict) or not isinstance(
                metadata.get("token_endpoint"), str
            ):
                continue
            if str(metadata.get("issuer", "")).rstrip("/") != issuer:
                continue  # RFC 8414 section 3.3: the metadata must name the same issuer
            return replace(
                provider,
                token_endpoint=provider.token_endpoint or metadata["token_endpoint"],
                authorization_endpoint=provider.authorization_endpoint
                or str(metadata.get("authorization_endpoint", "")),
                revocation_endpoint=provider.revocation_endpoint
                or str(metadata.get("revocation_endpoint", "")),
            )
        raise TokenEndpointUnavailable("the issuer's metadata could not be read")

    async def authorization_request(
        self, client: OAuthClient, login_hint: str = ""
    ) -> AuthorizationRequest:
        """The URL to send the member's browser to, with a new state and PKCE (S256)."""
        client = await self.resolved(client)
        provider = client.provider
        session = self._session(client)
        verifier = generate_token(64)
        extra: dict[str, str] = dict(provider.authorization_params)
        if login_hint:
            extra["login_hint"] = login_hint
        url, state = session.create_authorization_url(
            provider.authorization_endpoint,
            state=generate_token(32),
            code_verifier=verifier,
            **extra,
        )
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier)

    async def exchange_code(self, client: OAuthClient, code: str, code_verifier: str) -> TokenGrant:
        async def call(session: AsyncOAuth2Client) -> dict[str, Any]:
            return await session.fetch_token(
                client.provider.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )

        return await self._request(client, call)

    async def refresh(self, client: OAuthClient, refresh_token: str) -> TokenGrant:
        client = await self.resolved(client)

        async def call(session: AsyncOAuth2Client) -> dict[str, Any]:
            return await session.refresh_token(
                client.provider.token_endpoint, refresh_token=refresh_token
            )

        grant = await self._request(client, call)
        if not grant.refresh_token:  # most providers keep the same refresh token
            grant = TokenGrant(grant.access_token, refresh_token, grant.expires_in)
        return grant

    def _session(self, client: OAuthClient) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=client.client_id,
            client_secret=client.client_secret or None,
            scope=" ".join(client.provider.scopes),
            redirect_uri=client.redirect_uri or None,
            code_challenge_method="S256",
            token_endpoint_auth_method=("client_secret_post" if client.client_secret else "none"),
            timeout=TIMEOUT,
            follow_redirects=False,
        )

    async def _request(self, client: OAuthClient, call) -> TokenGrant:
        url = client.provider.token_endpoint
        try:
            await check_url_async(self._destinations, url)
        except DestinationRefused as refused:
            raise TokenEndpointUnavailable(f"the token endpoint is refused: {refused}") from None
        except (socket.gaierror, UnicodeError):
            raise TokenEndpointUnavailable("the token endpoint's name does not resolve") from None
        session = self._session(client)
        try:
            async with session:
                token = await call(session)
        except OAuthError as error:
            if error.error in REFUSALS:
                raise TokenRefused(f"the provider refused the grant ({error.error})") from None
            raise TokenEndpointUnavailable(
                f"the provider answered an error ({_code(error.error)})"
            ) from None
        except (httpx2.HTTPError, ValueError):
            raise TokenEndpointUnavailable("the token endpoint did not answer") from None
        access = token.get("access_token")
        if not isinstance(access, str) or not access:
            raise TokenEndpointUnavailable("the provider's answer has no access token")
        expires_in = token.get("expires_in")
        refresh = token.get("refresh_token")
        return TokenGrant(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) else "",
            expires_in=float(expires_in) if isinstance(expires_in, int | float) else None,
        )


def _code(code: object) -> str:
    """A provider's error code, shown only when it looks like one (no echo of input)."""
    text = str(code or "error")
    return text if text.replace("_", "").isalnum() and len(text) <= 40 else "error"
