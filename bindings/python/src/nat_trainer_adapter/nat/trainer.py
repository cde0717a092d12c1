"""NativeTrainer: NAT's epoch loop for any trainer adapter, without openpipe-art.

NAT's ``openpipe_art_trainer`` lives in ``nat.plugins.openpipe``, which
imports ``openpipe-art`` (and its dependency tree) before anything else.
This trainer follows the same loop: per epoch an optional validation run,
the trajectory builder's collection, the reward statistics, curriculum
learning as NAT applies it, ``training_metrics.jsonl`` and
``reward_history.json`` in the output directory (and ``reward_plot.png``
when matplotlib is installed), submit, wait, stop at the first failed epoch;
cleanup cancels the adapter's unfinished jobs.
"""

from __future__ import annotations

import json
import logging
import math
import random
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from nat.data_models.finetuning import FinetuneConfig
from nat.data_models.finetuning import TrainingJobRef
from nat.data_models.finetuning import TrainingJobStatus
from nat.data_models.finetuning import TrainingStatusEnum
from nat.data_models.finetuning import TrajectoryCollection
from nat.finetuning.interfaces.finetuning_runner import Trainer

from .config import NativeTrainerConfig

logger = logging.getLogger(__name__)


class NativeTrainer(Trainer):

    def __init__(self, trainer_config: NativeTrainerConfig, **kwargs) -> None:
        super().__init__(trainer_config)
        self.trainer_config: NativeTrainerConfig = trainer_config
        self._job_refs: list[TrainingJobRef] = []
        self._run_id: str | None = None
        self._reward_history: list[dict] = []
        self._validation_history: list[dict] = []

    async def initialize(self, run_config: FinetuneConfig) -> None:
        await super().initialize(run_config)
        self._run_id = f"native_run_{uuid.uuid4().hex[:8]}"
        logger.info("Native trainer initialized with run ID: %s", self._run_id)

    async def run_epoch(self, epoch: int, run_id: str) -> TrainingJobRef | None:
        logger.info("Starting epoch %d for run %s", epoch + 1, run_id)
        meta = {"epoch": epoch, "run_id": run_id, "trainer_config": self.trainer_config.model_dump()}

        rc = self.run_config.run_configuration
        if rc is not None and rc.validation_dataset and epoch % rc.validation_interval == 0:
            logger.info("Running validation at epoch %d", epoch + 1)
            v = await self.run_validation_evaluation(epoch, self._run_id)
            self._validation_history.append({
                "epoch": epoch,
                "timestamp": datetime.now().isoformat(),
                **{k: v.get(k, 0.0) for k in ("avg_reward", "min_reward", "max_reward")},
                "num_examples": v.get("num_examples", 0),
            })

        await self.trajectory_builder.start_run(run_id=run_id, meta=meta)
        collection = await self.trajectory_builder.finalize(run_id=run_id, meta=meta)
        if not collection.trajectories:
            logger.warning("No trajectories collected for epoch %d", epoch)
            return None

        rewards = [t.reward for group in collection.trajectories for t in group]
        logger.info("Collected %d trajectories in %d groups for epoch %d", len(rewards), len(collection.trajectories),
                    epoch)
        filtered = self.apply_curriculum_learning(collection, epoch)
        f_rewards = [t.reward for group in filtered.trajectories for t in group]
        metrics = {
            **_reward_stats(rewards, ""),
            "num_trajectories": len(rewards),
            "num_groups": len(collection.trajectories),
            "filtered_trajectories": len(f_rewards),
            "filtered_groups": len(filtered.trajectories),
            **_reward_stats(f_rewards, "filtered_"),
            "curriculum_percentile":
                self._curriculum_state["current_percentile"] if self.curriculum_config.enabled else 1.0,
        }
        self.log_progress(epoch, metrics)
        if not filtered.trajectories:
            logger.warning("No trajectories remaining after curriculum filtering for epoch %d", epoch)
            return None

        job_ref = await self.trainer_adapter.submit(filtered)
        self._job_refs.append(job_ref)
        logger.info("Submitted training job for epoch %d: %s", epoch, job_ref)
        return job_ref

    async def run(self, num_epochs: int) -> list[TrainingJobStatus]:
        if not self._run_id:
            raise RuntimeError("Runner not initialized. Did you forget to call initialize(...)?")
        logger.info("Starting finetuning run with %d epochs", num_epochs)
        statuses: list[TrainingJobStatus] = []
        for epoch in range(num_epochs):
            try:
                job_ref = await self.run_epoch(epoch, self._run_id)
                if job_ref:
                    status = await self.trainer_adapter.wait_until_complete(job_ref)
                    statuses.append(status)
                    if status.status == TrainingStatusEnum.FAILED:
                        logger.error("Training failed at epoch %d: %s", epoch, status.message)
                        break
                else:
                    statuses.append(
                        TrainingJobStatus(run_id=self._run_id,
                                          backend=self.trainer_config.backend,
                                          status=TrainingStatusEnum.COMPLETED,
                                          message="No trajectories to train on",
                                          metadata={"epoch": epoch}))
                logger.info("Completed epoch %d/%d", epoch + 1, num_epochs)
            except Exception as e:
                logger.error("Error during epoch %d: %s", epoch, e)
                statuses.append(
                    TrainingJobStatus(run_id=self._run_id,
                                      backend=self.trainer_config.backend,
                                      status=TrainingStatusEnum.FAILED,
                                      message=str(e),
                                      metadata={"epoch": epoch}))
                break
        logger.info("Finetuning run completed. Processed %d epochs", len(statuses))
        return statuses

    async def get_metrics(self, run_id: str) -> dict[str, Any]:
        metrics: dict[str, Any] = {"run_id": run_id, "total_epochs": len(self._job_refs), "jobs": []}
        for ref in self._job_refs:
            try:
                status = await self.trainer_adapter.status(ref)
                metrics["jobs"].append({"job_ref": ref.model_dump(), "status": status.model_dump()})
            except Exception as e:
                logger.error("Failed to get status for job %s: %s", ref, e)
                metrics["jobs"].append({"job_ref": ref.model_dump(), "error": str(e)})
        return metrics

    async def cleanup(self) -> None:
        logger.info("Cleaning up native trainer resources")
        for run_id, task in getattr(self.trajectory_builder, "evaluation_runs", {}).items():
            if not task.done():
                logger.info("Cancelling evaluation task for run %s", run_id)
                task.cancel()
        for job_id, job in getattr(self.trainer_adapter, "training_jobs", {}).items():
            if not job.done():
                logger.info("Cancelling training task for job %s", job_id)
                job.cancel()
        logger.info("Native trainer cleanup completed")

    # -- progress --------------------------------------------------------------

    def log_progress(self, epoch: int, metrics: dict[str, Any], output_dir: str | None = None) -> None:
        out_dir = Path(output_dir) if output_dir else Path(self.run_config.output_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        self._reward_history.append({
            "epoch": epoch,
            "timestamp": datetime.now().isoformat(),
            "avg_reward": metrics.get("avg_reward", 0.0),
            "min_reward": metrics.get("min_reward", 0.0),
            "max_reward": metrics.get("max_reward", 0.0),
            "num_trajectories": metrics.get("num_trajectories", 0),
        })
        self._plot(epoch, out_dir)
        entry = {"epoch": epoch, "timestamp": datetime.now().isoformat(), "run_id": self._run_id, **metrics}
        if self.curriculum_config.enabled:
            entry["curriculum_state"] = self.get_curriculum_state()
        with open(out_dir / "training_metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        with open(out_dir / "reward_history.json", "w", encoding="utf-8") as f:
            json.dump(self._reward_history, f, indent=2)
        if self._validation_history:
            with open(out_dir / "validation_history.json", "w", encoding="utf-8") as f:
                json.dump(self._validation_history, f, indent=2)
        if self.curriculum_config.enabled:
            with open(out_dir / "curriculum_state.json", "w", encoding="utf-8") as f:
                json.dump(self.get_curriculum_state(), f, indent=2)
        logger.info("Epoch %d progress logged - Avg Reward: %.4f, Trajectories: %d", epoch,
                    metrics.get("avg_reward", 0.0), metrics.get("num_trajectories", 0))

    def _plot(self, epoch: int, out_dir: Path) -> None:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            logger.debug("matplotlib is not installed: no reward plot")
            return
        fig, ax = plt.subplots(figsize=(10, 6))
        epochs = [r["epoch"] for r in self._reward_history]
        ax.plot(epochs, [r["avg_reward"] for r in self._reward_history], "b-o", label="Training Average Reward")
        if self._validation_history:
            ax.plot([r["epoch"] for r in self._validation_history],
                    [r["avg_reward"] for r in self._validation_history],
                    "r--o",
                    label="Validation Average Reward")
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Reward")
        ax.set_title(f"Training Progress - Epoch {epoch}")
        ax.set_xticks(epochs)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left")
        fig.tight_layout()
        fig.savefig(out_dir / "reward_plot.png", dpi=100)
        plt.close(fig)

    # -- curriculum learning (NAT's algorithm) ------------------------------------

    def apply_curriculum_learning(self, collection: TrajectoryCollection, epoch: int) -> TrajectoryCollection:
        cfg = self.curriculum_config
        if not cfg.enabled:
            return collection
        if len(collection.trajectories) == 1:
            if cfg.random_subsample is not None:
                group = collection.trajectories[0]
                keep = int(math.ceil(len(group) * cfg.random_subsample))
                if len(group) > keep:
                    return TrajectoryCollection(trajectories=[random.sample(group, keep)], run_id=collection.run_id)
            return collection

        stats = []
        for idx, group in enumerate(collection.trajectories):
            if not group:
                continue
            rewards = [t.reward for t in group]
            avg = sum(rewards) / len(rewards)
            if max(rewards) - min(rewards) < cfg.min_reward_diff:
                logger.info("Skipping trajectory group %d with max_diff %.6f < %.6f (no learning signal)", idx,
                            max(rewards) - min(rewards), cfg.min_reward_diff)
                continue
            stats.append({"index": idx, "avg_reward": avg, "trajectories": group})
        if not stats:
            logger.warning("No trajectory groups with sufficient variance found")
            return TrajectoryCollection(trajectories=[], run_id=collection.run_id)

        stats.sort(key=lambda g: g["avg_reward"], reverse=not cfg.sort_ascending)
        state = self._curriculum_state
        if state["total_groups"] == 0:
            state["total_groups"] = len(stats)
        if epoch - state["last_expansion_epoch"] >= cfg.expansion_interval and state["current_percentile"] < 1.0:
            old = state["current_percentile"]
            state["current_percentile"] = min(1.0, old + cfg.increment_percentile)
            state["last_expansion_epoch"] = epoch
            logger.info("Expanding curriculum at epoch %d: %.1f%% -> %.1f%% of trajectory groups", epoch, old * 100,
                        state["current_percentile"] * 100)
        selected = stats[:max(1, int(math.ceil(len(stats) * state["current_percentile"])))]
        state["included_groups"] = {g["index"] for g in selected}
        if cfg.random_subsample is not None:
            keep = int(math.ceil(len(stats) * cfg.random_subsample))
            if len(selected) > keep:
                selected = random.sample(selected, keep)
        logger.info("Curriculum learning at epoch %d: Using %d/%d groups (%.1f%%)", epoch, len(selected), len(stats),
                    state["current_percentile"] * 100)
        return TrajectoryCollection(trajectories=[g["trajectories"] for g in selected], run_id=collection.run_id)


def _reward_stats(rewards: list[float], prefix: str) -> dict[str, float]:
    if not rewards:
        return {f"{prefix}avg_reward": 0.0, f"{prefix}min_reward": 0.0, f"{prefix}max_reward": 0.0}
    return {
        f"{prefix}avg_reward": sum(rewards) / len(rewards),
        f"{prefix}min_reward": min(rewards),
        f"{prefix}max_reward": max(rewards),
    }
