"""The OptunaHub packages in hub/package/ load with optunahub and run their examples.

Each package is a thin module over this package, in the registry's layout (README.md with the
registry's front matter, LICENSE, __init__.py, example.py, requirements.txt). The registry's own
linters run in ``make hublint`` (part of ``make test``); here: loading, the examples, and the
front matter the registry's ``header_confirm.py`` checks.
"""

from __future__ import annotations

from pathlib import Path
import re
import subprocess
import sys

import pytest
import yaml

import optuna_advanced

optunahub = pytest.importorskip("optunahub")

REGISTRY = Path(__file__).resolve().parents[1] / "hub" / "package"
PACKAGES = sorted(str(p.parent.relative_to(REGISTRY)) for p in REGISTRY.glob("*/*/__init__.py"))
TAG = {"samplers": "sampler", "pruners": "pruner"}


def test_every_algorithm_has_a_package() -> None:
    assert PACKAGES == [
        "functions/population_based_training",
        "pruners/bohb_hyperband",
        "samplers/ax_bridge",
        "samplers/bohb",
        "samplers/hyperopt_bridge",
        "samplers/smac_random_forest",
    ]


@pytest.mark.parametrize("package", PACKAGES)
def test_layout_and_front_matter(package: str) -> None:
    folder = REGISTRY / package
    assert {p.name for p in folder.iterdir()} >= {
        "README.md",
        "LICENSE",
        "__init__.py",
        "example.py",
        "requirements.txt",
    }
    text = (folder / "README.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, flags=re.S)
    assert match, "no front matter"
    front = yaml.safe_load(match[1])
    for key in ("author", "title", "description", "license"):
        assert isinstance(front[key], str), key
    assert front["license"] == "MIT License"
    assert all(isinstance(v, str) for v in front["tags"])
    assert all(isinstance(v, str) for v in front["optuna_versions"])
    category = package.split("/")[0]
    if category in TAG:
        assert TAG[category] in front["tags"]
    for section in ("## Abstract", "## APIs", "## Installation", "## Example"):
        assert section in text
    example = re.search(r"## Example\n\n```python\n(.*?)```", text, flags=re.S)
    assert example and example[1] == (folder / "example.py").read_text()
    assert "optuna-advanced" in (folder / "requirements.txt").read_text()


@pytest.mark.parametrize("package", PACKAGES)
def test_loads_the_pack_s_own_objects(package: str) -> None:
    module = optunahub.load_local_module(package=package, registry_root=str(REGISTRY))
    for name in module.__all__:
        obj = getattr(module, name)
        assert obj is getattr(optuna_advanced, name, None) or obj is getattr(
            optuna_advanced.pbt, name
        )


_RUN_EXAMPLE = """
import sys
import optunahub
registry = sys.argv[1]
optunahub.load_module = lambda package, **_: optunahub.load_local_module(
    package=package, registry_root=registry
)
exec(compile(open(sys.argv[2]).read(), sys.argv[2], "exec"))
"""


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES)
def test_example_runs(package: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _RUN_EXAMPLE,
            str(REGISTRY),
            str(REGISTRY / package / "example.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip()
