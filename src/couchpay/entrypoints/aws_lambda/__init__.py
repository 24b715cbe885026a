"""The AWS Lambda handlers of the serverless stack (aws/serverless.yml).

    connect.handler      WebSocket $connect: verify the Cognito token, record the connection
    disconnect.handler   WebSocket $disconnect: forget the connection
    default.handler      WebSocket $default: one frame -> couchpay.wire.protocol -> post the reply
    webhook.handler      HTTP POST /stripe/webhook

Each module imports only what it needs, and only when first called (``$connect`` never loads
Stripe); ``_runtime`` keeps what warm invocations share.
"""
