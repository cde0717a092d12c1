"""Dataclasses for NAT's finetuning JSON types (``nat.data_models.finetuning``).

They mirror NAT's pydantic models field for field, so ``to_dict()`` gives the
JSON that NAT's ``model_dump()`` gives and ``from_dict()`` reads it back. They
are plain containers: the plugin does the real validation.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Union


class TrainingStatus(str, enum.Enum):
    """NAT's TrainingStatusEnum."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """True for completed, failed and canceled."""
        return self in (TrainingStatus.COMPLETED, TrainingStatus.FAILED, TrainingStatus.CANCELED)


# NAT's name for the same enum.
TrainingStatusEnum = TrainingStatus


class EpisodeItemRole(str, enum.Enum):
    """NAT's EpisodeItemRole."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    FUNCTION = "function"
    TOOL = "tool"
    ENVIRONMENT = "environment"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


def _role(value: Union[str, EpisodeItemRole]) -> Union[str, EpisodeItemRole]:
    try:
        return EpisodeItemRole(value)
    except ValueError:
        return value  # left to the plugin's validation


class _JsonMixin:
    def to_dict(self) -> Dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: Union[str, bytes]):
        return cls.from_dict(json.loads(text))  # type: ignore[attr-defined]


@dataclass
class TrainingJobRef(_JsonMixin):
    """NAT's TrainingJobRef: what submit returns and the other job calls take."""

    run_id: str
    backend: str
    metadata: Optional[Dict[str, Any]] = None

    def to_dict(self) -> Dict[str, Any]:
        return {"run_id": self.run_id, "backend": self.backend, "metadata": self.metadata}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TrainingJobRef":
        return cls(run_id=d["run_id"], backend=d["backend"], metadata=d.get("metadata"))


@dataclass
class TrainingJobStatus(_JsonMixin):
    """NAT's TrainingJobStatus. ``progress`` is a percentage (0.0 to 100.0)."""

    run_id: str
    backend: str
    status: TrainingStatus
    progress: Optional[float] = None
    message: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None

    def __post_init__(self) -> None:
        self.status = TrainingStatus(self.status)

    @property
    def job_ref(self) -> TrainingJobRef:
        return TrainingJobRef(self.run_id, self.backend)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "run_id": self.run_id,
            "backend": self.backend,
            "status": self.status.value,
            "progress": self.progress,
            "message": self.message,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TrainingJobStatus":
        return cls(
            run_id=d["run_id"],
            backend=d["backend"],
            status=TrainingStatus(d["status"]),
            progress=d.get("progress"),
            message=d.get("message"),
            metadata=d.get("metadata"),
        )


@dataclass
class EpisodeItem(_JsonMixin):
    """NAT's EpisodeItem: one message of an episode.

    As in NAT, an assistant item needs ``logprobs`` (an empty dict passes).
    """

    role: EpisodeItemRole
    content: str
    logprobs: Any = None
    metadata: Optional[Dict[str, Any]] = None

    def __post_init__(self) -> None:
        self.role = _role(self.role)  # type: ignore[assignment]
        if self.role == EpisodeItemRole.ASSISTANT and self.logprobs is None:
            raise ValueError("logprobs must be provided for assistant role.")

    def to_dict(self) -> Dict[str, Any]:
        role = self.role.value if isinstance(self.role, EpisodeItemRole) else self.role
        return {"role": role, "content": self.content, "logprobs": self.logprobs, "metadata": self.metadata}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "EpisodeItem":
        return cls(role=d["role"], content=d["content"], logprobs=d.get("logprobs"), metadata=d.get("metadata"))


@dataclass
class OpenAIMessage(_JsonMixin):
    """NAT's OpenAIMessage (the prompt of a DPOItem)."""

    role: str
    content: str

    def to_dict(self) -> Dict[str, Any]:
        return {"role": self.role, "content": self.content}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "OpenAIMessage":
        return cls(role=d["role"], content=d["content"])


@dataclass
class DPOItem(_JsonMixin):
    """NAT's DPOItem (the ART adapter does not train on these)."""

    prompt: Union[List[OpenAIMessage], str]
    chosen_response: str
    rejected_response: str

    def to_dict(self) -> Dict[str, Any]:
        prompt = self.prompt if isinstance(self.prompt, str) else [m.to_dict() for m in self.prompt]
        return {"prompt": prompt, "chosen_response": self.chosen_response, "rejected_response": self.rejected_response}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "DPOItem":
        prompt = d["prompt"]
        if not isinstance(prompt, str):
            prompt = [OpenAIMessage.from_dict(m) for m in prompt]
        return cls(prompt=prompt, chosen_response=d["chosen_response"], rejected_response=d["rejected_response"])


def _item_from_dict(d: Dict[str, Any]) -> Union[EpisodeItem, DPOItem]:
    if "prompt" in d and "role" not in d:
        return DPOItem.from_dict(d)
    return EpisodeItem.from_dict(d)


@dataclass
class Trajectory(_JsonMixin):
    """NAT's Trajectory: an episode and its reward."""

    episode: List[Union[EpisodeItem, DPOItem]]
    reward: float
    shaped_rewards: Optional[List[float]] = None
    metadata: Optional[Dict[str, Any]] = None

    def to_dict(self) -> Dict[str, Any]:
        return {
            "episode": [item.to_dict() for item in self.episode],
            "reward": self.reward,
            "shaped_rewards": self.shaped_rewards,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Trajectory":
        return cls(
            episode=[_item_from_dict(item) for item in d["episode"]],
            reward=d["reward"],
            shaped_rewards=d.get("shaped_rewards"),
            metadata=d.get("metadata"),
        )


@dataclass
class TrajectoryCollection(_JsonMixin):
    """NAT's TrajectoryCollection: groups (outer list) of trajectories."""

    trajectories: List[List[Trajectory]]
    run_id: str

    def to_dict(self) -> Dict[str, Any]:
        return {"trajectories": [[t.to_dict() for t in group] for group in self.trajectories], "run_id": self.run_id}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TrajectoryCollection":
        return cls(
            trajectories=[[Trajectory.from_dict(t) for t in group] for group in d["trajectories"]],
            run_id=d["run_id"],
        )
