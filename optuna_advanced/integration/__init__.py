"""Bridges to other tools' ways of running a search, each in its own module, imported on demand:

- ``optuna_advanced.integration.ray``: ``OptunaSearch`` for Ray Tune, which hands the pack's
  samplers the budget on which ASHA or Hyperband stopped a trial (needs the ``ray`` extra);
- ``optuna_advanced.integration.configspace``: a ConfigSpace search space (SMAC3's) as
  define-by-run Optuna code (needs the ``configspace`` extra).

Nothing here is imported by ``import optuna_advanced``.
"""
