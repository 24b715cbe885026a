"""The pool's key set under pressure (red-team finding 4): made-up key ids cost one fetch per
cool-down, and keys already fetched keep working while the pool's endpoint is down."""

from __future__ import annotations

import pytest

from couchpay.adapters.cognito_tokens import CognitoTokens, JwksUnavailable
from couchpay.domain.errors import Unauthorized
from tests.aws.identity import TestUserPool, new_key


def test_made_up_key_ids_cost_one_fetch_and_an_outage_spares_cached_keys() -> None:
    with TestUserPool() as pool:
        verifier = CognitoTokens(pool.jwks_url, pool.issuer, pool.client_id)
        assert verifier.verify(pool.token("fan")) == "fan"
        assert pool.fetches == 1
        for n in range(5):
            forged = pool.sign(pool.claims("fan"), key=new_key(), kid=f"made-up-{n}")
            with pytest.raises(Unauthorized):
                verifier.verify(forged)
        assert pool.fetches == 2  # one look for a rotated key, then the cool-down
        pool.close()  # the pool's endpoint goes away
        assert verifier.verify(pool.token("fan")) == "fan"  # the cached key still verifies
        cold = CognitoTokens(pool.jwks_url, pool.issuer, pool.client_id)
        with pytest.raises(JwksUnavailable):
            cold.verify(pool.token("fan"))
        with pytest.raises(JwksUnavailable, match="moments ago"):  # no second attempt
            cold.verify(pool.token("fan"))
