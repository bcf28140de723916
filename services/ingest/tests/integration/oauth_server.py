"""A small OAuth2 authorization server on loopback for the tests: the authorization-code
grant with PKCE (S256), the refresh-token grant, RFC 7662 introspection (what Dovecot's
oauth2 passdb asks) and revocation. Access tokens live `lifetime` seconds.

A test stand-in, written plainly so that what it checks is visible; the product's side
uses Authlib.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class _Grant:
    username: str
    refresh_token: str
    revoked: bool = False


@dataclass
class AuthorizationServer:
    client_id: str
    client_secret: str
    lifetime: float
    base_url: str = ""
    codes: dict[str, tuple[str, str, str]] = field(
        default_factory=dict
    )  # code -> user, challenge, redirect
    grants: dict[str, _Grant] = field(default_factory=dict)  # refresh token -> grant
    access: dict[str, tuple[_Grant, float]] = field(default_factory=dict)  # token -> grant, expiry
    issued: list[str] = field(default_factory=list)  # every token handed out, in order
    refreshes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.base_url}/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/token"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.base_url}/introspect"

    def authorize(self, url: str, username: str) -> tuple[str, str]:
        """What the member's browser does: consent at the authorization URL; returns the
        (code, state) the provider redirects back with."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["response_type"] == "code" and query["client_id"] == self.client_id
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = (username, query["code_challenge"], query.get("redirect_uri", ""))
        return code, query["state"]

    def grant_directly(self, username: str) -> str:
        """A refresh token obtained elsewhere (another tool did the consent)."""
        with self.lock:
            return self._new_grant(username).refresh_token

    def revoke(self, refresh_token: str) -> None:
        """Consent withdrawn: the refresh token and every access token of it stop working."""
        with self.lock:
            self.grants[refresh_token].revoked = True

    def revoke_all(self, username: str) -> None:
        with self.lock:
            for grant in self.grants.values():
                if grant.username == username:
                    grant.revoked = True

    def end_access_tokens(self, username: str) -> None:
        """The provider ends every live access token early (the refresh token still works)."""
        with self.lock:
            for token, (grant, _) in list(self.access.items()):
                if grant.username == username:
                    del self.access[token]

    def _new_grant(self, username: str) -> _Grant:
        grant = _Grant(username, "rt-" + secrets.token_urlsafe(24))
        self.grants[grant.refresh_token] = grant
        return grant

    def _access_token(self, grant: _Grant) -> dict:
        token = "at-" + secrets.token_urlsafe(24)
        self.access[token] = (grant, time.time() + self.lifetime)
        self.issued.append(token)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": grant.refresh_token,
        }

    # -- endpoints ----------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> tuple[int, dict]:
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return 401, {"error": "invalid_client"}
        with self.lock:
            if form.get("grant_type") == "authorization_code":
                found = self.codes.pop(form.get("code", ""), None)
                if found is None:
                    return 400, {"error": "invalid_grant"}
                username, challenge, redirect = found
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                    return 400, {"error": "invalid_grant", "error_description": "PKCE"}
                if redirect and form.get("redirect_uri") != redirect:
                    return 400, {"error": "invalid_grant"}
                return 200, self._access_token(self._new_grant(username))
            if form.get("grant_type") == "refresh_token":
                grant = self.grants.get(form.get("refresh_token", ""))
                if grant is None or grant.revoked:
                    return 400, {"error": "invalid_grant", "error_description": "revoked"}
                self.refreshes += 1
                return 200, self._access_token(grant)
        return 400, {"error": "unsupported_grant_type"}

    def introspect(self, form: dict[str, str]) -> dict:
        with self.lock:
            found = self.access.get(form.get("token", ""))
        if found is None:
            return {"active": False}
        grant, expiry = found
        if grant.revoked or time.time() >= expiry:
            return {"active": False}
        return {"active": True, "username": grant.username, "exp": int(expiry)}


@contextmanager
def running_authorization_server(
    *,
    lifetime: float = 3600.0,
    client_id: str = "commsintel-test",
    client_secret: str = "s3cr3t-client",
) -> Iterator[AuthorizationServer]:
    server = AuthorizationServer(client_id, client_secret, lifetime)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                form.setdefault("client_id", user)
                form.setdefault("client_secret", password)
            path = urlsplit(self.path).path
            if path == "/token":
                status, body = server.token(form)
            elif path == "/introspect":
                status, body = 200, server.introspect(form)
            else:
                status, body = 404, {"error": "not_found"}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if self.path == "/.well-known/oauth-authorization-server":
                payload = json.dumps(
                    {
                        "issuer": server.base_url,
                        "authorization_endpoint": server.authorization_endpoint,
                        "token_endpoint": server.token_endpoint,
                        "introspection_endpoint": server.introspection_endpoint,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            self.send_response(302 if self.path.startswith("/authorize") else 404)
            self.send_header("Location", "/?" + urlencode({"error": "use authorize()"}))
            self.send_header("Content-Length", "0")
            self.end_headers()

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.base_url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()
