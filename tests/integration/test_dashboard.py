"""What optuna-dashboard shows of the pack's studies: one SQLite file holds a study per registered
sampler, a BOHB study pruned by BOHBPruner (learning curves) and a model-based random-forest
study. The real ``optuna-dashboard`` CLI serves it on 127.0.0.1; its REST API must carry every
trial's user attributes and intermediate values, and headless Chromium must render them. Plain
Optuna, without the pack imported, must read the same studies.

Chromium is Debian's ``chromium`` package: without it the browser tests skip, except in CI
(``OPTUNA_ADVANCED_REQUIRE_DATABASES=1``, set by ``.ci/run``, which installs the package).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import functools
from html.parser import HTMLParser
import json
import numbers
from pathlib import Path
import shutil
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request

import optuna
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler
import pytest

import optuna_advanced
import optuna_advanced.dashboard
from optuna_advanced.testing.registry import SAMPLERS
from tests.integration.databases import free_port
from tests.integration.databases import required

pytestmark = pytest.mark.slow

N_TRIALS = 6
MAX_EPOCHS = 9
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _loss(params: Mapping[str, Any]) -> float:
    return float((params["x"] - 1.0) ** 2 + 0.1 * (params["n"] - 3) ** 2)


def _curve(params: Mapping[str, Any]) -> dict[int, float]:
    """The validation loss after each epoch, as the learning-curve objective reports it."""
    return {epoch: _loss(params) + 1.0 / epoch for epoch in range(1, MAX_EPOCHS + 1)}


def _suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {"x": trial.suggest_float("x", -5.0, 5.0), "n": trial.suggest_int("n", 0, 6)}


def _objective(trial: optuna.Trial) -> float:
    return _loss(_suggest(trial))


def _learning_curve_objective(trial: optuna.Trial) -> float:
    params = _suggest(trial)
    for epoch, value in _curve(params).items():
        trial.report(value, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return _loss(params)


def _segment_curve(trial: Mapping[str, Any]) -> dict[int, float]:
    """What a PBT segment reports: the learning curve over its own global steps."""
    start, end = trial["user_attrs"]["pbt:start_step"], trial["user_attrs"]["pbt:end_step"]
    return {step: _loss(trial["params"]) + 1.0 / step for step in range(start + 1, end + 1)}


def _train_population(storage: str, study_name: str) -> None:
    import tempfile

    from optuna.artifacts import FileSystemArtifactStore
    from optuna.distributions import FloatDistribution
    from optuna.distributions import IntDistribution

    from optuna_advanced.pbt import Checkpoint

    def objective(trial: optuna.Trial, checkpoint: Checkpoint) -> float:
        params = _suggest(trial)
        checkpoint.load_bytes()
        for step in checkpoint.steps:
            trial.report(_loss(params) + 1.0 / step, step)
        checkpoint.save_bytes(json.dumps(params).encode())
        return _loss(params) + 1.0 / checkpoint.end_step

    study = optuna.create_study(study_name=study_name, storage=storage)
    optuna_advanced.PopulationBasedTraining(
        study,
        population_size=4,
        perturbation_interval=3,
        search_space={"x": FloatDistribution(-5.0, 5.0), "n": IntDistribution(0, 6)},
        artifact_store=FileSystemArtifactStore(tempfile.mkdtemp()),
        seed=0,
    ).optimize(objective, n_steps=MAX_EPOCHS)


def _optimize(
    make_sampler: Callable[[], BaseSampler],
    n_trials: int,
    objective: Callable[[optuna.Trial], float],
    make_pruner: Callable[[], BasePruner] | None,
    storage: str,
    study_name: str,
) -> None:
    pruner = make_pruner() if make_pruner is not None else None
    study = optuna.create_study(
        study_name=study_name, storage=storage, sampler=make_sampler(), pruner=pruner
    )
    study.optimize(objective, n_trials=n_trials)


@dataclass(frozen=True)
class Case:
    """One study in the dashboard's database and what it must show.

    Attributes:
        name: Study name and pytest id.
        populate: ``populate(storage_url, study_name)`` creates and fills the study.
        namespace: Prefix of the keys every trial carries at least one of; ``None`` for a pack
            sampler whose keys are not declared here (any ``"<ns>:<name>"`` key counts).
        every_trial: User attribute keys each trial must carry.
        some_trial: User attribute keys at least one trial must carry.
        curve: The learning curve a trial reports, from the trial as plain Optuna reads it
            (``params``, ``user_attrs``): each trial must report its first steps, all of them
            if it completed; ``None``: the study reports nothing.
        prunes: Some trials must be pruned before their last epoch.
        control: An Optuna sampler, which writes no user attributes.
    """

    name: str
    populate: Callable[[str, str], None]
    namespace: str | None = None
    every_trial: frozenset[str] = frozenset()
    some_trial: frozenset[str] = frozenset()
    curve: Callable[[Mapping[str, Any]], dict[int, float]] | None = None  # trial -> {step: value}
    prunes: bool = False
    control: bool = False


# What each registered sampler writes in the first N_TRIALS trials of a define-by-run study
# (trial 0 has no search space to model yet).
_REGISTRY_ATTRS: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "BOHBSampler": ("bohb", frozenset({"bohb:source"}), frozenset({"bohb:independent"})),
    "HyperoptSampler": (
        "hyperopt",
        frozenset({"hyperopt:source", "hyperopt:algo"}),
        frozenset({"hyperopt:independent"}),
    ),
    "HyperoptSampler(anneal)": (
        "hyperopt",
        frozenset({"hyperopt:source", "hyperopt:algo"}),
        frozenset({"hyperopt:independent"}),
    ),
    "RandomForestSampler": ("rf", frozenset({"rf:source"}), frozenset({"rf:independent"})),
    "AxSampler(sobol)": (
        "ax",
        frozenset({"ax:source", "ax:generation_node"}),
        frozenset({"ax:independent"}),
    ),
}


def _registry_case(name: str) -> Case:
    entry = SAMPLERS[name]
    namespace, every, some = _REGISTRY_ATTRS.get(name, (None, frozenset(), frozenset()))
    return Case(
        name=name,
        populate=functools.partial(
            _optimize, functools.partial(entry.factory, 0), N_TRIALS, _objective, None
        ),
        namespace=namespace,
        every_trial=every,
        some_trial=some,
        control=entry.control,
    )


CASES: list[Case] = [_registry_case(name) for name in SAMPLERS] + [
    # Studies that the registry's short runs do not reach. Add a new kind of study here: every
    # test below runs on each entry.
    Case(
        name="BOHBSampler+BOHBPruner",
        populate=functools.partial(
            _optimize,
            functools.partial(optuna_advanced.BOHBSampler, seed=0),
            20,
            _learning_curve_objective,
            functools.partial(
                optuna_advanced.BOHBPruner,
                min_resource=1,
                max_resource=MAX_EPOCHS,
                reduction_factor=3,
            ),
        ),
        namespace="bohb",
        every_trial=frozenset({"bohb:source"}),
        some_trial=frozenset({"bohb:model_budget", "bohb:model_points"}),
        curve=lambda trial: _curve(trial["params"]),
        prunes=True,
    ),
    Case(
        name="RandomForestSampler(model)",
        populate=functools.partial(
            _optimize,
            functools.partial(optuna_advanced.RandomForestSampler, seed=0, n_startup_trials=3),
            N_TRIALS,
            _objective,
            None,
        ),
        namespace="rf",
        every_trial=frozenset({"rf:source"}),
        some_trial=frozenset(
            {"rf:predicted_value", "rf:predicted_std", "rf:expected_improvement"}
        ),
    ),
    Case(
        name="PopulationBasedTraining",
        populate=_train_population,
        namespace="pbt",
        every_trial=frozenset(
            {
                "pbt:member",
                "pbt:generation",
                "pbt:start_step",
                "pbt:end_step",
                "pbt:parent",
                "pbt:exploited",
                "pbt:perturbation",
                "pbt:restore",
                "pbt:checkpoint",
            }
        ),
        curve=_segment_curve,
    ),
]
CASE_IDS = [case.name for case in CASES]

# Run without importing the pack, so the studies must stand on Optuna alone.
_PLAIN_OPTUNA = """
import json, sys
import optuna
storage = sys.argv[1]
studies = {}
for name in optuna.get_all_study_names(storage):
    study = optuna.load_study(study_name=name, storage=storage)
    studies[name] = [
        {
            "number": t.number,
            "trial_id": t._trial_id,
            "state": t.state.name,
            "params": t.params,
            "user_attrs": t.user_attrs,
            "intermediate_values": sorted(t.intermediate_values.items()),
        }
        for t in study.get_trials(deepcopy=False)
    ]
