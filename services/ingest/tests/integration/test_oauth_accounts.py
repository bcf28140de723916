"""OAuth2 accounts against a local authorization server and a Dovecot that checks XOAUTH2
tokens by introspection (decision 0025)."""

from __future__ import annotations

import asyncio
import base64
import imaplib
import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pymongo import AsyncMongoClient

from commsintel.contracts.events import SyncProgressed
from commsintel.contracts.proto.ingest.v1 import ingest_pb2 as pb
from commsintel.contracts.proto.ingest.v1 import ingest_pb2_grpc as pb_grpc
from commsintel.ingest.adapters.caldav_source import CalDavAccount, CalDavSource
from commsintel.ingest.adapters.calendar_source import CalendarAuthFailed
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
from services.ingest.tests.integration.test_mailbox_service import running_ingest

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
    request = await tokens.authorization_request(client, login_hint="carol@example.com")
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


async def test_a_generic_provider_given_by_its_issuer_discovers_its_endpoints(provider):
    tokens = OAuthTokens(LOOPBACK_ALLOWED)
    client = OAuthClient(
        generic(issuer=provider.base_url, scopes=("mail",)),
        provider.client_id,
        provider.client_secret,
        REDIRECT,
    )
    request = await tokens.authorization_request(client)
    assert request.url.startswith(provider.authorization_endpoint + "?")
    grant = await tokens.refresh(client, provider.grant_directly(USER))
    assert grant.access_token in provider.issued
    elsewhere = OAuthClient(generic(issuer="http://127.0.0.1:9/", scopes=()), "x")
    with pytest.raises(TokenEndpointUnavailable):
        await tokens.refresh(elsewhere, "rt-anything")


async def test_the_token_endpoint_is_an_outbound_fetch_checked_by_the_policy(provider):
    tokens = OAuthTokens(DestinationPolicy())  # public addresses only
    with pytest.raises(TokenEndpointUnavailable, match="refused"):
        await tokens.refresh(client_for(provider), "rt-anything")


@pytest.mark.imap
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


def mail(n: int) -> bytes:
    return (
        f"From: Priya Shah <priya.shah@brightpath.com>\r\nTo: Carol <carol@northwind.io>\r\n"
        f"Subject: renewal #{n}\r\nMessage-ID: <oauth-{n}@brightpath.com>\r\n"
        "Date: Tue, 02 Jan 2024 10:00:00 +0000\r\n\r\nHi.\r\n"
    ).encode()


def put(dovecot: Dovecot, *numbers: int) -> None:
    """Mail arriving from elsewhere: plain imaplib with the user's password."""
    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=10)
    try:
        imap.login(USER, dovecot.passwords[USER])
        for n in numbers:
            typ, data = imap.append("INBOX", None, None, mail(n))
            assert typ == "OK", data
    finally:
        imap.logout()


