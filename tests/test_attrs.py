from __future__ import annotations

import json
import multiprocessing
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
import pytest

from optuna_advanced._attrs import AttrNamespace
from optuna_advanced._attrs import MAX_ATTR_LENGTH
from optuna_advanced._optional import import_optional

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),  # full unicode: escapes make JSON text longer than the string
    lambda children: (
        st.lists(children, max_size=40)
        | st.dictionaries(st.text(max_size=20), children, max_size=20)
    ),
    max_leaves=300,
)


def _stored_lengths(attrs: dict[str, Any]) -> list[int]:
    return [len(json.dumps(v)) for v in attrs.values()]


@settings(max_examples=60)
@given(value=json_values, user=st.booleans())
def test_round_trip_any_json_value(value: Any, user: bool) -> None:
    attrs = AttrNamespace("ns")
    study = optuna.create_study()
    trial = study.ask()
    attrs.write(study._storage, trial._trial_id, "v", value, user=user)
    frozen = study._storage.get_trial(trial._trial_id)
    stored = frozen.user_attrs if user else frozen.system_attrs
    assert attrs.read(stored, "v") == value
    assert max(_stored_lengths(stored)) <= MAX_ATTR_LENGTH
    assert attrs.names(stored) == ["v"]


@pytest.mark.parametrize("text", ['"' * 5000, "\u3042" * 3000, "x" * 10000, "\\\n" * 3000])
def test_chunks_respect_the_limit_after_escaping(text: str) -> None:
    attrs = AttrNamespace("ns")
    study = optuna.create_study()
    trial = study.ask()
    attrs.write(study._storage, trial._trial_id, "t", text)
    stored = study._storage.get_trial(trial._trial_id).system_attrs
    assert len(stored) > 2  # really chunked
    assert max(_stored_lengths(stored)) <= MAX_ATTR_LENGTH
    assert attrs.read(stored, "t") == text


def test_short_values_are_stored_as_themselves() -> None:
    attrs = AttrNamespace("bohb")
    study = optuna.create_study()
    trial = study.ask()
    attrs.write(study._storage, trial._trial_id, "source", "model", user=True)
    attrs.write(study._storage, trial._trial_id, "model_budget", 27, user=True)
    assert study._storage.get_trial(trial._trial_id).user_attrs == {
        "bohb:source": "model",
        "bohb:model_budget": 27,
    }


def test_partly_written_value_reads_as_missing() -> None:
    attrs = AttrNamespace("ns")
    study = optuna.create_study()
    trial = study.ask()
    attrs.write(study._storage, trial._trial_id, "big", list(range(2000)))
    stored = dict(study._storage.get_trial(trial._trial_id).system_attrs)
    del stored["ns:big:1"]
    assert attrs.read(stored, "big", None) is None
    with pytest.raises(KeyError):
        attrs.read(stored, "big")
    stored["ns:big:1"] = "corrupted"
    assert attrs.read(stored, "big", "default") == "default"


def test_overwrite_with_a_shorter_value() -> None:
    attrs = AttrNamespace("ns")
    study = optuna.create_study()
    trial = study.ask()
    attrs.write(study._storage, trial._trial_id, "v", list(range(3000)))
    attrs.write(study._storage, trial._trial_id, "v", [1, 2])
    assert attrs.read(study._storage.get_trial(trial._trial_id).system_attrs, "v") == [1, 2]


def test_namespaces_do_not_collide_and_bad_names_are_rejected() -> None:
    a, b = AttrNamespace("a"), AttrNamespace("b")
    study = optuna.create_study()
    trial = study.ask()
    a.write(study._storage, trial._trial_id, "x", 1)
    b.write(study._storage, trial._trial_id, "x", 2)
    stored = study._storage.get_trial(trial._trial_id).system_attrs
    assert (a.read(stored, "x"), b.read(stored, "x")) == (1, 2)
    assert a.read(stored, "missing", 0) == 0
    with pytest.raises(ValueError):
        AttrNamespace("a:b")
    with pytest.raises(ValueError):
        AttrNamespace("")
    with pytest.raises(ValueError):
        a.write(study._storage, trial._trial_id, "k" * 600, 1)


def test_finished_trials_cannot_be_written() -> None:
    attrs = AttrNamespace("ns")
    study = optuna.create_study()
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        attrs.write(study._storage, trial._trial_id, "v", 1)


def _storage(backend: str, where: str) -> Any:
    if backend == "journal":
        return JournalStorage(JournalFileBackend(where))
    return optuna.storages.RDBStorage(where)


def _write_in_other_process(backend: str, where: str) -> None:
    storage = _storage(backend, where)
    study = optuna.load_study(study_name="s", storage=storage)
    trial = study.ask()
    AttrNamespace("ns").write(storage, trial._trial_id, "big", {"k": list(range(5000))})
    AttrNamespace("ns").write(storage, trial._trial_id, "note", "hello", user=True)
    study.tell(trial, 0.0)


@pytest.mark.multiprocess
@pytest.mark.parametrize("backend", ["journal", "sqlite"])
def test_readable_from_another_process(tmp_path: Any, backend: str) -> None:
    where = str(tmp_path / "j.log") if backend == "journal" else f"sqlite:///{tmp_path}/db.sqlite"
    storage = _storage(backend, where)
    optuna.create_study(study_name="s", storage=storage)
    proc = multiprocessing.get_context("spawn").Process(
        target=_write_in_other_process, args=(backend, where)
    )
    proc.start()
    proc.join(120)
    assert proc.exitcode == 0
    (trial,) = optuna.load_study(study_name="s", storage=storage).get_trials(
        states=(TrialState.COMPLETE,)
    )
    assert AttrNamespace("ns").read(trial.system_attrs, "big") == {"k": list(range(5000))}
    assert trial.user_attrs == {"ns:note": "hello"}


def test_append_builds_a_list_from_what_is_stored() -> None:
    study = optuna.create_study()
    trial = study.ask()
    attrs = AttrNamespace("demo")
    for name in ("a", "b", "c"):
        attrs.append(study._storage, trial._trial_id, "names", name, user=True)
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.user_attrs["demo:names"] == ["a", "b", "c"]


def test_missing_optional_dependency_names_the_extra() -> None:
    with pytest.raises(ImportError, match=r"pip install 'optuna-advanced\[ghost\]'"):
        import_optional("no_such_module_here", needed_by="GhostSampler", extra="ghost")
