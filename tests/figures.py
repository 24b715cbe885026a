"""Figures the suites report (purchases, kills, PaymentIntents, records, duplicates, frames...),
printed together at the end of the pytest run, whatever the output capture."""

from __future__ import annotations

FIGURES: list[str] = []


def report(line: str) -> None:
    FIGURES.append(line)
