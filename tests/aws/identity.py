"""A stand-in Cognito user pool for tests: an RSA key whose JWKS is served on 127.0.0.1.

Tokens are shaped like Cognito's (``token_use``, ``client_id`` on access tokens, ``aud`` on id
tokens, ``iss`` = the pool), so the real verification path runs: fetch the JWKS over HTTP, match
the key id, check the RS256 signature and the claims."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "couchpay-test-client"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TestUserPool:
    """Serves ``{issuer}/.well-known/jwks.json``; ``token()`` mints what the pool would."""

    __test__ = False  # not a test class

    def __init__(self, client_id: str = CLIENT_ID) -> None:
        self.client_id = client_id
        self.key = new_key()
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        self.fetches = 0
        pool = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != f"/{pool.pool_id}/.well-known/jwks.json":
                    self.send_error(404)
                    return
                pool.fetches += 1
                body = json.dumps(pool.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.pool_id = "us-east-1_TestPool"
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update(kid=self.kid, alg="RS256", use="sig")
        return {"keys": [public]}

    def claims(self, user_id: str, ttl: int = 600, token_use: str = "access") -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_id,
            "iss": self.issuer,
            "token_use": token_use,
            "iat": now,
            "auth_time": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
        }
        if token_use == "access":
            claims.update(client_id=self.client_id, scope="aws.cognito.signin.user.admin")
        else:
            claims.update(aud=self.client_id, email_verified=True)
        return claims

    def sign(
        self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None, kid: str | None = None
    ) -> str:
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def token(self, user_id: str, ttl: int = 600, token_use: str = "access") -> str:
        return self.sign(self.claims(user_id, ttl, token_use))

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
