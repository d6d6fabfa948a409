"""CPU seconds spent by each part of the system during a measurement, read from /proc.

The machine is shared (PostgreSQL and Redis serve other databases too), so PostgreSQL is
counted by its backends connected to the benchmark's database only, and Redis as a whole.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process we can read."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        found.append((int(entry.name), ppid, cmdline))
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def descendants(root: int, processes: list[tuple[int, int, str]]) -> set[int]:
    """A process and everything it started."""
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid, _ in processes:
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    return family


class CpuMeter:
    """CPU used by named groups of processes between start() and stop().

    A thread samples /proc every `interval` seconds (rarely: reading /proc costs CPU too), so
    a process that exits in between still counts up to its last sample; one that lives less
    than `interval` may be missed.
    """

    def __init__(self, groups: dict[str, Callable[[list[tuple[int, int, str]]], set[int]]],
                 interval: float = 1.0):
        """Each group picks its pids from the process list at every sample."""
        self.groups = groups
        self.interval = interval
        self._first: dict[str, dict[int, float]] = {}
        self._last: dict[str, dict[int, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.used: dict[str, float] = {}

    def _sample(self) -> None:
        """Record every group's processes' CPU now; the first sight of a pid is its start."""
        processes = _processes()
        for name, pick in self.groups.items():
            last = self._last.setdefault(name, {})
            for pid in pick(processes):
                cpu = _cpu_seconds(pid)
                if cpu:
                    last[pid] = cpu

    def _run(self) -> None:
        """Sample until stopped."""
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> None:
        """Remember every group's CPU now and keep sampling."""
        self._sample()
        self._first = {name: dict(pids) for name, pids in self._last.items()}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """CPU seconds per group since start() (processes born since count from zero)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        self.used = {name: round(sum(cpu - self._first.get(name, {}).get(pid, 0.0)
                                     for pid, cpu in self._last.get(name, {}).items()), 3)
                     for name in self.groups}
        return self.used


def system_meter(server_pid: int | None, database: str,
                 worker_pids: set[int] | None = None) -> CpuMeter:
    """Gunicorn (master and workers), PostgreSQL backends of `database`, Redis, RQ workers."""
    groups: dict[str, Callable[[list[tuple[int, int, str]]], set[int]]] = {
        # Backend titles read "postgres: 15/main: <user> <database> <client> <state>".
        "postgres": lambda ps: {pid for pid, _, cmd in ps
                                if cmd.startswith("postgres: ")
                                and f": postgres {database} " in cmd},
        "redis": lambda ps: {pid for pid, _, cmd in ps if cmd.startswith("redis-server")},
    }
    if server_pid is not None:
        groups["app"] = lambda ps: descendants(server_pid, ps)
    if worker_pids:
        groups["workers"] = lambda ps: set().union(*(descendants(p, ps) for p in worker_pids))
    return CpuMeter(groups)