@pytest.mark.imap
@pytest.mark.kafka
@pytest.mark.mongo
async def test_an_oauth_mailbox_keeps_syncing_across_expiries_then_needs_reauthorization(
    provider, oauth_dovecot, kafka_bootstrap, mongo_uri, signing_key, caplog
):
    caplog.set_level(logging.DEBUG)
    overrides = dict(
        oauth_redirect_uri=REDIRECT,
        oauth_generic_client_id=provider.client_id,
        oauth_generic_client_secret=provider.client_secret,
        oauth_generic_authorization_endpoint=provider.authorization_endpoint,
        oauth_generic_token_endpoint=provider.token_endpoint,
        oauth_generic_scopes="mail",
        oauth_generic_imap=f"{oauth_dovecot.host}:{oauth_dovecot.port}:none",
        poll_interval_seconds=1.0,
    )
    responses: list[bytes] = []
    async with running_ingest(kafka_bootstrap, mongo_uri, signing_key, **overrides) as ingest:
        member = ingest.as_member("m1")
        started = await ingest.mailboxes.StartAuthorization(
            pb.StartAuthorizationRequest(
                provider=pb.OAUTH_PROVIDER_GENERIC, login_hint="carol@northwind.io"
            ),
            metadata=member,
        )
        responses.append(started.SerializeToString())
        code, state = provider.authorize(started.authorization_url, USER)
        assert state == started.state
        put(oauth_dovecot, 1, 2, 3)
        connected = (
            await ingest.mailboxes.ConnectMailbox(
                pb.ConnectMailboxRequest(
                    imap=pb.ImapCredentials(
                        username=USER, oauth2=pb.OAuth2Grant(state=state, code=code)
                    ),
                    owner_addresses=["carol@northwind.io"],
                ),
                metadata=member,
            )
        ).mailbox
        responses.append(connected.SerializeToString())
        assert connected.imap_host == oauth_dovecot.host  # from the provider's preset
        assert connected.imap_auth == "xoauth2" and connected.oauth_provider == "generic"
        mailbox_id = connected.mailbox_id

        async def synced(*numbers: int) -> None:
            wanted = {f"oauth-{n}@brightpath.com" for n in numbers}
            deadline = time.monotonic() + 30
            while not wanted <= set(await ingest.synced_keys(mailbox_id)):
                assert time.monotonic() < deadline, "not synced in time"
                await asyncio.sleep(0.3)

        await synced(1, 2, 3)
        # Access tokens live 4 s: new mail keeps arriving across several expiries.
        for n in range(4, 8):
            await asyncio.sleep(2.5)
            put(oauth_dovecot, n)
            await synced(n)
        assert provider.refreshes >= 3
        healthy = await ingest.status(mailbox_id)
        responses.append(healthy.SerializeToString())
        assert healthy.status.error == pb.SYNC_ERROR_UNSPECIFIED

        # Consent withdrawn: the next refresh is refused.
        provider.revoke_all(USER)
        put(oauth_dovecot, 8)
        stuck = await ingest.wait_for(
            mailbox_id,
            lambda m: m.status.error == pb.SYNC_ERROR_REAUTHORIZATION_NEEDED,
            timeout=30,
        )
        responses.append(stuck.SerializeToString())
        assert stuck.status.state == pb.SYNC_STATE_ERROR
        assert "authorize again" in stuck.status.error_message
        events = [e for e in await ingest.events(SyncProgressed) if e.mailbox_id == mailbox_id]
        assert events[-1].error_kind == "reauthorization_needed"

        # A new authorization resumes from the same cursors: nothing lost, nothing twice.
        again = await ingest.mailboxes.StartAuthorization(
            pb.StartAuthorizationRequest(provider=pb.OAUTH_PROVIDER_GENERIC), metadata=member
        )
        code, state = provider.authorize(again.authorization_url, USER)
        reconnected = await ingest.mailboxes.ReconnectMailbox(
            pb.ReconnectMailboxRequest(
                mailbox_id=mailbox_id,
                imap=pb.ImapCredentials(
                    username=USER, oauth2=pb.OAuth2Grant(state=state, code=code)
                ),
            ),
            metadata=member,
        )
        responses.append(reconnected.SerializeToString())
        put(oauth_dovecot, 9)
        await synced(8, 9)
        keys = await ingest.synced_keys(mailbox_id)
        assert sorted(keys) == sorted({f"oauth-{n}@brightpath.com" for n in range(1, 10)})
        await ingest.wait_for(
            mailbox_id,
            lambda m: (
                m.status.state == pb.SYNC_STATE_IDLE and m.status.error == pb.SYNC_ERROR_UNSPECIFIED
            ),
        )

        # A state is good once, and only for the member who started it.
        with pytest.raises(grpc.aio.AioRpcError) as reused:
            await ingest.mailboxes.ReconnectMailbox(
                pb.ReconnectMailboxRequest(
                    mailbox_id=mailbox_id,
                    imap=pb.ImapCredentials(
                        username=USER, oauth2=pb.OAuth2Grant(state=state, code=code)
                    ),
                ),
                metadata=member,
            )
        assert reused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

        # No token in any response, event, document or log line.
        secrets = set(provider.issued) | set(provider.grants) | set(provider.codes)
        secrets |= {provider.client_secret}
        assert len(secrets) > 8
        dumps = [r for r in responses]
        dumps += [e.model_dump_json().encode() for e in await ingest.events()]
        client = AsyncMongoClient(mongo_uri)
        try:
            database = client[ingest.service.settings.mongo_database]
            for name in await database.list_collection_names():
                async for document in database[name].find({}):
                    dumps.append(repr(document).encode())
        finally:
            await client.close()
        dumps.append(caplog.text.encode())
        for secret in secrets:
            for dump in dumps:
                assert secret.encode() not in dump


async def test_caldav_sends_the_access_token_as_a_bearer_and_never_shows_it():
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            body = f"token {self.headers.get('Authorization', '')} refused".encode()
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="cal"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PROPFIND = do_OPTIONS = do_REPORT = _refuse

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "at-calendar-" + "z" * 30
    source = CalDavSource(
        CalDavAccount(
            f"http://127.0.0.1:{server.server_address[1]}/cal/",
            "carol",
            bearer_token=token,
            destinations=LOOPBACK_ALLOWED,
        )
    )
    try:
        with pytest.raises(CalendarAuthFailed) as refused:
            await source.calendars()
    finally:
        await source.aclose()
        server.shutdown()
        server.server_close()
    assert f"Bearer {token}" in seen
    assert token not in str(refused.value)


