"""The wire: everything between a WebSocket frame and a use case, in one place.

Follow one frame: ``protocol`` decodes the envelope (size, JSON, ``requestId``) and looks the
action up in ``routes``, which names its request model (``messages``), the service function it
calls and its failure action; the handler's record goes through ``views`` into a reply model
(``replies``: one model per reply shape), and ``protocol`` serializes it. Errors become replies
only in ``protocol``. ``push`` renders what the service tells the ``Notifier`` port (a purchase
settled by a webhook or by settlement) as the same reply, for a transport to deliver. ``asyncapi``
generates the AsyncAPI document and docs/ from the same models.

Invariant: nothing here touches the store or Stripe; routes call service functions only.
"""
