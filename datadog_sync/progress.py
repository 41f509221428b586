"""A progress bar for long phases (tqdm on stderr); silent when disabled or not on a terminal."""

from __future__ import annotations


class Progress:
    def __init__(self, desc: str, total: int = 0, *, enabled: bool = True):
        self._bar = None
        if enabled:
            from tqdm import tqdm

            # disable=None turns the bar off when stderr is not a terminal (CI logs, pipes).
            self._bar = tqdm(total=total, desc=desc, unit="res", disable=None, leave=False)

    def add_total(self, n: int) -> None:
        if self._bar is not None:
            self._bar.total = (self._bar.total or 0) + n
            self._bar.refresh()

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
