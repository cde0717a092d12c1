"""RecordedTrajectoryBuilder: trains from recorded TrajectoryCollection files.

Instead of running the workflow and an evaluation, each epoch replays one
recorded collection (the JSON of NAT's ``TrajectoryCollection``, as
``model_dump_json`` writes it): epoch ``i`` uses file ``i % len(files)``.
The collection is read with NAT's own model, so a file NAT would not accept
is refused with pydantic's message naming the file.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nat.data_models.finetuning import TrajectoryCollection
from nat.finetuning.interfaces.trajectory_builder import TrajectoryBuilder

from .config import RecordedTrajectoryBuilderConfig

logger = logging.getLogger(__name__)


def expand_paths(paths: list[Path]) -> list[Path]:
    """The files: each path itself, or a directory's ``*.json`` files sorted by name."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(q for q in p.glob("*.json") if q.is_file())
            if not found:
                raise ValueError(f"recorded_trajectory_builder: directory {p} has no *.json files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise ValueError(f"recorded_trajectory_builder: {p} does not exist")
    return files


class RecordedTrajectoryBuilder(TrajectoryBuilder):

    def __init__(self, trajectory_builder_config: RecordedTrajectoryBuilderConfig):
        super().__init__(trajectory_builder_config)
        self.trajectory_builder_config: RecordedTrajectoryBuilderConfig = trajectory_builder_config
        self.files = expand_paths(trajectory_builder_config.paths)
        self._epoch_of_run: dict[str, int] = {}
        self._current: dict[str, Path] = {}

    async def start_run(self, run_id: str, meta: dict | None = None) -> None:
        epoch = (meta or {}).get("epoch")
        if not isinstance(epoch, int):
            epoch = self._epoch_of_run.get(run_id, -1) + 1
        self._epoch_of_run[run_id] = epoch
        self._current[run_id] = self.files[epoch % len(self.files)]
        logger.info("Replaying recorded trajectories from %s for epoch %d of run %s", self._current[run_id], epoch,
                    run_id)

    async def finalize(self, run_id: str, meta: dict | None = None) -> TrajectoryCollection:
        path = self._current.pop(run_id, None)
        if path is None:
            raise ValueError(f"No trajectory run started with run_id {run_id}.")
        try:
            collection = TrajectoryCollection.model_validate_json(path.read_bytes())
        except ValidationError as e:
            raise ValueError(f"{path}: not a valid TrajectoryCollection: {e}") from None
        if not self.trajectory_builder_config.keep_run_id:
            collection.run_id = run_id
        total = sum(len(g) for g in collection.trajectories)
        self.log_progress(run_id, {"file": str(path), "num_groups": len(collection.trajectories),
                                   "num_trajectories": total})
        return collection

    def log_progress(self, run_id: str, metrics: dict[str, Any], output_dir: str | None = None) -> None:
        out_dir = Path(output_dir) if output_dir else Path("./.tmp/nat/finetuning/trajectory_builder")
        out_dir.mkdir(parents=True, exist_ok=True)
        entry = {"timestamp": datetime.now().isoformat(), "run_id": run_id, **metrics}
        with open(out_dir / f"trajectory_builder_{run_id}.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        logger.info("Trajectory builder progress logged for run %s: %s", run_id, metrics)