imported = "optuna_advanced" in sys.modules
print(json.dumps({"studies": studies, "imported_pack": imported}, allow_nan=False))
"""


def _dashboard_text(value: Any) -> str:
    """A user attribute's value as optuna-dashboard's serializer writes it."""
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Real):
        return str(value)
    return json.dumps(value)


def _js_number(value: float) -> str:
    """``String(value)`` in JavaScript, for the magnitudes where it matches Python's repr."""
    assert 1e-4 <= abs(value) < 1e16, value
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _squash(text: str) -> str:
    return " ".join(text.split())


class _Text(HTMLParser):
    """The visible text nodes of a page (tags separate them, scripts and styles are dropped)."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.nodes.append(_squash(data))


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def storage_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'studies.db'}"
    for case in CASES:
        case.populate(url, case.name)
        if case.namespace in ("bohb", "rf", "hyperopt", "ax"):
            study = optuna.load_study(study_name=case.name, storage=url)
            optuna_advanced.dashboard.publish(study)  # PBT publishes its own at the end
    return url


def _figure_titles(storage_url: str, name: str) -> list[str]:
    study = optuna.load_study(study_name=name, storage=storage_url)
    return sorted(f.layout.title.text for f in optuna_advanced.dashboard.figures(study).values())


@pytest.fixture(scope="module")
def plain(storage_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every study as plain Optuna reads it in a fresh interpreter, through JSON."""
    done = subprocess.run(
        [sys.executable, "-c", _PLAIN_OPTUNA, storage_url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path_factory.mktemp("plain"),
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, Any] = json.loads(done.stdout)
    assert loaded["imported_pack"] is False
    return dict(loaded["studies"])


def _unavailable(what: str) -> None:
    if required():
        pytest.fail(f"{what} (OPTUNA_ADVANCED_REQUIRE_DATABASES is set: CI must run this)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def dashboard(storage_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``optuna-dashboard`` serving the studies on 127.0.0.1; yields its base URL."""
    beside = Path(sys.executable).with_name("optuna-dashboard")
    cli = str(beside) if beside.exists() else shutil.which("optuna-dashboard")
    if cli is None:
        _unavailable("the optuna-dashboard command is not installed (the dev extra has it)")
    assert cli is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("dashboard-log") / "dashboard.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [cli, storage_url, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, f"optuna-dashboard exited:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"no answer in 60 s:\n{log.read_text()}"
                try:
                    _get_json(f"{base}/api/meta")
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def api(dashboard: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """Study name -> (study id, ``GET /api/studies/<id>``)."""
    summaries = _get_json(f"{dashboard}/api/studies")["study_summaries"]
    return {
        s["study_name"]: (s["study_id"], _get_json(f"{dashboard}/api/studies/{s['study_id']}"))
        for s in summaries
    }


def _render(chromium: str, profile: Path, url: str) -> list[str]:
    done = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            "--virtual-time-budget=5000",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    parser = _Text()
    parser.feed(done.stdout)
    return parser.nodes


@pytest.fixture(scope="module")
def pages(
    dashboard: str,
    api: dict[str, tuple[int, dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], list[str]]:
    """(study name, "overview" | "trials") -> text nodes of the page Chromium rendered.

    "trials" is the trial list with every trial selected, which shows each one in detail.
    """
    chromium = shutil.which("chromium")
    if chromium is None:
        _unavailable("chromium is not installed (Debian: apt-get install chromium)")
    assert chromium is not None
    urls: dict[tuple[str, str], str] = {}
    for case in CASES:
        study_id, detail = api[case.name]
        numbers_ = ",".join(str(t["number"]) for t in detail["trials"])
        urls[case.name, "overview"] = f"{dashboard}/dashboard/studies/{study_id}"
        urls[case.name, "trials"] = (
            f"{dashboard}/dashboard/studies/{study_id}/trials?numbers={numbers_}"
        )
    profiles = tmp_path_factory.mktemp("chromium")
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: one browser each
        rendered = pool.map(
            lambda item: _render(chromium, profiles / str(item[0]), item[1]),
            enumerate(urls.values()),
        )
        return dict(zip(urls, rendered))


# -- tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_plain_optuna_reads_the_pack_attributes(case: Case, plain: dict[str, Any]) -> None:
    trials = plain[case.name]
    assert [t["number"] for t in trials] == list(range(len(trials)))
    assert {t["state"] for t in trials} <= {"COMPLETE", "PRUNED"}, [t["state"] for t in trials]
    keys = [set(t["user_attrs"]) for t in trials]
    if case.control:
        assert keys == [set()] * len(trials)
    else:
        prefix = f"{case.namespace}:" if case.namespace else ""
        for number, k in enumerate(keys):
            assert case.every_trial <= k, (number, k)
            assert any(":" in key and key.startswith(prefix) for key in k), (number, k)
        assert case.some_trial <= set().union(*keys)
    if case.curve is None:
        assert all(t["intermediate_values"] == [] for t in trials)
        return
    for t in trials:
        expected = list(case.curve(t).items())
        reported = [tuple(step_value) for step_value in t["intermediate_values"]]
        assert reported, t
        assert reported == expected[: len(reported)], t
        if t["state"] == "COMPLETE":
            assert len(reported) == len(expected), t
    if case.prunes:
        full = len(case.curve(trials[0]))
        assert any(t["state"] == "PRUNED" and len(t["intermediate_values"]) < full for t in trials)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_rest_api_shows_attributes_and_intermediate_values(
    case: Case, plain: dict[str, Any], api: dict[str, tuple[int, dict[str, Any]]]
) -> None:
    assert set(api) == set(plain)
    _, detail = api[case.name]
    assert detail["name"] == case.name
    assert len(detail["trials"]) == len(plain[case.name])
    for shown, stored in zip(detail["trials"], plain[case.name]):
        assert (shown["number"], shown["trial_id"]) == (stored["number"], stored["trial_id"])
        assert shown["state"] == stored["state"].capitalize()
        attrs = {a["key"]: a["value"] for a in shown["user_attrs"]}
        assert attrs == {k: _dashboard_text(v) for k, v in stored["user_attrs"].items()}
        assert case.every_trial <= set(attrs)
        steps = [(v["step"], v["value"]) for v in shown["intermediate_values"]]
        assert steps == [tuple(step_value) for step_value in stored["intermediate_values"]]
    union = {a["key"] for a in detail["union_user_attrs"]}
    assert union == set().union(*(t["user_attrs"] for t in plain[case.name]))
    assert case.some_trial <= union
    assert detail["has_intermediate_values"] is (case.curve is not None)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_chromium_renders_the_trials(
    case: Case,
    api: dict[str, tuple[int, dict[str, Any]]],
    pages: dict[tuple[str, str], list[str]],
) -> None:
    study_id, detail = api[case.name]
    trials = detail["trials"]
    overview, listing = pages[case.name, "overview"], pages[case.name, "trials"]
    title = f"{case.name} (id={study_id})"
    assert title in overview and title in listing, (overview[:20], listing[:20])
    best = detail["best_trials"][0]["number"]
    assert f"Best Trial (number={best})" in overview
    if case.curve is not None:  # the intermediate values plot has a legend entry per trial
        assert {f"trial #{t['number']}" for t in trials} <= set(overview)

    assert f"{len(trials)} Trials" in listing
    text = " ".join(listing)
    headers = [f"Trial {t['number']} (trial_id={t['trial_id']}) {t['state']}" for t in trials]
    starts = [text.find(h) for h in headers]
    assert all(s >= 0 for s in starts), [h for h, s in zip(headers, starts) if s < 0]
    assert starts == sorted(starts)
    for t, start, end in zip(trials, starts, [*starts[1:], len(text)]):
        card = text[start:end]
        for attr in t["user_attrs"]:
            assert f"{attr['key']} {_squash(attr['value'])}" in card, (attr, card)
        if t["intermediate_values"]:
            values = " ".join(
                f"{v['step']} {_js_number(v['value'])}" for v in t["intermediate_values"]
            )
            assert f"Intermediate Values {values}" in card, card


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_chromium_renders_the_study_figures(
    case: Case, storage_url: str, pages: dict[tuple[str, str], list[str]]
) -> None:
    """The study page shows the figures of how trials were chosen (and PBT's lineage)."""
    titles = _figure_titles(storage_url, case.name)
    if case.namespace is None:
        assert titles == []
        return
    expected = {
        "bohb": 1,
        "rf": 2 if case.name == "RandomForestSampler(model)" else 1,
        "hyperopt": 1,
        "ax": 1,
        "pbt": 2,
    }[case.namespace]
    assert len(titles) == expected, titles
    overview = " ".join(pages[case.name, "overview"])
    for title in titles:
        assert _squash(title) in overview, (title, overview[:500])
