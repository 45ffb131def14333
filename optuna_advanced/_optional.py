"""Optional dependencies, imported only by the class that needs them."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(module: str, *, needed_by: str, extra: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{needed_by} needs {module}: pip install 'optuna-advanced[{extra}]'."
        ) from exc
