"""A dependency-free progress bar: count, rate, ETA and live fields, on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """Redraws one line on a terminal; prints a line every `every` updates otherwise (logs, CI)."""

    def __init__(self, total: int, unit: str = "it", *, start: int = 0, every: int = 50, stream=None):
        self.total, self.unit, self.done, self.every = total, unit, start, every
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._t0, self._start = time.perf_counter(), start
        self.fields = ""

    def rate(self) -> float:
        """Units per second since this bar started."""
        elapsed = time.perf_counter() - self._t0
        return (self.done - self._start) / elapsed if elapsed > 0 else 0.0

    def update(self, n: int = 1, **fields) -> None:
        """Advances by `n` and shows `fields` (name=value pairs)."""
        self.done += n
        if fields:
            self.fields = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
        if self.tty or self.done % self.every == 0 or self.done == self.total:
            self._draw()

    def _draw(self) -> None:
        rate = self.rate()
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        frac = self.done / max(self.total, 1)
        bar = "#" * int(24 * frac) + "." * (24 - int(24 * frac))
        line = (f"[{bar}] {self.done}/{self.total} {self.unit}  {rate:.3g} {self.unit}/s  "
                f"ETA {_clock(eta)}  {self.fields}")
        self.stream.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN: no rate yet
        return "--:--"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
