from __future__ import annotations

import os

from hypothesis import HealthCheck
from hypothesis import settings
import optuna

pytest_plugins = ["pytester"]

optuna.logging.set_verbosity(optuna.logging.WARNING)

# Shared machines are noisy: no per-example deadline, and slow first draws are not failures.
settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=200
)
# CI explores a fixed set of examples, so a landing never depends on the draw of the day;
# local runs keep exploring new ones (and `--hypothesis-seed` reproduces them).
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
