"""Test tooling shared by the pack's tests and by users testing their own samplers.

``optuna_advanced.testing.registry`` lists every sampler and pruner the pack ships;
``optuna_advanced.testing.conformance`` holds the pack-wide test classes (they need pytest, which
the ``dev`` extra installs). :func:`value_in_distribution` tells whether a value is one a
distribution can take, and :func:`sample_prior` draws one from the distribution's prior (uniform,
log-uniform on log scales, uniform over choices and grid points). Nothing here is imported by
``import optuna_advanced``.
"""

from __future__ import annotations

from optuna_advanced._space import sample_prior
from optuna_advanced._space import value_in_distribution

__all__ = ["sample_prior", "value_in_distribution"]
