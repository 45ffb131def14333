"""`make demo` leaves a study that optuna-dashboard can open."""

from __future__ import annotations

import json
from pathlib import Path
import sys
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import demo  # noqa: E402


def _get(app: Any, path: str) -> Any:
    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, *_: status.append(s)))
    assert status[0].startswith("200"), (path, status)
    return json.loads(body)


@pytest.mark.slow
def test_demo_study_opens_in_optuna_dashboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    optuna_dashboard = pytest.importorskip("optuna_dashboard")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo.main(["--storage", url, "--epochs", "120"])
    out = capsys.readouterr().out
    assert "best validation accuracy" in out
    assert "BOHB + BOHBPruner" in out and "TPE + HyperbandPruner" in out
    assert f"optuna-dashboard {url}" in out
    demo.main(["--storage", url, "--epochs", "40"])  # a rerun replaces the studies

    app = optuna_dashboard.wsgi(url)
    studies = _get(app, "/api/studies")["study_summaries"]
    names = sorted(s["study_name"] for s in studies)
    assert names == sorted([demo.STUDY_NAME, demo.BASELINE_STUDY_NAME])
    for summary in studies:
        detail = _get(app, f"/api/studies/{summary['study_id']}")
        trials = detail["trials"]
        epochs = sum(len(t["intermediate_values"]) for t in trials)
        assert 40 <= epochs < 40 + demo.MAX_EPOCHS  # the budget, overshot by one trial at most
        assert all(t["intermediate_values"] for t in trials)
        assert {p["name"] for t in trials for p in t["params"]} >= {"loss", "penalty", "alpha"}
        best = max(t["values"][0] for t in trials if t["state"] == "Complete")
        assert 0.5 < best <= 1.0
        if summary["study_name"] == demo.STUDY_NAME:  # with the BOHB figure on its page
            assert detail["plotly_graph_objects"], sorted(detail)
