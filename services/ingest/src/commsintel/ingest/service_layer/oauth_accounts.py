"""OAuth2 accounts (decision 0025): starting an authorization for a member, turning its
code (or a refresh token obtained elsewhere) into a mailbox's sealed credential, and
handing IMAP, SMTP and CalDAV a fresh access token, refreshed ahead of expiry and after
an auth failure. A refresh the provider refuses puts the credential in
`needs_reauthorization`; nothing refreshes it again until the member reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from commsintel.contracts.auth import Caller
from commsintel.contracts.errors import InvalidValue, TryAgainLater
from commsintel.ingest.adapters.oauth import (
    OAuthClient,
    OAuthTokens,
    TokenEndpointUnavailable,
    TokenGrant,
    TokenRefused,
)
from commsintel.ingest.adapters.store import IngestStore
from commsintel.ingest.domain.oauth import (
    OAuthCredential,
    ProviderName,
    granted,
    needs_refresh,
    refresh_refused,
    refresh_started,
    refresh_succeeded,
    refresh_unavailable,
)

log = logging.getLogger(__name__)
AUTHORIZATION_TTL = timedelta(minutes=10)
ACCESS_TOKEN = "oauth2_access_token"
REFRESH_TOKEN = "oauth2_refresh_token"


class ReauthorizationNeeded(Exception):
    """The provider refused the refresh token: only a new authorization helps."""


@dataclass(frozen=True)
class OAuthGrantRequest:
    """What a member hands ConnectMailbox/ReconnectMailbox: a started authorization's state
    and code, or a refresh token (with its provider)."""

    provider: ProviderName | None = None
    state: str = ""
    code: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class StartedAuthorization:
    url: str
    state: str
    expires_at: datetime


class OAuthAccounts:
    def __init__(
        self,
        *,
        store: IngestStore,
        tokens: OAuthTokens,
        clients: Mapping[ProviderName, OAuthClient],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._clients = dict(clients)
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    def client(self, provider: ProviderName) -> OAuthClient:
        found = self._clients.get(provider)
        if found is None:
            raise InvalidValue(f"the {provider} provider is not configured on this server")
        return found

    async def start(
        self, caller: Caller, provider: ProviderName, login_hint: str
    ) -> StartedAuthorization:
        client = self.client(provider)
        try:
            request = await self._tokens.authorization_request(client, login_hint.strip())
        except TokenEndpointUnavailable as error:
            log.warning("authorization not started: %s", error)
            raise TryAgainLater("the provider's metadata could not be read: retry") from None
        now = self._clock()
        expires_at = now + AUTHORIZATION_TTL
        await self._store.forget_expired_authorizations(now)
        await self._store.save_authorization(
            request.state,
            workspace_id=caller.workspace_id,
            member_id=caller.member_id,
            provider=provider,
            code_verifier=request.code_verifier,
            expires_at=expires_at,
        )
        return StartedAuthorization(request.url, request.state, expires_at)

    async def grant(
        self, caller: Caller, request: OAuthGrantRequest
    ) -> tuple[ProviderName, TokenGrant, OAuthCredential]:
        """Exchanges the code (or checks the refresh token by refreshing it): the tokens to
        seal and the credential's first state. INVALID_ARGUMENT when the provider refuses,
        UNAVAILABLE when it does not answer."""
        now = self._clock()
        try:
            if request.code or request.state:
                if not (request.code and request.state):
                    raise InvalidValue("imap.oauth2 needs both state and code")
                pending = await self._store.take_authorization(
                    request.state,
                    workspace_id=caller.workspace_id,
                    member_id=caller.member_id,
                    now=now,
                )
                if pending is None:
                    raise InvalidValue(
                        "imap.oauth2.state is unknown or expired: start the authorization again"
                    )
                provider, verifier = pending
                tokens = await self._tokens.exchange_code(
                    self.client(provider), request.code, verifier
                )
            elif request.refresh_token:
                if request.provider is None:
                    raise InvalidValue("imap.oauth2.provider is required with a refresh_token")
                provider = request.provider
                tokens = await self._tokens.refresh(self.client(provider), request.refresh_token)
            else:
                raise InvalidValue("imap.oauth2 needs state and code, or a refresh_token")
        except TokenRefused:
            raise InvalidValue("the provider refused this authorization") from None
        except TokenEndpointUnavailable as error:
            log.warning("token endpoint unavailable while connecting: %s", error)
            raise TryAgainLater("the provider's token endpoint did not answer: retry") from None
        if not tokens.refresh_token:
            raise InvalidValue(
                "the provider gave no refresh token (ask for offline access and consent)"
            )
        return provider, tokens, granted(provider, now, tokens.expires_in)

    async def access_token(self, mailbox_id: str, *, auth_failed: bool = False) -> str:
        """A usable access token for the mailbox: the stored one, or a new one when it is
        near expiry or the server has just refused it. ReauthorizationNeeded when the
        provider refuses the refresh; TokenEndpointUnavailable when it does not answer."""
        lock = self._locks.setdefault(mailbox_id, asyncio.Lock())
        async with lock:  # one refresh per mailbox at a time in this process
            credential, secrets = await self._credential(mailbox_id)
            if credential is None:
                return secrets[ACCESS_TOKEN]
            if credential.state == "needs_reauthorization":
                raise ReauthorizationNeeded()
            now = self._clock()
            if not needs_refresh(credential, now, auth_failed=auth_failed):
                return secrets[ACCESS_TOKEN]
            client = self._clients.get(credential.provider)
            if client is None:
                raise TokenEndpointUnavailable(
                    f"the {credential.provider} provider is not configured on this server"
                )
            await self._store.save_oauth(mailbox_id, refresh_started(credential))
            try:
                tokens = await self._tokens.refresh(client, secrets[REFRESH_TOKEN])
            except TokenRefused:
                await self._store.save_oauth(mailbox_id, refresh_refused(credential))
                log.info("mailbox %s needs reauthorization: refresh refused", mailbox_id)
                raise ReauthorizationNeeded() from None
            except TokenEndpointUnavailable:
                await self._store.save_oauth(mailbox_id, refresh_unavailable(credential))
                raise
            await self._store.save_oauth(
                mailbox_id,
                refresh_succeeded(credential, self._clock(), tokens.expires_in),
                {ACCESS_TOKEN: tokens.access_token, REFRESH_TOKEN: tokens.refresh_token},
            )
            log.info("mailbox %s: access token refreshed", mailbox_id)
            return tokens.access_token

    async def _credential(self, mailbox_id: str) -> tuple[OAuthCredential | None, dict[str, str]]:
        secrets = await self._store.secrets(mailbox_id)
        record = await self._store.mailbox_by_id(mailbox_id)
        return record.oauth, secrets


def sealed_tokens(tokens: TokenGrant) -> dict[str, str]:
    return {ACCESS_TOKEN: tokens.access_token, REFRESH_TOKEN: tokens.refresh_token}
