"""Encryption at rest: AES-256-GCM with a random nonce per value.

One master key comes from settings (`COMMSINTEL_INGEST_ENCRYPTION_KEY`, 32 bytes,
urlsafe base64; `make run` generates a dev key). It encrypts the mailbox credentials and
wraps each mailbox's own content key. Bodies and attachments are encrypted with the
mailbox's content key, so destroying that one wrapped key makes every copy of the
mailbox's content unreadable (crypto-shredding), backups included.

Every value is bound to what it belongs to through the associated data (e.g. the
mailbox id and message key): a ciphertext copied onto another document fails to open.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_KEY_BYTES = 32


class UnreadableSecret(Exception):
    """A value did not decrypt: wrong key, tampered, or moved to another document."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise ValueError(f"an encryption key is {_KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, bound_to: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, bound_to.encode())

    def open(self, sealed: bytes, bound_to: str) -> bytes:
        try:
            return self._aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], bound_to.encode()
            )
        except (InvalidTag, ValueError):
            raise UnreadableSecret(f"cannot decrypt the value of {bound_to!r}") from None


def new_key() -> bytes:
    return secrets.token_bytes(_KEY_BYTES)


def decode_key(text: str) -> bytes:
    """A key from settings: urlsafe base64 of 32 bytes."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode() + b"==")
    except (binascii.Error, ValueError):
        raise ValueError("the encryption key is not urlsafe base64") from None
    if len(key) != _KEY_BYTES:
        raise ValueError(f"the encryption key must decode to {_KEY_BYTES} bytes")
    return key


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def dev_encryption_key(path: Path) -> str:
    """The local development key: made once under .commsintel/, then reused, so content
    stored by one `make run` stays readable by the next."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = encode_key(new_key())
    path.write_text(key)
    path.chmod(0o600)
    return key
