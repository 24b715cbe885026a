"""Sign-in with Cognito user-pool tokens, verified against the pool's JWKS.

Checked, in order: the header names RS256 (nothing else: no ``none``, no HMAC with the public
key) and a key id the pool publishes; the RS256 signature; ``exp``/``iat``/``nbf``; ``iss`` is
the pool; ``token_use`` is ``access`` or ``id``; and the app client: ``client_id`` for access
tokens, ``aud`` for id tokens (Cognito access tokens carry no ``aud``). The subject (``sub``) is
the user. The key set is fetched on first use and cached; an unknown key id refetches it, at
most once per ``REFRESH_COOLDOWN_SECONDS``, so key rotation needs no restart and a stream of
made-up key ids costs one fetch a minute. A fetch that fails (the pool's endpoint unreachable)
raises ``JwksUnavailable`` (a ``SignInUnavailable``: servers answer 503, never 500) and, for
``FAILURE_COOLDOWN_SECONDS``, every token that needs the keys fails the same way at once,
without another fetch. Fetches are serialized by a lock; ``verify`` blocks while one runs, so
servers call it off their event loop.

    issuer   https://cognito-idp.<region>.amazonaws.com/<user pool id>
    JWKS     <issuer>/.well-known/jwks.json
"""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt

from couchpay.domain.errors import Unauthorized
from couchpay.ports.identity import Caller, SignInUnavailable, TokenVerifier, email_claim

ALGORITHM = "RS256"
TOKEN_USES = ("access", "id")
MAX_TOKEN_LENGTH = 8192
REFRESH_COOLDOWN_SECONDS = 60.0
FAILURE_COOLDOWN_SECONDS = 30.0


class JwksUnavailable(SignInUnavailable):
    """The pool's key set could not be fetched: not the token's fault, so not Unauthorized."""


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
        self._fetching = threading.Lock()
        self._down_until = 0.0
        self._next_refresh = 0.0

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
        return Caller(subject, email_claim(claims), float(claims["exp"]))

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The sign-in token is not valid.") from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not kid:
            raise Unauthorized("The sign-in token is not signed the way the pool signs.")
        key = self._signing_key(kid)
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

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        """The pool's key ``kid``: from the cached set when it is there (whatever happened to
        fetches since), else from one fetch, unless a fetch failed or the set was refreshed
        moments ago (then no network at all)."""
        with self._fetching:
            cached = self._cached_keys()
            found = jwt.PyJWKClient.match_kid(cached, kid) if cached is not None else None
            if found is not None:
                return found
            now = time.monotonic()
            if now < self._down_until:
                raise JwksUnavailable("the pool's keys were unreachable moments ago")
            if cached is not None and now < self._next_refresh:
                raise Unauthorized("The sign-in token is not signed by the pool.")
            if cached is not None:  # a key id we do not know: a rotation? look once a minute
                self._next_refresh = now + REFRESH_COOLDOWN_SECONDS
            try:
                keys = self._jwks.get_signing_keys(refresh=True)
            except jwt.PyJWKClientConnectionError as exc:
                self._down_until = time.monotonic() + FAILURE_COOLDOWN_SECONDS
                raise JwksUnavailable(f"cannot fetch the pool's keys: {exc}") from exc
            except jwt.PyJWKClientError as exc:  # the set has no usable signing key at all
                raise Unauthorized("The sign-in token is not signed by the pool.") from exc
        found = jwt.PyJWKClient.match_kid(keys, kid)
        if found is None:
            raise Unauthorized("The sign-in token is not signed by the pool.")
        return found

    def _cached_keys(self) -> list[jwt.PyJWK] | None:
        """The signing keys of the cached set (None when nothing is cached, or it expired)."""
        cache = self._jwks.jwk_set_cache
        jwk_set = cache.get() if cache is not None else None
        if jwk_set is None:
            return None
        return [k for k in jwk_set.keys if k.public_key_use in ("sig", None) and k.key_id]


def _names(audience: object, client_id: str) -> bool:
    if isinstance(audience, str):
        return audience == client_id
    if isinstance(audience, list):
        return client_id in audience
    return False