class OAuthSmtp:
    """An SMTP submission server (aiosmtpd) that takes XOAUTH2 and checks the token with
    the authorization server's introspection, like Gmail's or Office 365's."""

    def __init__(self, provider: AuthorizationServer) -> None:
        self.provider = provider
        self.tokens_used: list[str] = []
        self.received: list[bytes] = []

    async def auth_XOAUTH2(self, server, args):
        decoded = base64.b64decode(args[1]).decode()
        fields = dict(part.split("=", 1) for part in decoded.split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        answer = self.provider.introspect({"token": token})
        ok = answer.get("active") is True and answer.get("username") == fields.get("user")
        if ok:
            self.tokens_used.append(token)
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        return "250 Message accepted"


@pytest.mark.imap
@pytest.mark.kafka
@pytest.mark.mongo
@pytest.mark.smtp
async def test_a_refresh_token_from_elsewhere_connects_and_smtp_sends_with_fresh_tokens(
    provider, oauth_dovecot, kafka_bootstrap, mongo_uri, signing_key
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    smtp = OAuthSmtp(provider)
    controller = Controller(
        smtp, hostname="127.0.0.1", port=smtp_port, auth_required=True, auth_require_tls=False
    )
    controller.start()
    overrides = dict(
        oauth_generic_client_id=provider.client_id,
        oauth_generic_client_secret=provider.client_secret,
        oauth_generic_authorization_endpoint=provider.authorization_endpoint,
        oauth_generic_token_endpoint=provider.token_endpoint,
        oauth_generic_imap=f"{oauth_dovecot.host}:{oauth_dovecot.port}:none",
        oauth_generic_smtp=f"127.0.0.1:{smtp_port}:none",
        send_rate_per_minute=600,
    )
    try:
        async with running_ingest(kafka_bootstrap, mongo_uri, signing_key, **overrides) as ingest:
            member = ingest.as_member("m1")
            refresh_token = provider.grant_directly(USER)
            with pytest.raises(grpc.aio.AioRpcError) as no_provider:
                await ingest.mailboxes.ConnectMailbox(
                    pb.ConnectMailboxRequest(
                        imap=pb.ImapCredentials(
                            username=USER, oauth2=pb.OAuth2Grant(refresh_token=refresh_token)
                        ),
                        owner_addresses=["carol@northwind.io"],
                    ),
                    metadata=member,
                )
            assert no_provider.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            connected = (
                await ingest.mailboxes.ConnectMailbox(
                    pb.ConnectMailboxRequest(
                        imap=pb.ImapCredentials(
                            username=USER,
                            oauth2=pb.OAuth2Grant(
                                provider=pb.OAUTH_PROVIDER_GENERIC, refresh_token=refresh_token
                            ),
                        ),
                        owner_addresses=["carol@northwind.io"],
                    ),
                    metadata=member,
                )
            ).mailbox
            assert connected.smtp_host == "127.0.0.1" and connected.smtp_port == smtp_port
            send = pb_grpc.SendServiceStub(ingest.channel)
            for n in range(2):
                if n:
                    await asyncio.sleep(4.5)  # the first access token has expired
                sent = await send.SendEmail(
                    pb.SendEmailRequest(
                        mailbox_id=connected.mailbox_id,
                        idempotency_key=f"send-{n}",
                        to=["priya.shah@brightpath.com"],
                        subject=f"renewal {n}",
                        text_body="Hello",
                    ),
                    metadata=member,
                )
                assert sent.state == pb.DELIVERY_STATE_SENT, sent.failure
            assert len(smtp.received) == 2
            assert len(set(smtp.tokens_used)) == 2  # a new token for the second send
            for token in smtp.tokens_used:
                assert token.encode() not in sent.SerializeToString()
    finally:
        controller.stop()


@pytest.mark.imap
@pytest.mark.kafka
@pytest.mark.mongo
async def test_a_token_ended_early_is_refreshed_after_the_auth_failure(
    kafka_bootstrap, mongo_uri, signing_key
):
    with (
        running_authorization_server(lifetime=3600) as hour,
        _running_dovecot(
            {USER: "not-used-" + "x" * 20}, oauth_introspection_url=hour.introspection_endpoint
        ) as server,
    ):
        overrides = dict(
            oauth_generic_client_id=hour.client_id,
            oauth_generic_client_secret=hour.client_secret,
            oauth_generic_authorization_endpoint=hour.authorization_endpoint,
            oauth_generic_token_endpoint=hour.token_endpoint,
            oauth_generic_imap=f"{server.host}:{server.port}:none",
        )
        async with running_ingest(kafka_bootstrap, mongo_uri, signing_key, **overrides) as ingest:
            put(server, 1)
            connected = (
                await ingest.mailboxes.ConnectMailbox(
                    pb.ConnectMailboxRequest(
                        imap=pb.ImapCredentials(
                            username=USER,
                            oauth2=pb.OAuth2Grant(
                                provider=pb.OAUTH_PROVIDER_GENERIC,
                                refresh_token=hour.grant_directly(USER),
                            ),
                        ),
                        owner_addresses=["carol@northwind.io"],
                    ),
                    metadata=ingest.as_member("m1"),
                )
            ).mailbox
            await ingest.wait_for(
                connected.mailbox_id, lambda m: m.status.state == pb.SYNC_STATE_IDLE
            )
            refreshes = hour.refreshes
            # The provider ends the hour token early and the session drops: the next
            # login is refused, ingest refreshes once and goes on.
            hour.end_access_tokens(USER)
            kicked = await asyncio.to_thread(
                subprocess.run,
                [
                    shutil.which("doveadm", path="/usr/bin:/usr/sbin") or "doveadm",
                    "-c",
                    str(server.directory / "dovecot.conf"),
                    "kick",
                    USER,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            assert kicked.returncode == 0, kicked.stderr
            put(server, 2)
            deadline = time.monotonic() + 30
            wanted = {"oauth-1@brightpath.com", "oauth-2@brightpath.com"}
            while not wanted <= set(await ingest.synced_keys(connected.mailbox_id)):
                assert time.monotonic() < deadline, "not synced after the early end"
                await asyncio.sleep(0.3)
            assert hour.refreshes == refreshes + 1
            await ingest.wait_for(  # recovered: idle, no error left
                connected.mailbox_id,
                lambda m: (
                    m.status.state == pb.SYNC_STATE_IDLE
                    and m.status.error == pb.SYNC_ERROR_UNSPECIFIED
                ),
            )


@pytest.mark.imap
@pytest.mark.kafka
@pytest.mark.mongo
async def test_a_caldav_calendar_from_the_preset_uses_the_mailbox_token(
    provider, oauth_dovecot, kafka_bootstrap, mongo_uri, signing_key
):
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            seen.append((self.path, self.headers.get("Authorization", "")))
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="cal"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_PROPFIND = do_OPTIONS = do_REPORT = _refuse

        def log_message(self, *args) -> None:
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    overrides = dict(
        oauth_generic_client_id=provider.client_id,
        oauth_generic_client_secret=provider.client_secret,
        oauth_generic_authorization_endpoint=provider.authorization_endpoint,
        oauth_generic_token_endpoint=provider.token_endpoint,
        oauth_generic_imap=f"{oauth_dovecot.host}:{oauth_dovecot.port}:none",
        oauth_generic_caldav_url=f"http://127.0.0.1:{web.server_address[1]}/dav/{{username}}/",
    )
    try:
        async with running_ingest(kafka_bootstrap, mongo_uri, signing_key, **overrides) as ingest:
            connected = (
                await ingest.mailboxes.ConnectMailbox(
                    pb.ConnectMailboxRequest(
                        imap=pb.ImapCredentials(
                            username=USER,
                            oauth2=pb.OAuth2Grant(
                                provider=pb.OAUTH_PROVIDER_GENERIC,
                                refresh_token=provider.grant_directly(USER),
                            ),
                        ),
                        owner_addresses=["carol@northwind.io"],
                        calendar=pb.CalendarSource(caldav=pb.CaldavCalendar()),
                    ),
                    metadata=ingest.as_member("m1"),
                )
            ).mailbox
            assert connected.calendar_kind == "caldav"
            assert connected.calendar_url.startswith("http://127.0.0.1:")
            refused = await ingest.wait_for(
                connected.mailbox_id,
                lambda m: m.calendar_status.error == pb.SYNC_ERROR_AUTH_FAILED,
            )
            assert seen and seen[0][0].startswith(f"/dav/{USER}/")
            assert seen[0][1].startswith("Bearer at-")
            assert seen[0][1].removeprefix("Bearer ") in provider.issued
            token = seen[0][1].removeprefix("Bearer ").encode()
            assert token not in refused.SerializeToString()
    finally:
        web.shutdown()
        web.server_close()
