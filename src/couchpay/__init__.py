"""couchpay: the payment service of couchtour.tv."""

__version__ = "0.1.0"
