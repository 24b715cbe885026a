"""Ways in: the local Starlette server, the CLI (and later AWS Lambda handlers)."""
