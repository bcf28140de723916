"""OAuth2 accounts (decision 0025): the providers a member can connect with, and the
life of a mailbox's OAuth2 credential.

Pure: the presets are data, and the credential is a small state machine over times
handed in by the caller (valid -> refreshing -> valid | needs_reauthorization). The
token mechanics (authorization URL, PKCE, code exchange, refresh) live in
`adapters/oauth.py`, on Authlib.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

ProviderName = Literal["google", "microsoft", "generic"]
PROVIDERS: tuple[ProviderName, ...] = ("google", "microsoft", "generic")


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    security: Literal["tls", "starttls", "none"]


@dataclass(frozen=True, slots=True)
class OAuthProvider:
    """Where a provider authorizes and issues tokens, what to ask for, and its servers.

    Client id and secret are the operator's (settings), never the member's."""

    name: ProviderName
    authorization_endpoint: str
    token_endpoint: str
    scopes: tuple[str, ...]
    imap: Endpoint | None
    smtp: Endpoint | None
    caldav_url: str = ""  # "{username}" is replaced by the account's address
    revocation_endpoint: str = ""
    # Extra authorization parameters: what makes the provider hand out a refresh token.
    authorization_params: tuple[tuple[str, str], ...] = ()
    # Where the endpoints are discovered (RFC 8414 / OpenID discovery) when not given.
    issuer: str = ""


GOOGLE = OAuthProvider(
    name="google",
    authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
    token_endpoint="https://oauth2.googleapis.com/token",
    revocation_endpoint="https://oauth2.googleapis.com/revoke",
    # https://mail.google.com/ is the only scope Gmail's IMAP and SMTP accept.
    scopes=("https://mail.google.com/", "https://www.googleapis.com/auth/calendar"),
    imap=Endpoint("imap.gmail.com", 993, "tls"),
    smtp=Endpoint("smtp.gmail.com", 465, "tls"),
    caldav_url="https://apidata.googleusercontent.com/caldav/v2/{username}/events/",
    authorization_params=(("access_type", "offline"), ("prompt", "consent")),
)


def microsoft(tenant: str = "common") -> OAuthProvider:
    """Microsoft 365 (Exchange Online) through the identity platform v2 endpoints of a
    tenant ("common", "organizations" or a tenant id)."""
    base = f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0"
    return OAuthProvider(
        name="microsoft",
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        # offline_access is what yields a refresh token.
        scopes=(
            "https://outlook.office.com/IMAP.AccessAsUser.All",
            "https://outlook.office.com/SMTP.Send",
            "offline_access",
        ),
        imap=Endpoint("outlook.office365.com", 993, "tls"),
        smtp=Endpoint("smtp.office365.com", 587, "starttls"),
    )


MICROSOFT = microsoft()


def generic(
    *,
    authorization_endpoint: str = "",
    token_endpoint: str = "",
    scopes: tuple[str, ...],
    imap: Endpoint | None = None,
    smtp: Endpoint | None = None,
    caldav_url: str = "",
    revocation_endpoint: str = "",
    issuer: str = "",
) -> OAuthProvider:
    """A provider the operator defines in settings (any RFC 6749 authorization server):
    its endpoints, or its issuer to discover them from."""
    if not issuer and not token_endpoint:
        raise ValueError("a generic provider needs an issuer or a token endpoint")
    return OAuthProvider(
        name="generic",
        authorization_endpoint=authorization_endpoint,
        token_endpoint=token_endpoint,
        scopes=scopes,
        imap=imap,
        smtp=smtp,
        caldav_url=caldav_url,
        revocation_endpoint=revocation_endpoint,
        issuer=issuer,
    )


# The credential's state machine.

CredentialState = Literal["valid", "refreshing", "needs_reauthorization"]
# Refresh when less than this share of the token's lifetime is left, or this many
# seconds, whichever comes first.
REFRESH_SHARE = 0.2
REFRESH_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class OAuthCredential:
    """What is known of a mailbox's OAuth2 credential, without the tokens themselves
    (those are sealed with the mailbox's other secrets)."""

    provider: ProviderName
    state: CredentialState = "valid"
    issued_at: datetime | None = None
    expires_at: datetime | None = None  # None: the provider gave no lifetime
    refresh_failures: int = 0


def granted(
    provider: ProviderName, issued_at: datetime, expires_in: float | None
) -> OAuthCredential:
    """A fresh token from the provider (code exchange, refresh, or a reconnect)."""
    expires_at = issued_at + timedelta(seconds=expires_in) if expires_in else None
    return OAuthCredential(provider=provider, issued_at=issued_at, expires_at=expires_at)


def refresh_due_at(credential: OAuthCredential) -> datetime | None:
    """When the access token should be replaced: ahead of expiry by a fifth of its
    lifetime, capped at REFRESH_MARGIN ahead (a token of an hour is refreshed at 59 min;
    one of 10 s at 8 s)."""
    if credential.expires_at is None:
        return None
    if credential.issued_at is None:
        return credential.expires_at - REFRESH_MARGIN
    lifetime = credential.expires_at - credential.issued_at
    ahead = min(lifetime * REFRESH_SHARE, REFRESH_MARGIN)
    return credential.expires_at - max(ahead, timedelta(0))


def needs_refresh(credential: OAuthCredential, now: datetime, *, auth_failed: bool = False) -> bool:
    """Whether to refresh before the next use: the token is near its expiry, or the
    server just refused it. A credential that needs reauthorization is never refreshed
    (the provider refused already; only the member can fix it)."""
    if credential.state == "needs_reauthorization":
        return False
    if auth_failed:
        return True
    due = refresh_due_at(credential)
    return due is not None and now >= due


def refresh_started(credential: OAuthCredential) -> OAuthCredential:
    if credential.state == "needs_reauthorization":
        raise ValueError("a credential that needs reauthorization is not refreshed")
    return replace(credential, state="refreshing")


def refresh_succeeded(
    credential: OAuthCredential, issued_at: datetime, expires_in: float | None
) -> OAuthCredential:
    return granted(credential.provider, issued_at, expires_in)


def refresh_refused(credential: OAuthCredential) -> OAuthCredential:
    """The provider refused the refresh token (revoked, consent withdrawn, expired):
    nothing but a new authorization brings the mailbox back."""
    return replace(
        credential, state="needs_reauthorization", refresh_failures=credential.refresh_failures + 1
    )


def refresh_unavailable(credential: OAuthCredential) -> OAuthCredential:
    """The token endpoint did not answer (network, 5xx): still valid as far as we know;
    tried again with the sync's backoff."""
    return replace(credential, state="valid", refresh_failures=credential.refresh_failures + 1)


def usable(credential: OAuthCredential) -> bool:
    return credential.state != "needs_reauthorization"
