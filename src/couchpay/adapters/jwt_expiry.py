"""``TokenVerifier.verify_until`` for the verifiers built on PyJWT (dev tokens, Cognito): the
subject as ``verify`` checks it, and the ``exp`` claim of the same, already verified, token."""

from __future__ import annotations

import jwt

from couchpay.ports.identity import TokenVerifier


class ExpiringJwt(TokenVerifier):
    def verify_until(self, token: str) -> tuple[str, float]:
        subject = self.verify(token)
        claims = jwt.decode(token, options={"verify_signature": False})  # verified just above
        return subject, float(claims["exp"])
