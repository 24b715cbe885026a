"""The offline Stripe: localstripe (PyPI) made to behave like Stripe where couchpay relies on it.

Not a production adapter. It serves the offline demo (``couchpay serve`` with no key), the
operator's ``couchpay offline-stripe`` and the tests:

* ``server``           -- localstripe on 127.0.0.1, with the compatibility shims it needs for
                          the API version stripe 16 pins (``allowed_payment_method_types`` ...);
* ``idempotency_keys`` -- honours ``Idempotency-Key`` as real Stripe does (localstripe ignores it);
* ``process``          -- runs ``server`` as a child process that dies with its parent.

Invariant: nothing here is imported by the service, the ports or the production adapters; only
the composition root (offline mode), the CLI and the tests reach it.
"""
