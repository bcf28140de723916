"""SMTP submission through the member's own server (stdlib smtplib in a worker thread).

Security: "tls" (implicit, port 465), "starttls" (587) or "none" (loopback tests only).
Authentication: LOGIN/PLAIN with the password, or XOAUTH2 with an access token. A
recipient the server refuses is reported with the server's reply; the others still get
the message. Error messages never contain the credentials.
"""

from __future__ import annotations

import asyncio
import base64
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from commsintel.ingest.adapters.destinations import PUBLIC_ONLY, connect_checked
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
    return await asyncio.to_thread(_submit, account, sender, list(recipients), raw)


def _submit(account: SmtpAccount, sender: str, recipients: list[str], raw: bytes) -> Submitted:
    where = f"{account.host}:{account.port}"
    try:
        with _connect(account) as client:
            _authenticate(client, account)
            try:
                refused = client.sendmail(sender, recipients, raw)
            except smtplib.SMTPRecipientsRefused as every:
                refused = every.recipients
            return Submitted(
                {address: _scrub(_reply(*answer), account) for address, answer in refused.items()}
            )
    except smtplib.SMTPAuthenticationError as error:
        reply = _reply(error.smtp_code, error.smtp_error)
        message = f"authentication failed for {account.username}: {reply}"
        raise SmtpAuthFailed(_scrub(message, account)) from None
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        raise SmtpError(_scrub(_reply(error.smtp_code, error.smtp_error), account)) from None
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
        raise SmtpUnavailable(_scrub(f"cannot reach {where}: {error}", account)) from None
    except smtplib.SMTPException as error:
        raise SmtpError(_scrub(f"{where} refused the message: {error}", account)) from None
    except DestinationRefused as refused:
        raise SmtpUnavailable(f"not connecting to {where}: {refused}") from None


def _connect(account: SmtpAccount) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if account.security == "tls":
        return _CheckedSmtpSSL(
            account.destinations,
            account.host,
            account.port,
            timeout=account.timeout,
            context=context,
        )
    client = _CheckedSmtp(account.destinations, account.host, account.port, account.timeout)
    try:
        client.ehlo()
        if account.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
    except BaseException:
        client.close()
        raise
    return client


def _authenticate(client: smtplib.SMTP, account: SmtpAccount) -> None:
    if account.oauth2_token is not None:
        token = f"user={account.username}\x01auth=Bearer {account.oauth2_token}\x01\x01"
        code, answer = client.docmd("AUTH", "XOAUTH2 " + base64.b64encode(token.encode()).decode())
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, answer)
    elif account.password is not None and account.username:
        client.login(account.username, account.password)


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _scrub(text: str, account: SmtpAccount) -> str:
    scrub = SecretScrub.of((account.password, account.oauth2_token), (account.username,))
    return scrub(text)


class _CheckedSmtp(smtplib.SMTP):
    """smtplib connecting only where the destination policy allows."""

    def __init__(self, policy: DestinationPolicy, host: str, port: int, timeout: float) -> None:
        self._policy = policy
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return connect_checked(self._policy, host, port, timeout, self.source_address)


class _CheckedSmtpSSL(smtplib.SMTP_SSL, _CheckedSmtp):
    """SMTP_SSL wraps the socket _CheckedSmtp opens (its _get_socket calls super())."""

    def __init__(
        self,
        policy: DestinationPolicy,
        host: str,
        port: int,
        *,
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        self._policy = policy
        smtplib.SMTP_SSL.__init__(self, host, port, timeout=timeout, context=context)
