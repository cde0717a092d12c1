"""One NeMo Customizer cycle through the real plugin: initialize, submit a DPO collection, wait until the job
completes, and the dataset the server received is NAT's; a failed job is a ``failed`` status."""

import json

import pytest

import nat_trainer_adapter as nta

from conftest import CUSTOMIZER_PLUGIN_NAME, DPO_COLLECTION

DATA = DPO_COLLECTION.parent


@pytest.fixture
def adapter(customizer_plugin_path, nemo_server, tmp_path):
    nemo_server.reset()
    plugin = nta.load_plugin(customizer_plugin_path)
    assert (plugin.name, plugin.backend) == (CUSTOMIZER_PLUGIN_NAME, "nemo-customizer")
    with nta.Adapter(nemo_server.config(tmp_path / "spool"), plugin=plugin) as a:
        a.initialize({})
        yield a


def test_cycle_completes_with_nats_dataset(adapter, nemo_server):
    assert adapter.is_healthy()
    ref = adapter.submit(json.loads(DPO_COLLECTION.read_text(encoding="utf-8")))
    assert ref.backend == "nemo-customizer"
    assert set(ref.metadata) == {"job_id", "output_model", "dataset_name"}
    done = adapter.wait(ref, poll_interval=0.05, timeout=60)
    assert done.status == nta.TrainingStatus.COMPLETED, done
    files = nemo_server.state()["files"]
    uploaded = {path.split("/", 2)[2]: text for path, text in files.items()}
    assert uploaded == {
        "training/training_file.jsonl": (DATA / "expected_training_last.jsonl").read_text(encoding="utf-8"),
        "validation/validation_file.jsonl": (DATA / "expected_validation_last.jsonl").read_text(encoding="utf-8"),
    }


def test_failed_job_is_a_failed_status(adapter, nemo_server):
    nemo_server.set_faults({"job_statuses": [["running", 10, 0], ["failed", 10, 0]]})
    collection = json.loads(DPO_COLLECTION.read_text(encoding="utf-8"))
    collection["run_id"] = "dpo_run_failed"
    done = adapter.wait(adapter.submit(collection), poll_interval=0.05, timeout=60)
    assert done.status == nta.TrainingStatus.FAILED, done
