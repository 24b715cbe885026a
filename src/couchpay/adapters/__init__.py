"""Adapters: the ports implemented on SQLite, Stripe, localstripe and local sockets."""
