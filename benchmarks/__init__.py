"""The benchmark suite of optuna_advanced (not installed with the library).

``python -m benchmarks run --suite {sf,mf,pbt,overhead} ...`` runs every (problem, contender,
seed) in its own process and appends one JSON line per run to ``DIR/results.jsonl``;
``python -m benchmarks report DIR`` writes ``DIR/report.md`` and ``DIR/plots/``.

Layout: ``problems/`` (what is optimised), ``contenders.py`` (who optimises), ``natives.py``
(other libraries' own loops), ``runner.py`` (processes, budgets, resume), ``overhead.py``
(the cost of one ask), ``report.py`` (regret tables and plots).
"""
