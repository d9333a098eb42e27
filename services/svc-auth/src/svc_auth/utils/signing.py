"""RS256 signing keys: loaded from settings, or generated once into the local state folder.

Only svc-auth holds private keys. Signing is a few lines over `cryptography` so that the
JWT library (python-jose) stays inside core.auth, the verifying side, alone.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core.auth.keys import LOCAL_JWKS_FILE

LOCAL_PRIVATE_KEY_FILE = "signing-key.pem"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
            raise ValueError("the signing key must be an RSA key of at least 2048 bits")
        return cls(key)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def to_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        jwk = {"e": _uint(numbers.e), "kty": "RSA", "n": _uint(numbers.n)}
        # RFC 7638 thumbprint: a stable kid derived from the key itself.
        thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":")).encode()).digest()
        return {**jwk, "kid": _b64url(thumbprint), "alg": "RS256", "use": "sig"}

    @property
    def kid(self) -> str:
        return self.public_jwk["kid"]

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self.private_key.sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{signing_input}.{_b64url(signature)}"


@dataclass(frozen=True)
class KeyRing:
    """The key that signs now, and the keys still served while tokens they signed live on."""

    current: SigningKey
    previous: tuple[SigningKey, ...] = ()

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.public_jwk for key in (self.current, *self.previous)]}


def local_key_ring(keys_dir: Path) -> KeyRing:
    """The local stack's key: made on first run, kept in a git-ignored folder."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = keys_dir / LOCAL_PRIVATE_KEY_FILE
    if not path.exists():
        # Written aside then linked into place: a concurrent start never reads half a key.
        draft = keys_dir / f".{LOCAL_PRIVATE_KEY_FILE}.{os.getpid()}"
        draft.write_text(SigningKey.generate().to_pem())
        draft.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    ring = KeyRing(SigningKey.from_pem(path.read_text()))
    jwks_path = keys_dir / LOCAL_JWKS_FILE
    tmp = jwks_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(ring.jwks()))
    tmp.replace(jwks_path)
    return ring
