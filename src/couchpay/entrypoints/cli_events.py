"""`couchpay events list|replay|deliver`: the fulfillment event feed, for operators.

``list`` reads the outbox (no server needed); ``replay`` makes events pending again, so the
deliverer (``couchpay serve``'s loop, the ``deliverEvents`` job on AWS, or ``events deliver``)
sends them to every endpoint once more (receivers dedupe by id); ``deliver`` runs one delivery
pass now. Exit codes: 0 done, 1 refused (the reason on stderr), 2 usage."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from couchpay.config import Config
from couchpay.domain.events import OutboxEvent
from couchpay.ports.outbox import OutboxStore
from couchpay.ports.store import Store

DURATION = re.compile(r"(\d+)([smhd])")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def when(text: str) -> datetime:
    """ISO 8601 with an offset (``2027-03-14T20:00:00Z``) or an age (``90s``, ``15m``,
    ``2h``, ``7d``)."""
    found = DURATION.fullmatch(text.strip())
    if found:
        age = timedelta(**{UNITS[found.group(2)]: int(found.group(1))})
        return datetime.now(UTC) - age
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a time: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the offset (Z or +hh:mm): {text!r}")
    return value.astimezone(UTC)


def add_commands(commands: Any) -> None:
    events = commands.add_parser("events", help="the fulfillment event feed (list, replay)")
    sub = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    ls = sub.add_parser("list", help="events, oldest first, with their delivery state")
    ls.add_argument("--since", type=when, help="ISO 8601 time or an age (15m, 2h, 7d); 1d")
    ls.add_argument("--subject", help="purchase:TX, card:CARD_ID, or a bare id")
    ls.add_argument("--pending", action="store_true", help="only events not yet delivered")
    ls.add_argument("--limit", type=int, default=500)
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(run=_list)
    rp = sub.add_parser("replay", help="deliver events again (receivers dedupe by id)")
    target = rp.add_mutually_exclusive_group(required=True)
    target.add_argument("event_id", nargs="?", help="one event")
    target.add_argument("--since", type=when, help="every event since this time")
    rp.add_argument("--limit", type=int, default=10_000)
    rp.set_defaults(run=_replay)
    dv = sub.add_parser("deliver", help="run one delivery pass now")
    dv.set_defaults(run=_deliver)


def _store(config: Config) -> Store:
    from couchpay.bootstrap import build_store

    return build_store(config)


def _subject_events(store: OutboxStore, subject: str) -> list[OutboxEvent]:
    if ":" in subject:
        return store.outbox_subject(subject)
    return store.outbox_subject(f"purchase:{subject}") or store.outbox_subject(f"card:{subject}")


def _list(args: argparse.Namespace, config: Config) -> int:
    store = _store(config)
    try:
        since = args.since
        if args.subject:
            found = _subject_events(store, args.subject)
        elif args.pending:
            found = store.outbox_pending(args.limit)
        else:
            since = since or datetime.now(UTC) - timedelta(days=1)
            found = store.outbox_since(since, args.limit)
    finally:
        store.close()
    found = [
        e
        for e in found
        if (not args.pending or e.pending) and (since is None or e.created_at >= since)
    ][: args.limit]
    if args.json:
        print(json.dumps([as_json(e) for e in found], indent=2))
        return 0
    for e in found:
        print(
            f"{e.created_at.isoformat()}  {e.event_id}  {e.type.value:<19} {_where(e)}  {_state(e)}"
        )
    print(f"{len(found)} events", file=sys.stderr)
    return 0


def as_json(e: OutboxEvent) -> dict[str, Any]:
    return {
        **e.envelope(),
        "pending": e.pending,
        "deliveredTo": sorted(e.delivered),
        "attempts": e.attempts,
        "nextAttemptAt": e.next_attempt_at.isoformat() if e.next_attempt_at else None,
        "lastError": e.last_error,
    }


def _where(e: OutboxEvent) -> str:
    return f"{e.subject}#{e.sequence}"


def _state(e: OutboxEvent) -> str:
    if not e.pending:
        return "delivered"
    if e.attempts:
        at = e.next_attempt_at.isoformat() if e.next_attempt_at else "now"
        return f"pending ({e.attempts} failed: {e.last_error}; next {at})"
    return "pending"


def _replay(args: argparse.Namespace, config: Config) -> int:
    from couchpay.service.event_delivery import replay

    store = _store(config)
    try:
        if args.event_id:
            event = store.outbox_event(args.event_id)
            if event is None:
                print(f"couchpay: no event {args.event_id}", file=sys.stderr)
                return 1
            events = [event]
        else:
            events = store.outbox_since(args.since, args.limit)
        count = replay(store, events)
    finally:
        store.close()
    print(f"{count} events will be delivered again")
    return 0


def _deliver(args: argparse.Namespace, config: Config) -> int:
    from couchpay.entrypoints.event_runner import build_feed
    from couchpay.service.event_delivery import deliver_pending

    store = _store(config)
    try:
        feed = build_feed(config, store)
        if feed is None:
            print("couchpay: no COUCHPAY_EVENTS_URLS configured", file=sys.stderr)
            return 1
        summary = deliver_pending(feed)
        feed.poster.close()
    finally:
        store.close()
    print(summary.line())
    return 0 if not summary.failed else 1
