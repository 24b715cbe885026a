"""The offline Stripe: localstripe (PyPI) made to behave like Stripe where couchpay relies on it.

Not a production adapter. It serves the offline demo (``couchpay serve`` with no key), the
operator's ``couchpay offline-stripe`` and the tests:

* ``server``           -- localstripe on 127.0.0.1, with the compatibility shims it needs for
                          the API version stripe 16 pins (``allowed_payment_method_types`` ...);
* ``disputes``         -- Stripe test mode's disputes (card 4000 0000 0000 0259), which
                          localstripe lacks;
* ``idempotency_keys`` -- honours ``Idempotency-Key`` as real Stripe does (localstripe ignores it);
* ``process``          -- runs ``server`` as a child process that dies with its parent;
* ``realism``          -- a proxy in front of it with Stripe's latency and rate limits (429s),
                          and counters (rules in ``realism_rules``, test/bench harness in
                          ``realism_harness``): what a burst of purchases meets at real Stripe.

Invariant: nothing here is imported by the service, the ports or the production adapters; only
the composition root (offline mode), the CLI and the tests reach it.
"""
