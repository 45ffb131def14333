"""The package as a user gets it: sdist and wheel build, pass ``twine check``, carry the
license, URLs and classifiers, and the wheel installed into a clean virtual environment of each
Python version the classifiers name runs the README's quickstart."""

from __future__ import annotations

from collections.abc import Iterator
from email.parser import Parser
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from tests.integration.databases import required

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    yield {"wheel": wheel, "sdist": sdist}


def test_twine_check_passes(dist: dict[str, Path]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "check",
            "--strict",
            str(dist["wheel"]),
            str(dist["sdist"]),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _metadata(wheel: Path) -> tuple[list[str], str]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        return names, archive.read(meta).decode()


def test_wheel_carries_license_urls_classifiers_and_only_the_package(
    dist: dict[str, Path],
) -> None:
    names, text = _metadata(dist["wheel"])
    meta = Parser().parsestr(text)
    assert meta["License-Expression"] == "MIT"
    assert any(n.endswith("licenses/LICENSE") for n in names)
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Repository", "Documentation", "Changelog", "Issues"} <= set(urls)
    versions = sorted(
        c.rsplit(" :: ", 1)[1]
        for c in meta.get_all("Classifier") or []
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert versions == ["3.10", "3.11", "3.12", "3.13"]
    assert meta["Requires-Python"] == ">=3.10"
    assert all(n.startswith(("optuna_advanced/", "optuna_advanced-")) for n in names)
    assert "optuna_advanced/py.typed" in names
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"hyperopt", "atpe", "ax", "ray", "configspace", "plot", "dashboard", "all"} <= extras
    # Lower bounds only: an extra that pins an exact version fights the user's own install.
    requires = meta.get_all("Requires-Dist") or []
    assert not [r for r in requires if re.search(r"==\s*\d", r)], requires


def test_sdist_carries_readme_license_and_changelog(dist: dict[str, Path]) -> None:
    with tarfile.open(dist["sdist"]) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml"} <= names


def _interpreter(version: str) -> str | None:
    """A real ``python<version>`` (pyenv's shims refuse versions that are not selected)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True):
        return str(candidate)
    found = shutil.which(f"python{version}")
    if found and "shims" not in found:
        return found
    return None


def _quickstart_blocks() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    markers = (
        "pruner=optuna_advanced.BOHBPruner(",
        'suggest_categorical("kind", ["svm", "tree"])',
    )
    chosen = [b for b in blocks if any(m in b for m in markers)]
    assert len(chosen) == 2
    return "\n".join(chosen)


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13"])
def test_wheel_in_a_clean_venv_runs_the_quickstart(
    version: str, dist: dict[str, Path], tmp_path: Path
) -> None:
    python = _interpreter(version)
    if python is None:
        if required():
            pytest.fail(f"python{version} is not on PATH (CI machines have 3.10 to 3.13)")
        pytest.skip(f"python{version} is not installed")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "install", "-q", str(dist["wheel"])], check=True, timeout=900, capture_output=True
    )
    script = tmp_path / "quickstart.py"
    script.write_text(_quickstart_blocks())
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'x'" in done.stdout and "rf:source" not in done.stderr
