"""Pure domain: money, cards, catalog, pricing, purchases, statuses, errors. No I/O here."""
