"""The handle a PBT segment gets: its step range, and its state through an Optuna artifact store.

Checkpoints are written and read only through the configured ``ArtifactStore`` (Optuna's
artifact API): a segment loads the checkpoint of the trial it continues (its parent, or the
member it exploited) and saves its own. Bytes and files are framework-neutral; the PyTorch
helpers import torch lazily and load with ``weights_only=True`` by default, so a checkpoint
cannot run code when it is read.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
import functools
import io
import os
from pathlib import Path
import shutil
import tempfile
from typing import Any
import uuid

import optuna
from optuna.artifacts import upload_artifact
from optuna.artifacts.exceptions import ArtifactNotFound

from optuna_advanced._optional import import_optional
from optuna_advanced.pbt._schema import ATTRS
from optuna_advanced.pbt._schema import CHECKPOINT


class Checkpoint:
    """State passed between the segments of a population member.

    The objective of :class:`~optuna_advanced.PopulationBasedTraining` receives one of these
    with the trial: it trains for the global steps in :attr:`steps`, reporting
    ``trial.report(value, step)`` at each, loads its starting state with a ``load_*`` method
    (``None``/``False`` on a member's first segment) and saves its final state with the matching
    ``save_*`` method.

    Attributes:
        member: The population member this segment belongs to.
        generation: The segment's index in the member's chain (0 for the first).
        start_step: Global step the segment starts from (the restored state's step).
        end_step: Global step the segment trains to.
        restored_from: Number of the trial whose checkpoint :meth:`load_bytes` returns (the
            parent, or the exploited member's segment), or ``None``.
    """

    def __init__(
        self,
        *,
        trial: optuna.Trial,
        artifact_store: Any,
        restore_id: str | None,
        restored_from: int | None,
        member: int,
        generation: int,
        start_step: int,
        end_step: int,
    ) -> None:
        self._trial = trial
        self._store = artifact_store
        self._restore_id = restore_id
        self.restored_from = restored_from
        self.member = member
        self.generation = generation
        self.start_step = start_step
        self.end_step = end_step
        self.saved_id: str | None = None

    @property
    def steps(self) -> range:
        """The global steps this segment trains: ``start_step + 1`` to ``end_step``."""
        return range(self.start_step + 1, self.end_step + 1)

    def load_bytes(self) -> bytes | None:
        """The restored checkpoint's bytes, or ``None`` on a member's first segment."""
        if self._restore_id is None:
            return None
        try:
            with self._store.open_reader(self._restore_id) as reader:
                return bytes(reader.read())
        except ArtifactNotFound as exc:
            raise RuntimeError(
                f"Checkpoint {self._restore_id} of trial {self.restored_from} is missing from "
                "the artifact store."
            ) from exc

    def load_file(self, path: str | os.PathLike[str]) -> bool:
        """Write the restored checkpoint to ``path``; ``False`` when there is none."""
        data = self.load_bytes()
        if data is None:
            return False
        Path(path).write_bytes(data)
        return True

    def save_bytes(self, data: bytes) -> None:
        """Save this segment's final state (a later save replaces an earlier one)."""
        self._save(lambda path: Path(path).write_bytes(data))

    def save_file(self, path: str | os.PathLike[str]) -> None:
        """Save the file at ``path`` as this segment's checkpoint."""
        self._save(lambda target: shutil.copyfile(path, target))

    def load_torch(self, **kwargs: Any) -> Any:
        """``torch.load`` the restored checkpoint (``weights_only=True`` unless overridden)."""
        data = self.load_bytes()
        if data is None:
            return None
        torch = import_optional(
            "torch", needed_by="Checkpoint.load_torch", install="pip install torch"
        )
        kwargs.setdefault("weights_only", True)
        return torch.load(io.BytesIO(data), **kwargs)

    def save_torch(self, obj: Any) -> None:
        """``torch.save`` ``obj`` (e.g. ``{"model": model.state_dict(), ...}``) as checkpoint."""
        torch = import_optional(
            "torch", needed_by="Checkpoint.save_torch", install="pip install torch"
        )
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        self.save_bytes(buffer.getvalue())

    def _save(self, write: Callable[[str], Any]) -> None:
        path = os.path.join(_scratch_dir(), f"member{self.member}_step{self.end_step}.ckpt")
        path = f"{path}.{uuid.uuid4().hex}"  # unique per save, even across threads
        try:
            write(path)
            artifact_id = upload_artifact(
                artifact_store=self._store,
                file_path=path,
                study_or_trial=self._trial,
                mimetype="application/octet-stream",
            )
        finally:
            if os.path.exists(path):
                os.remove(path)
        previous, self.saved_id = self.saved_id, artifact_id
        ATTRS.write(self._trial.storage, self._trial._trial_id, CHECKPOINT, artifact_id, user=True)
        if previous is not None:
            remove_checkpoint(self._store, previous)


@functools.lru_cache(maxsize=1)
def _scratch_dir() -> str:
    """One temporary directory per process for files on their way to the artifact store."""
    path = tempfile.mkdtemp(prefix="optuna_advanced_pbt_")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def remove_checkpoint(store: Any, artifact_id: str) -> None:
    """Remove a checkpoint, ignoring one that is already gone."""
    try:
        store.remove(artifact_id)
    except (ArtifactNotFound, FileNotFoundError):
        pass
