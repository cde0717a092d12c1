//! The full cycle against the ART reference server (dialect 0.4) through the
//! openpipe-art plugin, loaded at run time (or linked, with `--features link`).
//!
//! Paths come from NAT_TRAINER_ADAPTER_PLUGIN, ART_SERVER_PYTHON and
//! ART_SERVER_SCRIPT (set by meson); when unset, the source tree's defaults
//! are used, and the tests are skipped with a message if those are missing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nat_trainer_adapter::{Adapter, Code, Plugin};
use serde_json::{json, Value};

const FIRST_MESSAGE_RULE: &str = "The first message in the trajectory must be from 'user' or 'system'.";

mod common;

use common::{repo, required, ChildServer};

fn plugin() -> Option<Arc<Plugin>> {
    #[cfg(feature = "link")]
    {
        Some(Plugin::linked().expect("linked plugin"))
    }
    #[cfg(not(feature = "link"))]
    {
        let path = required(
            "NAT_TRAINER_ADAPTER_PLUGIN",
            repo().join("build/plugin/libnat_trainer_adapter_openpipe_art.so"),
            "the openpipe-art plugin",
        )?;
        Some(Plugin::load(path).expect("load plugin"))
    }
}

/// The reference server as a child process; killed on drop (also on panic).
struct ArtServer {
    _child: ChildServer, // stopped when dropped
    control_port: u16,
    data_dir: TempDir,
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!(
            "nat-rust-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl ArtServer {
    fn start() -> Option<ArtServer> {
        let python = required(
            "ART_SERVER_PYTHON",
            repo().join(".venv/art-0.4/bin/python"),
            "the ART 0.4 venv interpreter",
        )?;
        let script = required(
            "ART_SERVER_SCRIPT",
            repo().join("tests/art_server/server.py"),
            "the ART reference server",
        )?;
        let data_dir = TempDir::new("art-server");
        let args = [
            script.as_os_str(),
            "--dialect".as_ref(),
            "0.4".as_ref(),
            "--port".as_ref(),
            "0".as_ref(),
            "--inference-port".as_ref(),
            "0".as_ref(),
            "--data-dir".as_ref(),
            data_dir.0.as_os_str(),
        ];
        let child = ChildServer::start("the ART server", python, args, Duration::from_secs(180));
        let control_port = child.port("control_port");
        Some(ArtServer {
            _child: child,
            control_port,
            data_dir,
        })
    }

    /// The adapter config, with spooled collections in the server's data dir
    /// rather than the working directory.
    fn config(&self) -> String {
        config_with_spool(self.control_port, &self.data_dir.0.join("spool"))
    }

    /// POST /_test/faults: the server's injected faults (`{}` clears them).
    fn set_faults(&self, faults: &Value) {
        let body = faults.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.control_port)).expect("connect to the ART server");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            stream,
            "POST /_test/faults HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.control_port,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read the /_test/faults response");
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{response}"
        );
    }
}

fn config(port: u16) -> String {
    json!({
        "_type": "openpipe_art_trainer_adapter",
        "backend": {"ip": "127.0.0.1", "port": port, "name": "m", "project": "p",
                    "base_model": "Qwen/Qwen2.5-0.5B-Instruct", "api_key": "default"}
    })
    .to_string()
}

fn config_with_spool(port: u16, spool_dir: &Path) -> String {
    let mut c = parse(&config(port));
    c["native"] = json!({"spool_dir": spool_dir.to_str().expect("UTF-8 temp dir")});
    c.to_string()
}

fn logprobs() -> Value {
    json!({"content": [{"token": "token_id:100", "bytes": [104], "logprob": -0.5, "top_logprobs": []}], "refusal": null})
}

fn trajectory(reward: f64) -> Value {
    json!({
        "episode": [
            {"role": "system", "content": "You play tic-tac-toe.", "logprobs": null, "metadata": null},
            {"role": "user", "content": "Your move.", "logprobs": null, "metadata": null},
            {"role": "assistant", "content": "h", "logprobs": logprobs(), "metadata": null}
        ],
        "reward": reward, "shaped_rewards": null, "metadata": null
    })
}

