"""A dependency-free progress bar for operator commands (drawn on stderr, only on a terminal
unless forced), and the one-line summary they end with."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    def __init__(
        self, label: str, total: int | None = None, stream: TextIO | None = None, width: int = 30
    ) -> None:
        self.label, self.total, self.done, self.width = label, total, 0, width
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.live:
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def line(self) -> str:
        if not self.total:
            return f"{self.label}: {self.done}"
        filled = min(self.width, self.width * self.done // self.total)
        bar = "#" * filled + "." * (self.width - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total}"

    def finish(self) -> None:
        """Always leaves the final state on its own line, terminal or not."""
        self.stream.write(("\r" if self.live else "") + self.line() + "\n")
        self.stream.flush()
