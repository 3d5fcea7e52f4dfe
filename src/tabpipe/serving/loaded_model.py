"""A bundle loaded for serving: verified files, an ONNX Runtime session, its identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tabpipe.export import runtime
from tabpipe.export.bundle import Bundle, load_bundle
from tabpipe.export.registry import Registry
from tabpipe.tasks import get_task


@dataclass
class LoadedModel:
    ref: str
    bundle: Bundle
    session: Any
    types: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.output_names = [o.name for o in self.session.get_outputs()]
        self._run = runtime.complete_feeds_runner(self.session)
        self._task = get_task(self.task)
        self._classes = self.classes

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def version(self) -> str:
        return self.bundle.version

    @property
    def task(self) -> str:
        return self.bundle.schema.task

    @property
    def classes(self) -> list[str]:
        return self.bundle.schema.class_list

    def score(self, feeds: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        """One result per row: label + probabilities, the prediction, or the ranking score."""
        outputs = dict(zip(self.output_names, self._run(self.output_names, feeds), strict=True))
        return self._task.records(outputs, self._classes)


def load_model(ref: str, registry_root: str | Path, providers: list[str]) -> LoadedModel:
    """Resolve ``ref`` (name@alias, name:version, path), verify the bundle, open a session."""
    bundle = load_bundle(Registry(registry_root).resolve(ref))
    session = runtime.session(bundle.model_path, providers)
    return LoadedModel(ref, bundle, session, bundle.schema.input_types)
