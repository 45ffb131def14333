"""Optional dependencies, imported only by the class that needs them."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(
    module: str, *, needed_by: str, extra: str | None = None, install: str | None = None
) -> ModuleType:
    """Import ``module`` or raise an ImportError that says what to install.

    Args:
        module: The module to import.
        needed_by: Who needs it, for the message (``"AxSampler"``).
        extra: The pack's extra that installs it (``pip install 'optuna-advanced[<extra>]'``).
        install: The command to suggest instead, for a module no extra installs.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        how = install or f"pip install 'optuna-advanced[{extra}]'"
        raise ImportError(f"{needed_by} needs {module}: {how}.") from exc
