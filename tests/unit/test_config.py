from fractions import Fraction
from pathlib import Path

import pytest

from couchpay.config import Config, ConfigError, parse_rate


def test_defaults_are_offline_in_dot_couchpay() -> None:
    config = Config.from_env({})
    assert config.offline and config.dev_sign_in
    assert config.data_dir == Path(".couchpay")
    assert config.sqlite_path == Path(".couchpay/couchpay.sqlite3")
    assert (config.currency, config.streaming_rate) == ("usd", Fraction(1, 10))


def test_a_key_means_real_stripe_and_a_jwks_url_turns_dev_sign_in_off() -> None:
    config = Config.from_env(
        {"STRIPE_SECRET_KEY": "sk_test_x", "COUCHPAY_JWKS_URL": "https://idp/jwks.json"}
    )
    assert not config.offline and not config.dev_sign_in


@pytest.mark.parametrize(
    ("text", "rate"), [("10%", Fraction(1, 10)), ("0.125", Fraction(1, 8)), ("0", Fraction(0))]
)
def test_streaming_rate_is_exact(text: str, rate: Fraction) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["ten", "150%", "-1", "1.5"])
def test_bad_rates_are_refused_with_the_setting_named(text: str) -> None:
    with pytest.raises(ConfigError, match="COUCHPAY_STREAMING_RATE"):
        parse_rate(text)


def test_a_bad_setting_is_a_one_line_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from couchpay.entrypoints.cli import main

    monkeypatch.setenv("COUCHPAY_STREAMING_RATE", "lots")
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("couchpay: COUCHPAY_STREAMING_RATE") and "Traceback" not in err
