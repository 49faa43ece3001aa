"""When incremental EM sweeps: an adaptive interval, and novel points that call a sweep.

Right after a change (or a novel point) a sweep comes after ``FIRST_INTERVAL`` points; the
interval doubles while sweeps change nothing, so a settled model seldom sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Points between sweeps right after a change; the interval doubles while nothing changes.
FIRST_INTERVAL = 5
# Interval of a state built from a finished fit, which is settled.
SETTLED_INTERVAL = 64
# Novel points (beyond the 99.9 % chi-square quantile of every component) that call a sweep
# when they arrive within a window of this many points: the start of a new cluster, not
# the tail of an old one.
NOVEL_POINTS = 3
NOVEL_WINDOW = 20


@dataclass
class SweepSchedule:
    """The sweep schedule, counted in arrivals (``n_seen``).

    Attributes
    ----------
    interval : int
        Points between the last sweep and the next.
    next_sweep : int
        Arrival number at which the next sweep is due.
    novel : list of int
        Arrival numbers of the latest novel points (at most ``NOVEL_POINTS``).
    last_sweep : int
        Arrival number of the last sweep.
    """

    interval: int = FIRST_INTERVAL
    next_sweep: int = FIRST_INTERVAL
    novel: list[int] = field(default_factory=list)
    last_sweep: int = 0

    @classmethod
    def settled(cls, n_seen: int) -> SweepSchedule:
        """The schedule of a state that continues a finished fit of ``n_seen`` points."""
        return cls(SETTLED_INTERVAL, n_seen + SETTLED_INTERVAL, [], n_seen)

    def restart(self, n_seen: int) -> None:
        """Sweep soon: the structure just changed."""
        self.interval = FIRST_INTERVAL
        self.next_sweep = n_seen + FIRST_INTERVAL

    def note_novel(self, n_seen: int) -> None:
        """Point number ``n_seen`` was far from every component."""
        self.novel = [*self.novel[1 - NOVEL_POINTS :], n_seen]

    def due(self, n_seen: int) -> tuple[bool, bool]:
        """Whether a sweep is due now, and whether only novel points call it."""
        due = n_seen >= self.next_sweep
        novel = (
            len(self.novel) == NOVEL_POINTS
            and self.novel[-1] - self.novel[0] < NOVEL_WINDOW
            and n_seen - self.last_sweep >= FIRST_INTERVAL
        )
        return due or novel, novel and not due

    def swept(self, n_seen: int, changed: bool, novel: bool) -> None:
        """Reschedule after a sweep: restart after a change or a novel call, else double."""
        self.novel = []
        self.last_sweep = n_seen
        self.interval = FIRST_INTERVAL if changed or novel else 2 * self.interval
        self.next_sweep = n_seen + self.interval

    def postpone(self, n_seen: int) -> None:
        """A chunk was summarised without the buffer: keep the next sweep an interval away."""
        self.next_sweep = max(self.next_sweep, n_seen + self.interval)
