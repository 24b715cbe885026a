"""Settings, read once from the environment at start-up (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    data_dir: Path
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    database: str | None = None
    currency: str = "usd"
    jwks_url: str | None = None
    web_dir: Path | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        e = dict(os.environ if env is None else env)
        return cls(
            data_dir=Path(e.get("COUCHPAY_DATA_DIR") or "./.couchpay"),
            stripe_secret_key=e.get("STRIPE_SECRET_KEY") or None,
            stripe_publishable_key=e.get("STRIPE_PUBLISHABLE_KEY") or None,
            stripe_webhook_secret=e.get("STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=e.get("STRIPE_API_BASE") or None,
            database=e.get("COUCHPAY_DB") or None,
            currency=(e.get("COUCHPAY_CURRENCY") or "usd").lower(),
            jwks_url=e.get("COUCHPAY_JWKS_URL") or None,
            web_dir=Path(e["COUCHPAY_WEB_DIR"]) if e.get("COUCHPAY_WEB_DIR") else None,
        )

    @property
    def dev_sign_in(self) -> bool:
        """Local dev tokens are accepted only while no real identity provider is configured."""
        return self.jwks_url is None

    @property
    def web_dist(self) -> Path:
        """The built page: $COUCHPAY_WEB_DIR, else web/dist of this checkout."""
        return self.web_dir or Path(__file__).resolve().parents[2] / "web" / "dist"

    @property
    def offline(self) -> bool:
        """No Stripe key: run against an embedded localstripe."""
        return self.stripe_secret_key is None

    @property
    def sqlite_path(self) -> Path:
        db = self.database
        if db and db.startswith("sqlite:///"):
            return Path(db.removeprefix("sqlite:///"))
        return self.data_dir / "couchpay.sqlite3"

    @property
    def dev_key_file(self) -> Path:
        return self.data_dir / "dev-signing.key"
