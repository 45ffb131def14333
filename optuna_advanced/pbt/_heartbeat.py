"""Heartbeats of the segments a process is running (``pbt:heartbeat``): PBT writes its own, so
a dead worker's segment is found and retried on every storage, journal files included."""

from __future__ import annotations

import threading
import time
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError

from optuna_advanced.pbt._schema import ATTRS
from optuna_advanced.pbt._schema import HEARTBEAT

__all__ = ["Heartbeats"]


class Heartbeats:
    """One daemon thread per ``optimize`` call writing ``pbt:heartbeat`` (wall-clock time) on
    every segment this process is running."""

    def __init__(self, storage: Any, interval: float) -> None:
        self._storage, self._interval = storage, interval
        self._running: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def add(self, trial_id: int) -> None:
        # No beat now: until the first one, staleness is measured from the claim's start time.
        with self._lock:
            self._running.add(trial_id)

    def remove(self, trial_id: int) -> None:
        with self._lock:
            self._running.discard(trial_id)

    def _beat(self, trial_id: int) -> None:
        try:
            ATTRS.write(self._storage, trial_id, HEARTBEAT, time.time(), user=True)
        except UpdateFinishedTrialError:
            self.remove(trial_id)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                running = list(self._running)
            for trial_id in running:
                self._beat(trial_id)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
