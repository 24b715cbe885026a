"""Store contract, continued: one live card per (user, fingerprint), enforced by the store.

Reproduces the red team's finding (8 concurrent saves of one card gave 5 live records): here
8 threads add the same card (8 PaymentMethods, one fingerprint) at once, on every store."""

from __future__ import annotations

from datetime import timedelta

from couchpay.domain.statuses import CardStatus
from couchpay.ports.store import LiveCardExists, Store
from tests.contract.store_contract import T0, at_once, make_card


def live(store: Store, user_id: str = "alice") -> list[str]:
    return [c.card_id for c in store.list_cards(user_id) if c.active and c.status.value == "live"]


class TestOneLiveCardPerFingerprint:
    def test_eight_concurrent_saves_of_one_card_store_one_live_record(
        self, racing_store: Store
    ) -> None:
        """Not on moto: a card is saved with its ``card.saved`` event in one TransactWriteItems,
        and moto's transactions are not atomic across threads (two winners seen)."""
        store = racing_store
        store.ensure_user("alice", T0)

        def save(i: int) -> str | LiveCardExists:
            card = make_card(f"card-{i}", card_token=f"pm_{i}", created_at=T0 + timedelta(i))
            try:
                store.add_card(card)
            except LiveCardExists as clash:
                return clash
            return card.card_id

        outcomes = at_once(8, save)
        winners = [o for o in outcomes if isinstance(o, str)]
        assert len(winners) == 1
        assert live(store) == winners
        assert {o.card_id for o in outcomes if isinstance(o, LiveCardExists)} == set(winners)

    def test_cards_that_are_not_live_and_other_users_never_clash(self, store: Store) -> None:
        for user in ("alice", "bob"):
            store.ensure_user(user, T0)
        store.add_card(make_card("live"))
        store.add_card(make_card("failed", status=CardStatus.FAIL_CHECKS))
        store.add_card(make_card("error", status=CardStatus.ERROR))
        store.add_card(make_card("bobs", user_id="bob", stripe_customer_id="cus_bob"))
        assert live(store) == ["live"] and live(store, "bob") == ["bobs"]

    def test_a_cancelled_card_frees_its_fingerprint(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        first = make_card("first")
        store.add_card(first)
        store.update_card(first.cancelled(T0 + timedelta(days=1)))
        store.add_card(make_card("again", card_token="pm_again"))
        assert live(store) == ["again"]
        try:
            store.add_card(make_card("third", card_token="pm_third"))
        except LiveCardExists as clash:
            assert clash.card_id == "again"
        else:
            raise AssertionError("a second live card with one fingerprint was stored")
        assert live(store) == ["again"]
