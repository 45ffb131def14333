"""Sphinx configuration of the optuna_advanced documentation site.

Built by ``make docs`` (part of ``make test``): an HTML build and a doctest build, both with
warnings as errors. The doctest build runs the ``Example:`` sections of the public classes'
docstrings (pulled in by autodoc on the API pages) and every doctest block of the pages,
including hidden ones that check the tables of defaults against the constructors and the quoted
benchmark figures against ``benchmarks/results/report.md``.
"""

from __future__ import annotations

from pathlib import Path

import optuna_advanced

DOCS = Path(__file__).resolve().parent
RESULTS = DOCS.parent / "benchmarks" / "results"

project = "optuna_advanced"
author = "optuna_advanced developers"
copyright = "optuna_advanced developers"
release = optuna_advanced.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
    "myst_parser",  # for benchmarks.md, which includes benchmarks/results/report.md as it is
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["deflist"]
exclude_patterns = ["_build", "README.md"]
root_doc = "index"

# -- autodoc and napoleon: Google-style docstrings ---------------------------------------------
autodoc_member_order = "bysource"
autoclass_content = "class"
autodoc_preserve_defaults = True  # show defaults as written, e.g. ``1 / 3``
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# -- doctest -----------------------------------------------------------------------------------
# Optuna logs every finished trial at INFO on stderr: quieted so the build output stays readable
# (doctest compares stdout only, so no result changes).
_SETUP = '''
from pathlib import Path as _Path

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def defaults(cls):
    """The defaults of ``cls.__init__`` as the interpreter holds them (checks the pages' tables
    of defaults; not ``inspect.signature``, which ``autodoc_preserve_defaults`` rewrites)."""
    init = cls.__init__
    code = init.__code__
    values = init.__defaults__ or ()
    names = code.co_varnames[code.co_argcount - len(values) : code.co_argcount]
    return {**dict(zip(names, values)), **(init.__kwdefaults__ or {})}


def missing_from_report(*quoted, report="report.md"):
    """The quoted rows and sentences that ``benchmarks/results/<report>`` no longer contains."""
    text = (_Path(RESULTS) / report).read_text(encoding="utf-8")
    return [q for q in quoted if q not in text]
'''
doctest_global_setup = f"RESULTS = {str(RESULTS)!r}\n{_SETUP}"

# -- HTML --------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"optuna_advanced {release}"
