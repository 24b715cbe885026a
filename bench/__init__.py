"""couchpay benchmarks: what couchpay costs on top of Stripe, the socket and the SDKs, as
ratios measured side by side in one run. ``./scripts/bench`` (or ``python -m bench``)."""
