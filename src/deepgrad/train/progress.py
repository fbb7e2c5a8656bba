"""Per-epoch progress: a tqdm bar on a terminal, plain log lines otherwise.

The bar shows the running loss and accuracy, samples per second and the ETA. When the
stream is not a terminal (a log file, a pipe, a test's captured output) a bar would fill the
file with carriage returns, so one plain line is printed when the epoch ends, plus one every
``log_every`` seconds for long epochs.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["EpochProgress"]


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class EpochProgress:
    """Progress of one pass over a data loader.

    Args:
        total: the number of samples the epoch will see (``None`` if unknown).
        description: the label in front of the bar, e.g. ``"epoch 3/10"``.
        stream: where to write; default ``sys.stderr``.
        bar: force the tqdm bar on (True) or off (False); default: on when ``stream`` is a
            terminal.
        log_every: seconds between plain lines when there is no bar.

    Example:
        >>> progress = EpochProgress(1000, "epoch 1/5")
        >>> progress.update(100, loss=0.5, accuracy=0.9)
        >>> progress.close()
    """

    def __init__(self, total: int | None, description: str, stream: TextIO | None = None,
                 bar: bool | None = None, log_every: float = 30.0) -> None:
        self.total, self.description = total, description
        self.stream = sys.stderr if stream is None else stream
        self.samples, self.loss, self.accuracy = 0, float("nan"), float("nan")
        self.start = self.last_log = time.perf_counter()
        self.log_every = log_every
        self._bar = None
        if bar if bar is not None else _is_terminal(self.stream):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=description, unit="img", file=self.stream,
                             leave=True, dynamic_ncols=True, unit_scale=False)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def rate(self) -> float:
        """Samples per second so far."""
        return self.samples / max(self.elapsed, 1e-9)

    def update(self, samples: int, loss: float, accuracy: float) -> None:
        """Record a batch of ``samples`` and the running ``loss`` and ``accuracy`` (in [0, 1])."""
        self.samples += samples
        self.loss, self.accuracy = loss, accuracy
        if self._bar is not None:
            # refresh=False: tqdm redraws at most every 0.1 s inside update()
            self._bar.set_postfix_str(f"loss={loss:.4f}, acc={100 * accuracy:.2f}%",
                                      refresh=False)
            self._bar.update(samples)
        elif time.perf_counter() - self.last_log >= self.log_every:
            self.last_log = time.perf_counter()
            self._write(self.line(partial=True))

    def line(self, partial: bool = False) -> str:
        """The plain status line: loss, accuracy, samples/s, time (and ETA when ``partial``)."""
        text = (f"{self.description}: loss {self.loss:.4f}  acc {100 * self.accuracy:.2f}%  "
                f"{self.rate:,.0f} img/s  {self.elapsed:.1f}s")
        if partial and self.total:
            remaining = (self.total - self.samples) / max(self.rate, 1e-9)
            text += f"  [{self.samples}/{self.total}, ETA {remaining:.0f}s]"
        return text

    def close(self) -> None:
        """End the epoch: close the bar, or print the final plain line."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        else:
            self._write(self.line())

    def _write(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
