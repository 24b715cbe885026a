"""The one exception tree of couchpay.

Every error that can reach a user is a ``CouchpayError`` with a stable snake_case ``code``
and a user-safe sentence. ``protocol.py`` is the only place these become replies.

    CouchpayError
    ├── BadRequest                 bad_request       malformed frame / invalid message
    │   ├── FrameTooLarge          frame_too_large
    │   ├── UnknownAction          unknown_action
    │   ├── AmountTooLarge         amount_too_large  over Stripe's maximum charge
    │   └── AmountTooSmall         amount_too_small  under Stripe's minimum for the currency
    ├── RateLimited                rate_limited      too many frames on one connection
    ├── ReplyTooLarge              reply_too_large   the answer would be over 128 KB
    ├── Unauthorized               unauthorized      token or userId/cogId mismatch
    ├── NotFound                   not_found         no such record *for this user*
    ├── CardNotValid               card_not_valid    not the user's, inactive, not live, expired
    ├── CardChecksFailed           card_checks_failed  Stripe's cvc/zip checks failed
    ├── ItemUnavailable            item_unavailable
    ├── PriceMismatch              price_mismatch
    ├── ShippingAddressRequired shipping_address_required  a cart that ships, no address
    ├── RequestIdReused            request_id_reused  same requestId, different purchase
    ├── SoldOut                    sold_out          a limited item has no units left
    ├── Busy                       busy              the line to Stripe is full / too long
    ├── AuthenticationIncomplete   authentication_incomplete  3-D Secure not finished
    └── PaymentError               (gateway errors, mapped at the Stripe boundary)
        ├── CardDeclined           Stripe's code, e.g. card_declined, expired_card
        ├── PaymentRejected        Stripe refused the request (invalid_request, idempotency)
        └── GatewayUnavailable     payment_processing: outcome unknown (timeout, 5xx, network)
            └── GatewayBusy        stripe_busy: Stripe answered 429, the request was not run
"""

from __future__ import annotations


class CouchpayError(Exception):
    code = "internal_error"
    default_message = "Something went wrong on our side."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class BadRequest(CouchpayError):
    code = "bad_request"
    default_message = "The request is not valid."


class FrameTooLarge(BadRequest):
    code = "frame_too_large"
    default_message = "The frame is larger than 32 KB."


class ReplyTooLarge(CouchpayError):
    code = "reply_too_large"
    default_message = "The answer would be over 128 KB; ask for less (for example a smaller page)."


class UnknownAction(BadRequest):
    code = "unknown_action"
    default_message = "Unknown action."


class AmountTooLarge(BadRequest):
    code = "amount_too_large"
    default_message = "The total is over the largest amount a card can be charged."


class AmountTooSmall(BadRequest):
    code = "amount_too_small"
    default_message = "The total is below the smallest amount a card can be charged."


class RateLimited(CouchpayError):
    code = "rate_limited"
    default_message = "Too many requests on this connection; slow down and retry."


class Unauthorized(CouchpayError):
    code = "unauthorized"
    default_message = "You are not allowed to do that."


class NotFound(CouchpayError):
    code = "not_found"
    default_message = "Not found."


class CardNotValid(CouchpayError):
    code = "card_not_valid"
    default_message = "This card cannot be used: it is not in your wallet, or it is expired."


class CardChecksFailed(CouchpayError):
    code = "card_checks_failed"
    default_message = "The card's security code or postal code did not match."


class ItemUnavailable(CouchpayError):
    code = "item_unavailable"
    default_message = "An item in the cart is no longer available."


class PriceMismatch(CouchpayError):
    code = "price_mismatch"
    default_message = "A price in the cart has changed; please review the cart."


class ShippingAddressRequired(CouchpayError):
    code = "shipping_address_required"
    default_message = "This order has an item that ships: a shipping address is needed."


class RequestIdReused(CouchpayError):
    code = "request_id_reused"
    default_message = "This requestId was already used for a different purchase."


class SoldOut(CouchpayError):
    code = "sold_out"
    default_message = "Sorry, that is sold out."


class Busy(CouchpayError):
    code = "busy"
    default_message = (
        "Too many fans are paying right now and the wait would be too long; you were not "
        "charged. Please try again in a few minutes."
    )


class AuthenticationIncomplete(CouchpayError):
    code = "authentication_incomplete"
    default_message = "The card's 3-D Secure check is not finished yet."


class PaymentError(CouchpayError):
    code = "payment_failed"
    default_message = "The payment did not go through."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        payment_intent_id: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.payment_intent_id = payment_intent_id


class CardDeclined(PaymentError):
    code = "card_declined"
    default_message = "Your card was declined."


class PaymentRejected(PaymentError):
    code = "payment_rejected"
    default_message = "The payment provider refused the request."


class GatewayUnavailable(PaymentError):
    code = "payment_processing"
    default_message = "The payment is still being processed; you will not be charged twice."


class GatewayBusy(GatewayUnavailable):
    """Stripe's rate limit (HTTP 429): the request was not run; retry later with the same key."""

    code = "stripe_busy"
