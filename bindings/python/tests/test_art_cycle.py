"""The full cycle against the ART reference server (dialect 0.4) through the
real openpipe-art plugin."""

import os
import socket
import threading

import pytest

import nat_trainer_adapter as nta
from nat_trainer_adapter import EpisodeItem, TrainingStatus, Trajectory, TrajectoryCollection

from conftest import PLUGIN_NAME, art_config

LOGPROBS = {"content": [{"token": "token_id:100", "bytes": [104], "logprob": -0.5, "top_logprobs": []}],
            "refusal": None}
FIRST_MESSAGE_RULE = "The first message in the trajectory must be from 'user' or 'system'."


def trajectory(reward: float) -> Trajectory:
    return Trajectory(
        episode=[EpisodeItem("system", "You play tic-tac-toe."), EpisodeItem("user", "Your move."),
                 EpisodeItem("assistant", "h", logprobs=LOGPROBS)],
        reward=reward)


def collection(run_id: str) -> TrajectoryCollection:
    return TrajectoryCollection(trajectories=[[trajectory(1.0), trajectory(0.0)]], run_id=run_id)


@pytest.fixture
def plugin(art_plugin_path):
    p = nta.load_plugin(art_plugin_path)
    assert p.name == PLUGIN_NAME
    return p


def test_plugin_info(plugin):
    assert plugin.abi[0] == 1
    assert plugin.backend == "openpipe-art"
    assert isinstance(plugin.info.get("config_schema"), dict)


def test_full_cycle(plugin, art_server, tmp_path):
    with nta.Adapter(art_server.config(), plugin=plugin) as adapter:
        adapter.initialize({})
        assert adapter.is_healthy() is True

        ref = adapter.submit(collection("bindings_python_run"))
        assert ref.run_id == "bindings_python_run" and ref.backend == "openpipe-art"

        # A wait on another thread while this one pulls the events: ctypes
        # releases the GIL during the blocking calls.
        waited = []
        waiter = threading.Thread(target=lambda: waited.append(adapter.wait(ref, poll_interval=0.5, timeout=120)))
        waiter.start()
        events = list(adapter.events(ref, timeout=120))
        waiter.join(130)
        assert waited and waited[0].status is TrainingStatus.COMPLETED
        assert events, "no events"
        assert events[-1].get("final") is True
        assert events[-1]["type"] == "completed", events[-1]
        assert events[-1]["status"]["status"] == "completed"
        assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
        assert all(e["run_id"] == "bindings_python_run" for e in events)
        assert any(e["type"] == "step" for e in events)
        assert adapter.next_event(ref, timeout=0) is None  # the final event was delivered

        status = adapter.wait(ref, poll_interval=0.5, timeout=120)
        assert status.status is TrainingStatus.COMPLETED, status
        assert status.progress == 100.0
        assert adapter.status(ref) == status
        assert adapter.status({"run_id": "bindings_python_run", "backend": "openpipe-art"}).status == "completed"

        jobs = adapter.jobs()
        assert [r.run_id for r, _ in jobs] == ["bindings_python_run"]
        assert jobs[0][1].status is TrainingStatus.COMPLETED

        adapter.cancel(ref)  # a no-op on a finished job
        assert adapter.status(ref).status is TrainingStatus.COMPLETED

        adapter.log_progress(ref, {"epoch": 0, "avg_reward": 0.5}, output_dir=tmp_path)
        log = tmp_path / "trainer_adapter_bindings_python_run.jsonl"
        assert log.is_file() and '"avg_reward"' in log.read_text()

        body = adapter.convert(collection("bindings_python_convert"))
        assert isinstance(body, dict)


