"""Ax's logging, silenced on request: at import and around every call the bridge makes."""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

from optuna_advanced._optional import import_optional

__all__ = ["import_ax", "quiet_ax"]


def import_ax(quiet: bool) -> ModuleType:
    """``import ax`` (with the extra to install if missing); with ``quiet``, the INFO lines Ax
    logs while importing (its storage module announces SQLAlchemy) are not printed."""
    if not quiet:
        return import_optional("ax", needed_by="AxSampler", extra="ax")
    # Ax's loggers get their levels and handler during the import itself, so they cannot be
    # raised beforehand: disable INFO for the import's duration, then restore.
    previous = logging.root.manager.disable
    logging.disable(max(previous, logging.INFO))
    try:
        return import_optional("ax", needed_by="AxSampler", extra="ax")
    finally:
        logging.disable(previous)


class quiet_ax:
    """Context manager: raise Ax's loggers to WARNING for the duration (Ax logs one INFO line
    per call).

    Ax gives each module its own logger with its own level, so the parent ``ax`` logger's
    level is not enough; the previous levels are restored on exit.

    Args:
        enabled: ``False`` makes it a no-op.
    """

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled
        self._levels: dict[str, int] = {}

    def __enter__(self) -> None:
        if not self._enabled:
            return
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger) and (name == "ax" or name.startswith("ax.")):
                self._levels[name] = logger.level
                logger.setLevel(logging.WARNING)

    def __exit__(self, *exc: Any) -> None:
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        self._levels.clear()
