"""Sign-in with Cognito user-pool tokens, verified against the pool's JWKS.

Checked, in order: the header names RS256 (nothing else: no ``none``, no HMAC with the public
key) and a key id the pool publishes; the RS256 signature; ``exp``/``iat``/``nbf``; ``iss`` is
the pool; ``token_use`` is ``access`` or ``id``; and the app client: ``client_id`` for access
tokens, ``aud`` for id tokens (Cognito access tokens carry no ``aud``). The subject (``sub``) is
the user. The key set is fetched on first use and cached; an unknown key id refetches it (with a
cool-down), so key rotation needs no restart.

    issuer   https://cognito-idp.<region>.amazonaws.com/<user pool id>
    JWKS     <issuer>/.well-known/jwks.json
"""

from __future__ import annotations

from typing import Any

import jwt

from couchpay.domain.errors import Unauthorized
from couchpay.ports.identity import Caller, TokenVerifier, email_claim

ALGORITHM = "RS256"
TOKEN_USES = ("access", "id")
MAX_TOKEN_LENGTH = 8192


class JwksUnavailable(RuntimeError):
    """The pool's key set could not be fetched: not the token's fault, so not Unauthorized."""


def cognito_issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


class CognitoTokens(TokenVerifier):
    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        client_id: str,
        *,
        token_uses: tuple[str, ...] = TOKEN_USES,
        leeway_seconds: float = 0,
        fetch_timeout_seconds: float = 5,
    ) -> None:
        if not (jwks_url and issuer and client_id):
            raise ValueError("Cognito sign-in needs a JWKS URL, an issuer and a client id")
        self.issuer = issuer
        self.client_id = client_id
        self.token_uses = token_uses
        self.leeway = leeway_seconds
        self._jwks = jwt.PyJWKClient(
            jwks_url, cache_keys=True, lifespan=3600, timeout=fetch_timeout_seconds
        )

    def verify(self, token: str) -> str:
        return self.caller(token).user_id

    def caller(self, token: str) -> Caller:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("A sign-in token is required.")
        claims = self._claims(token)
        kind = claims.get("token_use")
        if kind not in self.token_uses:
            raise Unauthorized("The sign-in token is not an access or id token.")
        audience = claims.get("client_id") if kind == "access" else claims.get("aud")
        if not _names(audience, self.client_id):
            raise Unauthorized("The sign-in token is for another application.")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 0 < len(subject) <= 128:
            raise Unauthorized("The sign-in token has no usable subject.")
        return Caller(subject, email_claim(claims))

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The sign-in token is not valid.") from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not kid:
            raise Unauthorized("The sign-in token is not signed the way the pool signs.")
        try:
            key = self._jwks.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise JwksUnavailable(f"cannot fetch the pool's keys: {exc}") from exc
        except jwt.PyJWKClientError as exc:  # no such key id in the pool's set
            raise Unauthorized("The sign-in token is not signed by the pool.") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": ["exp", "iat", "iss", "sub", "token_use"],
                    "verify_aud": False,  # checked below: access tokens carry client_id instead
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("The sign-in token is not valid.") from exc
        return claims


def _names(audience: object, client_id: str) -> bool:
    if isinstance(audience, str):
        return audience == client_id
    if isinstance(audience, list):
        return client_id in audience
    return False
