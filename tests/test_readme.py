"""The README's code runs as written."""

from __future__ import annotations

from pathlib import Path
import re

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_shows_the_two_commands_first() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block[1].splitlines()]
    assert commands == ["make demo", "make test"]


@pytest.mark.slow
def test_readme_conformance_example_passes(pytester: pytest.Pytester) -> None:
    (block,) = [b for b in _python_blocks() if "SamplerConformanceTestCase" in b]
    pytester.makepyfile(test_readme_example=block)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.outlines[-30:]
    assert outcomes.get("passed", 0) > 60


def test_readme_bohb_quickstart_runs() -> None:
    (block,) = [b for b in _python_blocks() if "pruner=optuna_advanced.BOHBPruner(" in b]
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    study = namespace["study"]
    assert abs(study.best_params["x"] - 1) < 0.5  # type: ignore[attr-defined]


def test_readme_pbt_quickstart_runs() -> None:
    (block,) = [b for b in _python_blocks() if "PopulationBasedTraining(" in b]
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["pbt"].best_trial.value > 1.15  # type: ignore[attr-defined]
