import json

import pytest

from nat_trainer_adapter import (
    DPOItem,
    EpisodeItem,
    EpisodeItemRole,
    TrainingJobRef,
    TrainingJobStatus,
    TrainingStatus,
    Trajectory,
    TrajectoryCollection,
)

LOGPROBS = {"content": [{"token": "token_id:151644", "bytes": [60], "logprob": -0.01, "top_logprobs": []}],
            "refusal": None}

NAT_COLLECTION = {
    "run_id": "art_run_1a2b3c4d",
    "trajectories": [[{
        "episode": [
            {"role": "system", "content": "You are...", "logprobs": None, "metadata": None},
            {"role": "user", "content": "X", "logprobs": None, "metadata": None},
            {"role": "assistant", "content": "<move>...</move>", "logprobs": LOGPROBS, "metadata": None},
        ],
        "reward": 0.73, "shaped_rewards": None,
        "metadata": {"id": 1, "reasoning": "...", "run_id": "art_run_1a2b3c4d", "generation": 0},
    }]],
}


def test_collection_round_trip():
    c = TrajectoryCollection.from_dict(NAT_COLLECTION)
    assert c.run_id == "art_run_1a2b3c4d"
    item = c.trajectories[0][0].episode[2]
    assert item.role is EpisodeItemRole.ASSISTANT and item.logprobs == LOGPROBS
    d = c.to_dict()
    assert d == {"trajectories": NAT_COLLECTION["trajectories"], "run_id": NAT_COLLECTION["run_id"]}
    assert TrajectoryCollection.from_json(c.to_json()) == c


def test_trajectory_defaults():
    t = Trajectory(episode=[EpisodeItem("user", "hi")], reward=1.0)
    assert t.to_dict() == {
        "episode": [{"role": "user", "content": "hi", "logprobs": None, "metadata": None}],
        "reward": 1.0, "shaped_rewards": None, "metadata": None,
    }


def test_assistant_needs_logprobs():
    with pytest.raises(ValueError, match="logprobs must be provided for assistant role."):
        EpisodeItem(EpisodeItemRole.ASSISTANT, "x")
    assert EpisodeItem("assistant", "x", logprobs={}).logprobs == {}


def test_unknown_role_is_kept_for_the_plugin():
    assert EpisodeItem.from_dict({"role": "robot", "content": "x"}).to_dict()["role"] == "robot"


def test_dpo_items():
    d = {"prompt": [{"role": "user", "content": "q"}], "chosen_response": "a", "rejected_response": "b"}
    t = Trajectory.from_dict({"episode": [d], "reward": 0.0})
    assert isinstance(t.episode[0], DPOItem)
    assert t.to_dict()["episode"] == [d]
    s = DPOItem.from_dict({"prompt": "plain", "chosen_response": "a", "rejected_response": "b"})
    assert s.to_dict()["prompt"] == "plain"


def test_job_ref_and_status():
    ref = TrainingJobRef.from_dict({"run_id": "art_run_1", "backend": "openpipe-art"})
    assert ref.metadata is None
    assert json.loads(ref.to_json()) == {"run_id": "art_run_1", "backend": "openpipe-art", "metadata": None}
    st = TrainingJobStatus.from_dict({"run_id": "art_run_1", "backend": "openpipe-art", "status": "completed",
                                      "progress": 100.0, "message": "Training completed successfully.",
                                      "metadata": None})
    assert st.status is TrainingStatus.COMPLETED and st.status == "completed"
    assert st.status.is_terminal and not TrainingStatus.RUNNING.is_terminal
    assert st.job_ref == TrainingJobRef("art_run_1", "openpipe-art")
    assert TrainingJobStatus.from_dict(st.to_dict()) == st
    with pytest.raises(ValueError):
        TrainingJobStatus.from_dict({"run_id": "x", "backend": "y", "status": "exploded"})


def test_enum_values_match_nat():
    assert [s.value for s in TrainingStatus] == ["pending", "running", "completed", "failed", "canceled"]
    assert [r.value for r in EpisodeItemRole] == ["user", "assistant", "system", "function", "tool",
                                                  "environment", "other"]
