"""What every reply model shares: the base model (extra keys forbidden, strict, every field
required) and how a time is sent. Kept apart from ``replies.py`` so that reply models in their
own modules (``entitlement_replies.py``) can be listed in ``replies.REPLY_MODELS``."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer

Timestamp = Annotated[
    AwareDatetime, PlainSerializer(lambda d: d.isoformat(), return_type=str, when_used="json")
]
"""An aware datetime, sent as Python's ISO 8601 (``2026-03-14T20:05:09+00:00``)."""


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)
