"""SMTP submission through the member's own server (aiosmtplib, on the event loop: a
send never waits for a thread, nor behind another mailbox's wait).

Security: "tls" (implicit, port 465), "starttls" (587) or "none" (loopback tests only).
Authentication: LOGIN/PLAIN with the password, or XOAUTH2 with an access token. A
recipient the server refuses is reported with the server's reply; the others still get
the message. Error messages never contain the credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib

from commsintel.ingest.adapters.destinations import (
    PUBLIC_ONLY,
    open_checked,
    this_host_name,
    verifying_tls_context,
)
from commsintel.ingest.domain.destinations import DestinationPolicy, DestinationRefused
from commsintel.ingest.domain.secret_forms import SecretScrub


@dataclass(frozen=True)
class SmtpAccount:
    host: str
    port: int
    username: str
    password: str | None = field(default=None, repr=False)
    oauth2_token: str | None = field(default=None, repr=False)
    security: Literal["tls", "starttls", "none"] = "starttls"
    timeout: float = 30.0
    destinations: DestinationPolicy = PUBLIC_ONLY


class SmtpError(Exception):
    """The server refused the message as a whole (its reply is the message)."""


class SmtpAuthFailed(SmtpError):
    pass


class SmtpUnavailable(SmtpError):
    """Cannot reach the server, or it dropped the connection: the caller may retry."""


@dataclass(frozen=True)
class Submitted:
    refused: dict[str, str]  # recipient -> the server's reply


async def submit(
    account: SmtpAccount, sender: str, recipients: Sequence[str], raw: bytes
) -> Submitted:
    where = f"{account.host}:{account.port}"
    try:
        client = await _connect(account)
        try:
            await _authenticate(client, account)
            try:
                refused, _ = await client.sendmail(sender, list(recipients), raw)
                answers = {address: (r.code, r.message) for address, r in refused.items()}
            except aiosmtplib.SMTPRecipientsRefused as every:
                answers = {r.recipient: (r.code, r.message) for r in every.recipients}
            return Submitted(
                {address: _scrub(_reply(*answer), account) for address, answer in answers.items()}
            )
        finally:
            await _quit_quietly(client)
    except aiosmtplib.SMTPAuthenticationError as error:
        reply = _reply(error.code, error.message)
        message = f"authentication failed for {account.username}: {reply}"
        raise SmtpAuthFailed(_scrub(message, account)) from None
    except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError) as error:
        raise SmtpError(_scrub(_reply(error.code, error.message), account)) from None
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as error:
        reason = _reason(error)
        raise SmtpUnavailable(_scrub(f"cannot reach {where}: {reason}", account)) from None
    except aiosmtplib.SMTPException as error:
        raise SmtpError(_scrub(f"{where} refused the message: {error}", account)) from None
    except DestinationRefused as refused:
        raise SmtpUnavailable(f"not connecting to {where}: {refused}") from None


async def _connect(account: SmtpAccount) -> aiosmtplib.SMTP:
    """A client on a socket to an address the policy allowed (no second lookup); TLS
    checks the certificate against the host name."""
    sock = await open_checked(account.destinations, account.host, account.port, account.timeout)
    client = aiosmtplib.SMTP(
        hostname=account.host,
        sock=sock,
        local_hostname=await this_host_name(),
        timeout=account.timeout,
        use_tls=account.security == "tls",
        start_tls=account.security == "starttls",
        tls_context=verifying_tls_context(),
    )
    try:
        await client.connect()
    except BaseException:
        sock.close()
        raise
    return client


async def _authenticate(client: aiosmtplib.SMTP, account: SmtpAccount) -> None:
    if account.oauth2_token is not None:
        await client.auth_xoauth2(account.username, account.oauth2_token)
    elif account.password is not None and account.username:
        await client.login(account.username, account.password)


async def _quit_quietly(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _reason(error: BaseException) -> str:
    """The network's words, not the library's wrapping ("Error connecting to ...")."""
    cause = error.__cause__ if isinstance(error, aiosmtplib.SMTPConnectError) else None
    if isinstance(error, TimeoutError) or isinstance(cause, TimeoutError):
        return "timed out"
    return str(cause or error) or type(cause or error).__name__


def _scrub(text: str, account: SmtpAccount) -> str:
    scrub = SecretScrub.of((account.password, account.oauth2_token), (account.username,))
    return scrub(text)
