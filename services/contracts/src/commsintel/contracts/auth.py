"""Bearer tokens naming a workspace and a member, signed with HMAC-SHA256 (JWT HS256).

The signing key comes from settings; `make run` generates a dev key under .commsintel/.
An operator token (its own audience, minted only by whoever holds the signing key, e.g.
`commsintel token --operator`) names a workspace but no member: it may set a workspace's
admins and nothing else (docs/decisions/0021).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt

_ALGORITHM = "HS256"
_AUDIENCE = "commsintel"
_OPERATOR_AUDIENCE = "commsintel-operator"
OPERATOR_MEMBER_ID = "operator"


@dataclass(frozen=True, slots=True)
class Caller:
    workspace_id: str
    member_id: str
    # The deployment's operator, not a member: may set a workspace's admins, nothing else.
    is_operator: bool = False


class InvalidToken(Exception):
    pass


def issue_token(
    signing_key: str,
    caller: Caller,
    *,
    issued_at: datetime,
    lifetime: timedelta = timedelta(hours=12),
) -> str:
    claims = {
        "ws": caller.workspace_id,
        "sub": caller.member_id,
        "aud": _AUDIENCE,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + lifetime).timestamp()),
    }
    return jwt.encode(claims, signing_key, algorithm=_ALGORITHM)


def issue_operator_token(
    signing_key: str,
    workspace_id: str,
    *,
    issued_at: datetime,
    lifetime: timedelta = timedelta(minutes=15),
) -> str:
    """A short-lived token of the deployment's operator for one workspace."""
    claims = {
        "ws": workspace_id,
        "sub": OPERATOR_MEMBER_ID,
        "aud": _OPERATOR_AUDIENCE,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + lifetime).timestamp()),
    }
    return jwt.encode(claims, signing_key, algorithm=_ALGORITHM)


def verify_token(signing_key: str, token: str) -> Caller:
    return _verify(signing_key, token)[0]


class TokenVerifier:
    """verify_token with a memory: a token already verified is taken as it is until it
    expires, instead of being decoded and its signature checked on every call."""

    def __init__(
        self, signing_key: str, max_tokens: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._signing_key = signing_key
        self._max_tokens = max_tokens
        self._clock = clock
        self._verified: dict[str, tuple[Caller, float]] = {}

    def verify(self, token: str) -> Caller:
        found = self._verified.get(token)
        if found is not None:
            if self._clock() < found[1]:
                return found[0]
            del self._verified[token]
            raise InvalidToken("invalid bearer token: expired")
        caller, expires = _verify(self._signing_key, token)
        if len(self._verified) >= self._max_tokens:
            self._verified.clear()
        self._verified[token] = (caller, expires)
        return caller


def _verify(signing_key: str, token: str) -> tuple[Caller, float]:
    """The caller a token names and when it expires (seconds since the epoch).

    The message never carries the library's text (it may quote the token's insides)."""
    if not token:
        raise InvalidToken("missing bearer token")
    try:
        claims = jwt.decode(
            token,
            signing_key,
            algorithms=[_ALGORITHM],
            audience=[_AUDIENCE, _OPERATOR_AUDIENCE],
            options={"require": ["exp", "ws", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("invalid bearer token: expired") from error
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidToken("invalid bearer token") from error
    workspace_id, member_id = claims.get("ws"), claims.get("sub")
    if not _is_name(workspace_id):
        raise InvalidToken("invalid bearer token: no workspace")
    if not _is_name(member_id):
        raise InvalidToken("invalid bearer token: no member")
    operator = claims["aud"] == _OPERATOR_AUDIENCE
    caller = Caller(
        workspace_id=workspace_id,
        member_id=OPERATOR_MEMBER_ID if operator else member_id,
        is_operator=operator,
    )
    return caller, float(claims["exp"])


def _is_name(value) -> bool:
    """A workspace or member id a token may carry: what the API takes as an id."""
    return isinstance(value, str) and 0 < len(value) <= 256 and value.isprintable()


_SERVICE_AUDIENCE = "commsintel-internal"
SERVICE_TOKEN_METADATA = "x-commsintel-service"


def issue_service_token(
    signing_key: str,
    service: str,
    *,
    issued_at: datetime,
    lifetime: timedelta = timedelta(hours=1),
) -> str:
    """A token naming one of our own services (e.g. "access"), for internal-only RPCs.
    Its audience differs from a member's, so neither can stand in for the other."""
    claims = {
        "svc": service,
        "aud": _SERVICE_AUDIENCE,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + lifetime).timestamp()),
    }
    return jwt.encode(claims, signing_key, algorithm=_ALGORITHM)


def verify_service_token(signing_key: str, token: str) -> str:
    """The service a token names; InvalidToken for a member's token or a forged one."""
    try:
        claims = jwt.decode(
            token,
            signing_key,
            algorithms=[_ALGORITHM],
            audience=_SERVICE_AUDIENCE,
            options={"require": ["exp", "svc"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidToken("invalid service token") from error
    service = claims.get("svc")
    if not isinstance(service, str) or not service:
        raise InvalidToken("invalid service token: no service")
    return service


def dev_signing_key(path: Path) -> str:
    """The local development key: made once, then reused so tokens stay valid."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
