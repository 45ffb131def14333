"""Four worker processes train one PBT population on PostgreSQL, MariaDB, JournalStorage and
the gRPC proxy, with a file artifact store; one worker is SIGKILLed in the middle of a segment."""

from __future__ import annotations

from collections import defaultdict
import multiprocessing
from pathlib import Path
import signal

import optuna
from optuna.trial import TrialState
import pytest

from tests.integration.test_many_workers import _join
from tests.integration.workers import pbt_worker
from tests.integration.workers import storage_from
from tests.integration.workers import StorageSpec
from tests.pbt.test_wrapper import attrs
from tests.pbt.test_wrapper import check_chains


@pytest.mark.multiprocess
def test_four_workers_train_one_population_and_survive_a_kill(
    storage_spec: StorageSpec, tmp_path: Path
) -> None:
    storage = storage_from(storage_spec)
    optuna.create_study(study_name="pbt", storage=storage, direction="maximize")
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    log = tmp_path / "segments.log"
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=pbt_worker, args=(storage_spec, "pbt", str(artifacts), str(log), i == 0)
        )
        for i in range(4)
    ]
    for p in procs:
        p.start()
    codes = _join(procs)
    assert codes[0] == -signal.SIGKILL, "the doomed worker died by SIGKILL"
    assert codes[1:] == [0, 0, 0], "the other workers finished cleanly"

    study = optuna.load_study(study_name="pbt", storage=storage)
    check_chains(study, 4, 24, 4)  # every chain intact, nothing left RUNNING or WAITING

    trials = study.get_trials()
    stale = [t for t in trials if attrs(t).get("failed") == "stale"]
    assert len(stale) == 1, "the killed worker's segment was failed for lack of heartbeat"
    retry = [t for t in trials if attrs(t).get("retry_of") == stale[0].number]
    assert retry and retry[0].state == TrialState.COMPLETE
    assert attrs(retry[0])["restore"] == attrs(stale[0])["restore"], "from the same checkpoint"

    # No member ever ran on two workers at once (the killed segment ran until it was failed).
    events = [line.split() for line in log.read_text().splitlines()]
    spans: dict[int, dict[int, list[float]]] = defaultdict(dict)
    for _event, member_text, number_text, at, _pid in events:
        spans[int(member_text)].setdefault(int(number_text), []).append(float(at))
    assert {len(s) for m in spans.values() for n, s in m.items() if n != stale[0].number} == {2}
    stale_start = spans[attrs(stale[0])["member"]][stale[0].number][0]
    assert stale[0].datetime_complete is not None
    spans[attrs(stale[0])["member"]][stale[0].number] = [
        stale_start,
        stale[0].datetime_complete.timestamp(),
    ]
    for member, by_number in spans.items():
        ordered = sorted(by_number.values())
        for (_, end), (start, _) in zip(ordered, ordered[1:]):
            assert start >= end, f"member {member} ran twice at once"
    # Duplicates may be created by racing workers, but none of them ever ran.
    duplicates = {t.number for t in trials if "duplicate_of" in attrs(t)}
    ran = {int(number) for _, _, number, _, _ in events}
    assert not duplicates & ran
