"""Test tooling shared by the pack's tests and by users testing their own samplers.

``optuna_advanced.testing.registry`` lists every sampler and pruner the pack ships;
``optuna_advanced.testing.conformance`` holds the pack-wide test classes (they need pytest, which
the ``dev`` extra installs). Nothing here is imported by ``import optuna_advanced``.
"""
