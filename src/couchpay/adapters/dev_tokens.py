"""Local sign-in: HS256 JWTs signed by a key kept in COUCHPAY_DATA_DIR (never logged)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from couchpay.domain.errors import Unauthorized
from couchpay.file_modes import private_dir
from couchpay.ports.identity import Caller, TokenVerifier, email_claim

ISSUER = "couchpay-dev"
AUDIENCE = "couchpay"


class DevTokens(TokenVerifier):
    def __init__(self, key_file: Path, ttl_seconds: int = 12 * 3600) -> None:
        self._key_file = key_file
        self._ttl = ttl_seconds
        self._key: bytes | None = None

    def _signing_key(self) -> bytes:
        if self._key is None:
            self._key = _load_or_create_key(self._key_file)
        return self._key

    def mint(self, user_id: str, ttl_seconds: int | None = None, email: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_id,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + (self._ttl if ttl_seconds is None else ttl_seconds),
            "token_use": "access",
        }
        if email is not None:
            claims["email"] = email
        return jwt.encode(claims, self._signing_key(), algorithm="HS256")

    def verify(self, token: str) -> str:
        return self.caller(token).user_id

    def caller(self, token: str) -> Caller:
        try:
            claims = jwt.decode(
                token,
                self._signing_key(),
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("The sign-in token is not valid.") from exc
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= 128:
            raise Unauthorized("The sign-in token has no usable subject.")
        return Caller(subject, email_claim(claims), float(claims["exp"]))


def _load_or_create_key(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    private_dir(path.parent)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key