fn collection(run_id: &str) -> String {
    json!({"run_id": run_id, "trajectories": [[trajectory(1.0), trajectory(0.0)]]}).to_string()
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn full_cycle_and_error_paths() {
    let Some(plugin) = plugin() else { return };
    let info = parse(plugin.info_json());
    assert_eq!(info["name"], "openpipe_art_trainer_adapter");
    assert_eq!(plugin.abi_version() >> 16, 1);

    let Some(server) = ArtServer::start() else { return };
    let adapter = plugin.create(server.config()).expect("create");

    // Invalid collection: rejected by convert (no backend needed).
    let mut bad = parse(&collection("bindings_rust_bad"));
    bad["trajectories"][0][0]["episode"] = json!([
        {"role": "assistant", "content": "h", "logprobs": logprobs(), "metadata": null},
        {"role": "user", "content": "Your move.", "logprobs": null, "metadata": null}
    ]);
    let bad = bad.to_string();
    let e = adapter.convert(&bad).unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains(FIRST_MESSAGE_RULE), "{e}");

    // Submit before initialize.
    let e = adapter.submit(collection("bindings_rust_early")).unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e}");

    adapter.initialize("{}").expect("initialize");
    assert!(adapter.is_healthy().expect("is_healthy"));

    let e = adapter.submit(&bad).unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains(FIRST_MESSAGE_RULE), "{e}");

    let job_ref = adapter.submit(collection("bindings_rust_run")).expect("submit");
    let r = parse(&job_ref);
    assert_eq!(r["run_id"], "bindings_rust_run");
    assert_eq!(r["backend"], "openpipe-art");

    // Events from another thread: the adapter is Sync.
    let events: Vec<Value> = std::thread::scope(|s| {
        s.spawn(|| adapter.events(&job_ref).map(|e| parse(&e.expect("event"))).collect())
            .join()
            .unwrap()
    });
    assert!(!events.is_empty());
    let last = events.last().unwrap();
    assert_eq!(last["final"], true, "{last}");
    assert_eq!(last["type"], "completed", "{last}");
    assert_eq!(last["status"]["status"], "completed", "{last}");
    assert!(events.iter().any(|e| e["type"] == "step"));
    assert!(events.iter().all(|e| e["run_id"] == "bindings_rust_run"));
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(adapter.next_event(&job_ref, Some(Duration::ZERO)).unwrap(), None);

    let status = parse(
        &adapter
            .wait_until_complete(&job_ref, Duration::from_millis(500), Some(Duration::from_secs(120)))
            .expect("wait"),
    );
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["progress"].as_f64(), Some(100.0), "{status}");
    assert_eq!(parse(&adapter.status(&job_ref).unwrap())["status"], "completed");

    let jobs = parse(&adapter.jobs().unwrap());
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(jobs["jobs"][0]["status"]["status"], "completed");

    adapter.cancel(&job_ref).expect("cancel of a finished job is a no-op");

    let dir = TempDir::new("log");
    adapter
        .log_progress(&job_ref, r#"{"epoch":0,"avg_reward":0.5}"#, Some(&dir.0))
        .expect("log_progress");
    let log = std::fs::read_to_string(dir.0.join("trainer_adapter_bindings_rust_run.jsonl")).unwrap();
    assert!(log.contains("\"avg_reward\""), "{log}");

    // Unknown run id.
    let e = adapter
        .status(r#"{"run_id":"nope","backend":"openpipe-art"}"#)
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");
    drop(adapter);

    resubmit_from_spool(&plugin, &server);
    drop(server);
}

/// A failed job's collection stays spooled; resubmit trains it from the file.
fn resubmit_from_spool(plugin: &Arc<Plugin>, server: &ArtServer) {
    let spool = TempDir::new("spool");
    let adapter = plugin
        .create(config_with_spool(server.control_port, &spool.0))
        .expect("create");
    adapter.initialize("{}").expect("initialize");

    let missing = spool.0.join("no_such_run.json");
    let e = adapter.resubmit(&missing).unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");
    assert_eq!(e.code().raw(), 2);
    assert!(e.message().contains(missing.to_str().unwrap()), "{e}");

    // Three rewards: more than one gradient step, so cutting the stream after
    // the first fails the job with its collection still spooled.
    let spooled = json!({"run_id": "bindings_rust_spooled",
                         "trajectories": [[trajectory(1.0), trajectory(0.0), trajectory(0.5)]]})
    .to_string();
    server.set_faults(&json!({"train": {"cut_after": 1}}));
    let submitted = adapter.submit(&spooled);
    let failed = submitted.as_ref().map(|job_ref| {
        adapter.wait_until_complete(job_ref, Duration::from_millis(500), Some(Duration::from_secs(120)))
    });
    server.set_faults(&json!({}));
    let failed = parse(&failed.expect("submit").expect("wait"));
    assert_eq!(failed["status"], "failed", "{failed}");
    let spool_file = PathBuf::from(failed["metadata"]["spool_file"].as_str().expect("metadata.spool_file"));
    assert!(spool_file.is_file(), "{}", spool_file.display());
    assert_eq!(spool_file.parent(), Some(spool.0.as_path()));
    // spooled (ABI 1.1) lists it, in the configured directory or the one given.
    for listing in [adapter.spooled(None), adapter.spooled(Some(spool.0.as_path()))] {
        let listing = parse(&listing.expect("spooled"));
        let collections = listing["collections"].as_array().expect("collections");
        assert_eq!(collections.len(), 1, "{listing}");
        assert_eq!(collections[0]["path"], failed["metadata"]["spool_file"], "{listing}");
        assert_eq!(collections[0]["state"], "ready", "{listing}");
    }
    // An empty path is refused, not read as "the adapter's own directory".
    let empty = adapter.spooled(Some(Path::new(""))).expect_err("spooled(\"\")");
    assert_eq!(empty.code(), Code::InvalidArgument, "{empty}");

    let job_ref = adapter.resubmit(&spool_file).expect("resubmit");
    assert_eq!(parse(&job_ref)["run_id"], "bindings_rust_spooled");
    let done = parse(
        &adapter
            .wait_until_complete(&job_ref, Duration::from_millis(500), Some(Duration::from_secs(120)))
            .expect("wait"),
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["metadata"]["spool_file"], failed["metadata"]["spool_file"],
        "{done}"
    );
    assert_eq!(done["metadata"]["spool_file_removed"], true, "{done}");
    assert!(!spool_file.exists(), "{}", spool_file.display());
    // The &str form of the path works too (the file is gone by now).
    let e = adapter.resubmit(spool_file.to_str().unwrap()).unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");
}

#[test]
fn unreachable_server() {
    let Some(plugin) = plugin() else { return };
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let adapter: Adapter = plugin.create(config(port)).expect("create");
    let e = adapter.initialize("{}").unwrap_err();
    assert_eq!(e.code(), Code::Unavailable, "{e}");
    assert!(e.message().contains("Failed to connect to ART backend."), "{e}");
    assert!(!adapter.is_healthy().unwrap());
}

#[test]
fn bad_config_and_closed_handles() {
    let Some(plugin) = plugin() else { return };
    let e = plugin.create("{not json").unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let e = plugin.create("").unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
}
