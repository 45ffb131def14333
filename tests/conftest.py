from __future__ import annotations

from hypothesis import HealthCheck
from hypothesis import settings
import optuna

pytest_plugins = ["pytester"]

optuna.logging.set_verbosity(optuna.logging.WARNING)

# Shared machines are noisy: no per-example deadline, and slow first draws are not failures.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=200
)
settings.load_profile("default")
