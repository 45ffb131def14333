"""Namespaced JSON attributes on trials, safe for every Optuna storage.

Samplers that must share what they decided with other processes (a relative sample, how a
configuration was chosen, a model's prediction) write it into the trial's attributes through an
:class:`AttrNamespace`. Keys are ``"<namespace>:<name>"``. A value whose JSON text is longer than
an RDB attribute may hold (2045 characters, the limit Optuna's own samplers keep to) is split:

* ``"<ns>:<name>:<i>"`` holds the i-th chunk of the JSON text, each chunk at most
  :data:`MAX_ATTR_LENGTH` characters *after* JSON encoding (escapes counted);
* ``"<ns>:<name>"`` holds a small header ``{"optuna_advanced:chunks": n, "crc32": c}`` that is
  written last, so a reader in another process sees either the whole value or none of it.

Short values are stored as themselves, so user attributes stay readable in optuna-dashboard.
Writes go through ``storage.set_trial_{system,user}_attr`` (Optuna 5 has no
``Trial.set_system_attr``) and must happen while the trial is RUNNING. Reads take the attribute
mapping of a :class:`~optuna.trial.FrozenTrial`, so they cost no storage round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
from typing import Any
import zlib

from optuna.storages import BaseStorage

__all__ = ["MAX_ATTR_LENGTH", "AttrNamespace"]

#: Longest JSON text one attribute value may have on RDB storage.
MAX_ATTR_LENGTH = 2045
#: Longest attribute key on RDB storage (an indexed VARCHAR column).
MAX_KEY_LENGTH = 512

_HEADER = "optuna_advanced:chunks"
_MISSING: Any = object()


def _split(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces whose JSON encodings are each at most ``limit`` characters."""
    chunks: list[str] = []
    start = 0
    while start < len(text):
        # Most characters encode to themselves; grow greedily and back off on escapes.
        end = min(len(text), start + limit - 2)
        while len(json.dumps(text[start:end])) > limit:
            end = start + max(1, (end - start) // 2 + (end - start) // 4)
        chunks.append(text[start:end])
        start = end
    return chunks


class AttrNamespace:
    """Read and write ``"<namespace>:<name>"`` trial attributes.

    Args:
        namespace: Prefix for every key, e.g. ``"bohb"``. Must not contain ``":"``.

    Example:
        >>> import optuna
        >>> from optuna_advanced._attrs import AttrNamespace
        >>> attrs = AttrNamespace("demo")
        >>> study = optuna.create_study()
        >>> trial = study.ask()
        >>> attrs.write(study._storage, trial._trial_id, "source", "model", user=True)
        >>> attrs.write(study._storage, trial._trial_id, "big", list(range(1000)))
        >>> frozen = study._storage.get_trial(trial._trial_id)
        >>> frozen.user_attrs
        {'demo:source': 'model'}
        >>> attrs.read(frozen.system_attrs, "big")[-1]
        999
    """

    def __init__(self, namespace: str) -> None:
        if not namespace or ":" in namespace:
            raise ValueError(f"A namespace must be non-empty and without ':', got {namespace!r}.")
        self.namespace = namespace

    def key(self, name: str) -> str:
        """The storage key of ``name``."""
        return f"{self.namespace}:{name}"

    def write(
        self,
        storage: BaseStorage,
        trial_id: int,
        name: str,
        value: Any,
        *,
        user: bool = False,
    ) -> None:
        """Store ``value`` (anything JSON can encode) on a RUNNING trial.

        Args:
            storage: The study's storage (``study._storage``).
            trial_id: The trial's storage id (``trial._trial_id``).
            name: Attribute name inside the namespace.
            value: A JSON-encodable value. NaN and infinities are kept (Optuna's storages accept
                them).
            user: Write a user attribute (shown by optuna-dashboard) instead of a system one.
        """
        key = self.key(name)
        if len(key) + 12 > MAX_KEY_LENGTH:  # room for the chunk suffix
            raise ValueError(f"Attribute key too long for RDB storage: {key!r}.")
        setter = storage.set_trial_user_attr if user else storage.set_trial_system_attr
        # Storages encode with ``json.dumps`` defaults: measure the value the same way.
        if len(json.dumps(value)) <= MAX_ATTR_LENGTH and not (
            isinstance(value, dict) and _HEADER in value
        ):
            setter(trial_id, key, value)
            return
        text = json.dumps(value, separators=(",", ":"))
        chunks = _split(text, MAX_ATTR_LENGTH)
        for i, chunk in enumerate(chunks):
            setter(trial_id, f"{key}:{i}", chunk)
        setter(trial_id, key, {_HEADER: len(chunks), "crc32": zlib.crc32(text.encode())})

    def append(
        self, storage: BaseStorage, trial_id: int, name: str, item: Any, *, user: bool = False
    ) -> None:
        """Append ``item`` to the list stored under ``name`` (created if missing).

        Reads the trial as stored, not a snapshot, so appends made earlier in the same ask are
        kept. Small lists only: the list is rewritten each time.
        """
        trial = storage.get_trial(trial_id)
        current = self.read(trial.user_attrs if user else trial.system_attrs, name, [])
        self.write(storage, trial_id, name, [*current, item], user=user)

    def read(self, attrs: Mapping[str, Any], name: str, default: Any = _MISSING) -> Any:
        """Read ``name`` from a trial's ``system_attrs`` or ``user_attrs`` mapping.

        Args:
            attrs: ``frozen_trial.system_attrs`` or ``frozen_trial.user_attrs``.
            name: Attribute name inside the namespace.
            default: Returned when the attribute is absent or only partly written. Without it,
                a missing attribute raises ``KeyError``.
        """
        key = self.key(name)
        value = attrs.get(key, _MISSING)
        if isinstance(value, dict) and _HEADER in value:
            parts = [attrs.get(f"{key}:{i}") for i in range(int(value[_HEADER]))]
            text = "".join(p for p in parts if isinstance(p, str))
            if len(parts) and all(isinstance(p, str) for p in parts):
                if zlib.crc32(text.encode()) == value.get("crc32"):
                    return json.loads(text)
            value = _MISSING  # a header whose chunks do not match: treat as not yet written
        if value is _MISSING:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return value

    def names(self, attrs: Mapping[str, Any]) -> list[str]:
        """Names of this namespace's attributes present in ``attrs`` (chunks not listed)."""
        prefix = f"{self.namespace}:"
        found = []
        for key in attrs:
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            head, _, tail = rest.rpartition(":")
            if head and tail.isdigit() and isinstance(attrs.get(f"{prefix}{head}"), dict):
                continue  # a chunk of a chunked value
            found.append(rest)
        return sorted(found)
