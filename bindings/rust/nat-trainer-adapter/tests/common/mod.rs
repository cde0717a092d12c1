//! What the integration tests share: the repository's paths and the
//! reference servers they start as child processes.
#![allow(dead_code)] // each test crate uses its own part

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// The path in `var`, which must exist when set; else `default` or None (skip).
pub fn required(var: &str, default: PathBuf, what: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => {
            let p = PathBuf::from(v);
            assert!(p.exists(), "{var}={}: {what} does not exist", p.display());
            Some(p)
        }
        _ if default.exists() => Some(default),
        _ => {
            eprintln!("SKIP: {what} not found at {} (set {var})", default.display());
            None
        }
    }
}

/// A reference server that prints one JSON line (its ports) once it
/// listens; killed when dropped.
pub struct ChildServer {
    child: Child,
    pub ready: Value,
}

impl ChildServer {
    /// Starts `program args...` and waits up to `timeout` for its ready line;
    /// panics, naming `what`, when none comes.
    pub fn start<I, S>(what: &str, program: impl AsRef<OsStr>, args: I, timeout: Duration) -> ChildServer
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(timeout) {
            Ok(l) if !l.trim().is_empty() => l,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} did not print its ready line: {other:?}");
            }
        };
        let ready: Value = serde_json::from_str(&line).expect("ready line is JSON");
        ChildServer { child, ready }
    }

    /// A port of the ready line.
    pub fn port(&self, key: &str) -> u16 {
        self.ready[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no {key} in {}", self.ready)) as u16
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
