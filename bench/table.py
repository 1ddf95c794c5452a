"""Result tables: candidates × problem sizes, as markdown (times and ratios) and as a plot."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .timing import Measurement


def format_time(seconds: float) -> str:
    """``1.23 ms`` style, three significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


@dataclass
class Summary:
    """A derived row: ``candidate``'s time divided by the best time among ``against``; ``candidate``
    may also be a list, whose best time is then used."""

    label: str
    candidate: str | list[str]
    against: list[str]


@dataclass
class Table:
    """Medians of candidates (rows) on problem sizes (columns), with ratios to ``baseline``."""

    title: str
    baseline: str
    columns: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, Measurement]] = field(default_factory=dict)
    summaries: list[Summary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, column: str, measurements: dict[str, Measurement]) -> None:
        """Record one comparison (one problem size); new candidates get a row of their own."""
        if column not in self.columns:
            self.columns.append(column)
        for name, measurement in measurements.items():
            self.rows.setdefault(name, {})[column] = measurement

    def time(self, name: str, column: str) -> float | None:
        measurement = self.rows.get(name, {}).get(column)
        return measurement.median if measurement is not None else None

    def best(self, names: list[str], column: str) -> float | None:
        """The smallest time among ``names`` in ``column`` (None when none of them was timed)."""
        times = [t for t in (self.time(name, column) for name in names) if t is not None]
        return min(times) if times else None

    def ratio(self, name: str | list[str], column: str, against: list[str] | None = None) -> float | None:
        """``name``'s time (the best of a list) over the baseline's (or the best of ``against``)."""
        mine = self.best([name] if isinstance(name, str) else name, column)
        reference = self.best(against or [self.baseline], column)
        if mine is None or reference is None:
            return None
        return mine / reference

    def _cell(self, name: str, column: str) -> str:
        measurement = self.rows[name].get(column)
        if measurement is None:
            return "—"
        if measurement.median is None:
            return measurement.note
        text = format_time(measurement.median)
        if name != self.baseline:
            ratio = self.ratio(name, column)
            text += f" ({ratio:.2f}×)" if ratio is not None else ""
        return f"{text} ⚠ {measurement.note}" if measurement.note else text

    def markdown(self) -> str:
        """The table: one row per candidate, ``time (ratio to baseline)`` per column."""
        header = f"| {self.title} | " + " | ".join(self.columns) + " |"
        lines = [header, "|" + "---|" * (len(self.columns) + 1)]
        for name in self.rows:
            label = f"{name} (baseline)" if name == self.baseline else name
            lines.append(f"| {label} | " + " | ".join(self._cell(name, c) for c in self.columns) + " |")
        for summary in self.summaries:
            cells = []
            for column in self.columns:
                ratio = self.ratio(summary.candidate, column, summary.against)
                cells.append(f"**{ratio:.2f}×**" if ratio is not None else "—")
            lines.append(f"| *{summary.label}* | " + " | ".join(cells) + " |")
        lines.extend(f"\n{note}" for note in self.notes)
        return "\n".join(lines)


def plot(tables: list[Table], path: Path) -> None:
    """Ratios to each table's baseline against problem size, one panel per table, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 2 if len(tables) > 1 else 1
    rows = -(-len(tables) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 4 * rows), squeeze=False)
    for axis, table in zip(axes.flat, tables, strict=False):
        positions = range(len(table.columns))
        for name in table.rows:
            ratios = [table.ratio(name, column) for column in table.columns]
            points = [(x, r) for x, r in zip(positions, ratios, strict=True) if r is not None]
            if points:
                axis.plot(*zip(*points, strict=True), marker="o", label=name)
        axis.set_xticks(list(positions), table.columns)
        axis.set_yscale("log")
        axis.set_ylabel(f"time / {table.baseline}")
        axis.set_title(table.title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="x-small")
    for axis in list(axes.flat)[len(tables) :]:
        axis.set_visible(False)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
