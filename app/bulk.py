"""What the bulk imports share: files read as a stream, a chunk at a time, and progress on a terminal or in a log."""
import csv
import itertools
import time
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class Row:
    """One record of an operator's file: the line it ends on (as `line N:` reports it), its values, its text."""

    line: int
    values: dict | str
    raw: str
    error: str | None = None  # why csv itself could not read it


def count_lines(path: str) -> int:
    """Lines in the file, read in blocks of bytes (about a second for a gigabyte): the total a bar fills up to."""
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


class _Tap:
    """The lines csv reads, kept until the record they make is taken: its text, for the chunk's digest."""

    def __init__(self, lines):
        self._lines = lines
        self._taken: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        return line

    def take(self) -> str:
        text = "".join(self._taken)
        self._taken.clear()
        return text


class CsvStream:
    """A CSV file with a header, read row by row (never whole): each Row with its line and its raw text.

    Bytes that are not UTF-8 arrive as lone surrogates (errors="surrogateescape"), for the row to be refused;
    a byte-order mark (a spreadsheet's UTF-8) is skipped."""

    def __init__(self, path: str):
        self.total = max(count_lines(path) - 1, 0)
        self._file = open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
        self._tap = _Tap(self._file)
        self._reader = csv.DictReader(self._tap)
        try:
            self.fieldnames = list(self._reader.fieldnames or [])
        except csv.Error:
            self.fieldnames = []
        self._tap.take()

    def __iter__(self):
        while True:
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a field over csv's limit, a NUL: that record, not the file, is refused
                self._tap.take()
                yield Row(self._reader.line_num, {}, "", f"cannot be read as CSV ({exc})")
                continue
            yield Row(self._reader.line_num, values, self._tap.take())

    def close(self) -> None:
        self._file.close()


class LineStream:
    """A file of one record per line (JSON lines), read line by line: each Row with its number and text."""

    def __init__(self, path: str):
        self.total = count_lines(path)
        self._file = open(path, encoding="utf-8", errors="surrogateescape")

    def __iter__(self):
        for number, text in enumerate(self._file, start=1):
            yield Row(number, text, text)

    def close(self) -> None:
        self._file.close()


def chunks(rows, size: int):
    """Lists of at most `size` rows, as they come."""
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """Rows done, rows a second and time left of a long import, on stderr: a bar (click.progressbar) on a
    terminal; in a log (not a terminal), a plain line every `every` rows and one at the end."""

    def __init__(self, label: str, total: int, every: int, stream=None):
        self.label, self.total, self.every = label, max(total, 0), max(every, 1)
        self.stream = stream or click.get_text_stream("stderr")
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.started = time.monotonic()
        self.done = 0
        self._next = self.every
        self._bar = None
        if self.tty:
            self._bar = click.progressbar(length=max(self.total, 1), label=label, file=self.stream, show_pos=True,
                                          show_eta=True, item_show_func=lambda rate: rate, width=30)
            self._bar.__enter__()

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate()
        text = f"{self.label}: {self.done:,} of {self.total:,} rows"
        if self.total:
            text += f" ({100 * self.done // self.total} %)"
        text += f", {rate:,.0f} rows a second"
        if rate and self.total > self.done:
            text += f", about {_duration((self.total - self.done) / rate)} left"
        elif self.total <= self.done:
            text += f", in {_duration(time.monotonic() - self.started)}"
        return text

    def update(self, done: int) -> None:
        """`done` rows of the total are done (the count, not a step)."""
        done = min(done, self.total) if self.total else done
        step, self.done = done - self.done, done
        if self._bar is not None:
            self._bar.update(max(step, 0), current_item=f"{self.rate():,.0f} rows/s")
            return
        if self.done >= self._next:
            click.echo(self.line(), file=self.stream)
            self._next = (self.done // self.every + 1) * self.every

    def echo(self, text: str) -> None:
        """A message while the bar is drawn: on its own line, the bar drawn again under it at the next update."""
        if self._bar is not None:
            click.echo("\r\x1b[2K" + text, file=self.stream)
        else:
            click.echo(text, file=self.stream)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        elif self.done and self.done != self._next - self.every:
            click.echo(self.line(), file=self.stream)
