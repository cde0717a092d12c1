//! One NeMo Customizer cycle through the real plugin against a NeMo
//! Microservices server started here: the job completes and the server holds
//! NAT's dataset files.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use nat_trainer_adapter::{Adapter, Plugin};
use serde_json::{json, Value};

mod common;

use common::{repo, required, ChildServer};

struct NemoServer {
    _server: ChildServer, // stopped when dropped
    port: u16,
}

impl NemoServer {
    fn start() -> Option<NemoServer> {
        let python = std::env::var_os("NEMO_SERVER_PYTHON")
            .unwrap_or_else(|| repo().join(".venv/nat-customizer/bin/python").into());
        let script = required(
            "NEMO_SERVER_SCRIPT",
            repo().join("tests/nemo_server/server.py"),
            "the NeMo Microservices server",
        )?;
        let server = ChildServer::start(
            "the NeMo server",
            python,
            [script.as_os_str(), "--port".as_ref(), "0".as_ref()],
            Duration::from_secs(120),
        );
        let port = server.port("port");
        Some(NemoServer { _server: server, port })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// GET /_test/state: the recorded requests and the committed files.
    fn state(&self) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the NeMo server");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            stream,
            "GET /_test/state HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read /_test/state");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let body = &response[response.find("\r\n\r\n").expect("end of headers") + 4..];
        serde_json::from_str(body).expect("state is JSON")
    }
}

#[test]
fn customizer_cycle_completes_with_nats_dataset() {
    let Some(path) = required(
        "NAT_CUSTOMIZER_PLUGIN",
        repo().join("build/plugin/libnat_trainer_adapter_nemo_customizer.so"),
        "the NeMo Customizer plugin",
    ) else {
        return;
    };
    let plugin = Plugin::load(path).expect("load plugin");
    let info: Value = serde_json::from_str(plugin.info_json()).expect("plugin_info is JSON");
    assert_eq!(info["name"], "nemo_customizer_trainer_adapter", "{info}");
    assert_eq!(info["backend"], "nemo-customizer", "{info}");
    let Some(server) = NemoServer::start() else {
        return;
    };
    let spool = std::env::temp_dir().join(format!("nat-rust-customizer-{}", std::process::id()));
    let config = json!({
        "_type": "nemo_customizer_trainer_adapter", "entity_host": server.url(), "datastore_host": server.url(),
        "hf_token": "bindings-token", "namespace": "bindings-ns",
        "customization_config": "meta/llama-3.2-1b-instruct@v1.0.0+A100", "poll_interval_seconds": 0.05,
        "native": {"spool_dir": spool.to_str().unwrap()},
    });
    let adapter = Adapter::new(&plugin, config.to_string()).expect("create");
    adapter.initialize("{}").expect("initialize");
    let data = repo().join("tests/integration/customizer_data");
    let collection = std::fs::read(data.join("dpo_collection.json")).expect("collection");
    let job_ref = adapter.submit(&collection).expect("submit");
    let parsed: Value = serde_json::from_str(&job_ref).unwrap();
    assert_eq!(parsed["backend"], "nemo-customizer", "{job_ref}");
    assert!(parsed["metadata"]["job_id"].is_string(), "{job_ref}");
    let done = adapter
        .wait_until_complete(&job_ref, Duration::from_millis(50), Some(Duration::from_secs(60)))
        .expect("wait");
    let done: Value = serde_json::from_str(&done).unwrap();
    assert_eq!(done["status"], "completed", "{done}");

    let files = server.state()["files"].clone();
    let files = files.as_object().expect("files");
    for (name, expected) in [
        ("training/training_file.jsonl", "expected_training_last.jsonl"),
        ("validation/validation_file.jsonl", "expected_validation_last.jsonl"),
    ] {
        let want = std::fs::read_to_string(data.join(expected)).unwrap();
        let got: Vec<&Value> = files
            .iter()
            .filter(|(path, _)| path.ends_with(&format!("/{name}")))
            .map(|(_, text)| text)
            .collect();
        assert_eq!(got.len(), 1, "{name} uploaded once: {files:?}");
        assert_eq!(got[0].as_str(), Some(want.as_str()), "{name}");
    }
    let _ = std::fs::remove_dir_all(&spool);
}