def test_resubmit_from_spool(plugin, art_server, tmp_path):
    spool_dir = tmp_path / "spool"
    with nta.Adapter(art_config(art_server.control_port, spool_dir=spool_dir), plugin=plugin) as adapter:
        adapter.initialize({})

        missing = spool_dir / "no_such_run.json"
        with pytest.raises(nta.NotFound) as ei:
            adapter.resubmit(missing)
        assert ei.value.code == 2
        assert str(missing) in ei.value.message

        # Three rewards: more than one gradient step, so the stream is cut
        # after the first and the job fails with its collection spooled.
        spooled = TrajectoryCollection(trajectories=[[trajectory(1.0), trajectory(0.0), trajectory(0.5)]],
                                       run_id="bindings_python_spooled")
        art_server.set_faults({"train": {"cut_after": 1}})
        try:
            ref = adapter.submit(spooled)
            failed = adapter.wait(ref, poll_interval=0.5, timeout=120)
        finally:
            art_server.set_faults({})
        assert failed.status is TrainingStatus.FAILED, failed
        spool_file = failed.metadata["spool_file"]
        assert os.path.isfile(spool_file), spool_file
        assert os.path.dirname(spool_file) == str(spool_dir)

        again = adapter.resubmit(spool_file)
        assert again.run_id == "bindings_python_spooled" and again.backend == "openpipe-art"
        done = adapter.wait(again, poll_interval=0.5, timeout=120)
        assert done.status is TrainingStatus.COMPLETED, done
        assert done.metadata["spool_file"] == spool_file
        assert done.metadata["spool_file_removed"] is True
        assert not os.path.exists(spool_file)
        assert [s.status for _, s in adapter.jobs()] == [TrainingStatus.FAILED, TrainingStatus.COMPLETED]


def test_invalid_collection(plugin, art_server):
    bad = TrajectoryCollection(
        trajectories=[[Trajectory(episode=[EpisodeItem("assistant", "h", logprobs=LOGPROBS),
                                           EpisodeItem("user", "Your move.")], reward=1.0),
                       trajectory(0.0)]],
        run_id="bindings_python_bad")
    with nta.Adapter(art_server.config(), plugin=plugin) as adapter:
        with pytest.raises(nta.InvalidArgument) as ei:
            adapter.convert(bad)  # no backend needed
        assert FIRST_MESSAGE_RULE in ei.value.message
        assert ei.value.code == 1
        adapter.initialize({})
        with pytest.raises(nta.InvalidArgument) as ei:
            adapter.submit(bad)
        assert FIRST_MESSAGE_RULE in str(ei.value)
        assert adapter.jobs() == []


def test_submit_before_initialize(plugin, art_server):
    with nta.Adapter(art_server.config(), plugin=plugin) as adapter:
        with pytest.raises(nta.FailedPrecondition):
            adapter.submit(collection("bindings_python_early"))


def test_unknown_run_id(plugin, art_server):
    with nta.Adapter(art_server.config(), plugin=plugin) as adapter:
        with pytest.raises(nta.NotFound) as ei:
            adapter.status({"run_id": "nope", "backend": "openpipe-art"})
        assert ei.value.code == 2


def test_bad_config(plugin):
    with pytest.raises(nta.InvalidArgument):
        nta.Adapter({"_type": PLUGIN_NAME, "backend": {"port": "not a number"}}, plugin=plugin)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_server(plugin):
    with nta.Adapter(art_config(closed_port()), plugin=plugin) as adapter:
        with pytest.raises(nta.Unavailable) as ei:
            adapter.initialize({})
        assert "Failed to connect to ART backend." in ei.value.message
        assert ei.value.code == 5
        assert adapter.is_healthy() is False


def test_found_by_name(art_plugin_path, monkeypatch):
    # The config's _type names the plugin; NAT_TRAINER_ADAPTER_PATH has its directory.
    monkeypatch.setenv("NAT_TRAINER_ADAPTER_PATH", str(art_plugin_path.parent))
    with nta.Adapter(art_config(closed_port())) as adapter:
        assert adapter.plugin.name == PLUGIN_NAME
        assert adapter.is_healthy() is False
    assert nta.find_plugin(PLUGIN_NAME).path == str(art_plugin_path.resolve())
