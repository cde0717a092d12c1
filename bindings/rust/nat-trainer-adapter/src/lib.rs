//! Safe Rust bindings for NAT trainer adapter plugins: shared libraries that
//! implement the C ABI of `include/nat/trainer_adapter.h` (ABI 1.x).
//!
//! JSON crosses this API as text: configs, TrajectoryCollections, job
//! references (TrainingJobRef), statuses (TrainingJobStatus) and events are
//! NAT's JSON shapes; parse them with the JSON library of your choice.
//!
//! ```no_run
//! use nat_trainer_adapter::Plugin;
//!
//! # fn main() -> Result<(), nat_trainer_adapter::Error> {
//! # let (config, collection) = ("{}", "{}");
//! let plugin = Plugin::load("build/plugin/libnat_trainer_adapter_openpipe_art.so")?;
//! let adapter = plugin.create(config)?;
//! adapter.initialize("{}")?;
//! let job_ref = adapter.submit(collection)?;
//! for event in adapter.events(&job_ref) {
//!     println!("{}", event?);
//! }
//! let status = adapter.wait_until_complete(&job_ref, std::time::Duration::from_secs(1), None)?;
//! println!("{status}");
//! // After a failure: submit the spooled collection again.
//! # let spool_file = "";
//! let job_ref = adapter.resubmit(spool_file)?;   // metadata["spool_file"] of the failed status
//! # let _ = job_ref;
//! # Ok(()) }
//! ```
//!
//! Plugins are never unloaded once loaded: an adapter's background threads
//! belong to the plugin, and the C ABI has no global shutdown.

use std::ffi::{c_char, CStr, CString, OsStr};
use std::fmt;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

pub use nat_trainer_adapter_sys as sys;

/// The ABI major version this crate implements.
pub const ABI_MAJOR: u32 = sys::NAT_TRAINER_ADAPTER_ABI_MAJOR;

/// The stable error codes of the C ABI (`nat_trainer_adapter_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    Unavailable,
    DeadlineExceeded,
    Cancelled,
    Internal,
    /// A code added in a later 1.x; treat it like [`Code::Internal`].
    Unknown(i32),
}

impl Code {
    /// The code for a raw `int32_t` value (0 is not an error code and maps
    /// to `Unknown(0)`).
    pub fn from_raw(raw: i32) -> Code {
        match raw {
            sys::NAT_TRAINER_ADAPTER_INVALID_ARGUMENT => Code::InvalidArgument,
            sys::NAT_TRAINER_ADAPTER_NOT_FOUND => Code::NotFound,
            sys::NAT_TRAINER_ADAPTER_ALREADY_EXISTS => Code::AlreadyExists,
            sys::NAT_TRAINER_ADAPTER_FAILED_PRECONDITION => Code::FailedPrecondition,
            sys::NAT_TRAINER_ADAPTER_UNAVAILABLE => Code::Unavailable,
            sys::NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED => Code::DeadlineExceeded,
            sys::NAT_TRAINER_ADAPTER_CANCELLED => Code::Cancelled,
            sys::NAT_TRAINER_ADAPTER_INTERNAL => Code::Internal,
            other => Code::Unknown(other),
        }
    }

    /// The raw `int32_t` value.
    pub fn raw(self) -> i32 {
        match self {
            Code::InvalidArgument => sys::NAT_TRAINER_ADAPTER_INVALID_ARGUMENT,
            Code::NotFound => sys::NAT_TRAINER_ADAPTER_NOT_FOUND,
            Code::AlreadyExists => sys::NAT_TRAINER_ADAPTER_ALREADY_EXISTS,
            Code::FailedPrecondition => sys::NAT_TRAINER_ADAPTER_FAILED_PRECONDITION,
            Code::Unavailable => sys::NAT_TRAINER_ADAPTER_UNAVAILABLE,
            Code::DeadlineExceeded => sys::NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED,
            Code::Cancelled => sys::NAT_TRAINER_ADAPTER_CANCELLED,
            Code::Internal => sys::NAT_TRAINER_ADAPTER_INTERNAL,
            Code::Unknown(raw) => raw,
        }
    }

    /// The name of the code as in the header, without the prefix.
    pub fn name(self) -> &'static str {
        match self {
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Unavailable => "UNAVAILABLE",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::Cancelled => "CANCELLED",
            Code::Internal => "INTERNAL",
            Code::Unknown(_) => "UNKNOWN",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Code::Unknown(raw) => write!(f, "UNKNOWN({raw})"),
            c => f.write_str(c.name()),
        }
    }
}

/// An error from a plugin (or from loading one): its code and message.
///
/// Loading failures use [`Code::FailedPrecondition`] (the file cannot be
/// loaded, is not a plugin, or implements another ABI major version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A loaded plugin: its resolved functions and static info.
pub struct Plugin {
    api: sys::Api,
    abi_version: u32,
    info: String,
    path: Option<PathBuf>,
    // Never unloaded (see the crate documentation).
    _lib: Option<ManuallyDrop<libloading::Library>>,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .field("abi_version", &format_args!("{:#x}", self.abi_version))
            .finish_non_exhaustive()
    }
}

fn load_error(what: impl fmt::Display) -> Error {
    Error::new(Code::FailedPrecondition, what.to_string())
}

fn check_abi(abi_version: u32, what: &str) -> Result<()> {
    let major = abi_version >> 16;
    if major != ABI_MAJOR {
        return Err(load_error(format_args!(
            "plugin {what} implements ABI {major}.{}, this binding needs ABI {ABI_MAJOR}.x",
            abi_version & 0xffff
        )));
    }
    Ok(())
}

unsafe fn info_string(p: *const c_char) -> String {
    if p.is_null() {
        String::from("{}")
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

impl Plugin {
    /// Loads a plugin file (dlopen with RTLD_NOW | RTLD_LOCAL), checks its
    /// ABI major version before calling anything else, then resolves every
    /// function of the ABI.
    pub fn load(path: impl AsRef<OsStr>) -> Result<Arc<Plugin>> {
        let path = Path::new(path.as_ref());
        let shown = path.display();
        // SAFETY: loading a library runs its initialisers; a plugin path is
        // trusted by the caller like any other native code it loads.
        let lib: libloading::Library =
            unsafe { open(path) }.map_err(|e| load_error(format_args!("cannot load plugin {shown}: {e}")))?;
        // SAFETY: the symbol types are those of the header; the bootstrap
        // functions never fail and take no arguments.
        let (abi_version, info) = unsafe {
            let abi = lib
                .get::<sys::pfn::nat_trainer_adapter_abi_version>(b"nat_trainer_adapter_abi_version\0")
                .map_err(|_| {
                    load_error(format_args!(
                        "{shown} is not a trainer adapter plugin (no nat_trainer_adapter_abi_version)"
                    ))
                })?;
            let info = lib
                .get::<sys::pfn::nat_trainer_adapter_plugin_info>(b"nat_trainer_adapter_plugin_info\0")
                .map_err(|_| {
                    load_error(format_args!(
                        "{shown} is not a trainer adapter plugin (no nat_trainer_adapter_plugin_info)"
                    ))
                })?;
            let v = abi();
            check_abi(v, &shown.to_string())?;
            (v, info_string(info()))
        };
        // SAFETY: the ABI major matched, and `lib` is never unloaded.
        let api = unsafe { sys::Api::load(&lib, abi_version) }.map_err(|e| {
            load_error(format_args!("plugin {shown} lacks a function its ABI version promises: {e}"))
        })?;
        Ok(Arc::new(Plugin {
            api,
            abi_version,
            info,
            path: Some(path.to_path_buf()),
            _lib: Some(ManuallyDrop::new(lib)),
        }))
    }

    /// The plugin linked at build time (feature `link`).
    #[cfg(feature = "link")]
    pub fn linked() -> Result<Arc<Plugin>> {
        let api = sys::Api::linked();
        // SAFETY: bootstrap functions of the linked library.
        let abi_version = unsafe { (api.nat_trainer_adapter_abi_version)() };
        check_abi(abi_version, "libnat_trainer_adapter_openpipe_art")?;
        let info = unsafe { info_string((api.nat_trainer_adapter_plugin_info)()) };
        Ok(Arc::new(Plugin {
            api,
            abi_version,
            info,
            path: None,
            _lib: None,
        }))
    }

    /// `(major << 16) | minor` as reported by the plugin.
    pub fn abi_version(&self) -> u32 {
        self.abi_version
    }

    /// The plugin's static info JSON (`name`, `backend`, `version`, `abi`,
    /// `description`, `config_schema`).
    pub fn info_json(&self) -> &str {
        &self.info
    }

    /// The file the plugin was loaded from (None when linked).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The raw function table.
    pub fn api(&self) -> &sys::Api {
        &self.api
    }

    /// Creates an adapter from its config JSON (NAT's trainer adapter config).
    pub fn create(self: &Arc<Self>, config_json: impl AsRef<[u8]>) -> Result<Adapter> {
        Adapter::new(self, config_json)
    }
}

#[cfg(unix)]
unsafe fn open(path: &Path) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    Library::open(Some(path), RTLD_NOW | RTLD_LOCAL).map(Into::into)
}

#[cfg(not(unix))]
unsafe fn open(path: &Path) -> Result<libloading::Library, libloading::Error> {
    libloading::Library::new(path)
}

/// Converts a returned error pointer into a Result, freeing the error.
unsafe fn check(api: &sys::Api, err: *mut sys::nat_trainer_adapter_error) -> Result<()> {
    if err.is_null() {
        return Ok(());
    }
    let code = Code::from_raw((api.nat_trainer_adapter_error_code)(err));
    let message = info_string((api.nat_trainer_adapter_error_message)(err));
    (api.nat_trainer_adapter_error_free)(err);
    Err(Error::new(code, message))
}

/// Copies a returned buffer and frees it at once; None for NULL.
unsafe fn take(api: &sys::Api, buf: *mut sys::nat_trainer_adapter_buffer) -> Result<Option<String>> {
    if buf.is_null() {
        return Ok(None);
    }
    let size = (api.nat_trainer_adapter_buffer_size)(buf);
    let data = (api.nat_trainer_adapter_buffer_data)(buf);
    let bytes = if size == 0 || data.is_null() {
        Vec::new()
    } else {
        std::slice::from_raw_parts(data.cast::<u8>(), size).to_vec()
    };
    (api.nat_trainer_adapter_buffer_free)(buf);
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| Error::new(Code::Internal, format!("the plugin returned invalid UTF-8: {e}")))
}

fn ptr_len(data: &[u8]) -> (*const c_char, usize) {
    if data.is_empty() {
        (ptr::null(), 0)
    } else {
        (data.as_ptr().cast(), data.len())
    }
}

fn timeout_secs(timeout: Option<Duration>) -> f64 {
    match timeout {
        None => -1.0,
        Some(d) => d.as_secs_f64(),
    }
}

/// An adapter instance, destroyed on drop. `Send + Sync`: the header makes
/// every function but destroy callable from any thread concurrently, and
/// destroy only runs from `Drop`, when no other reference exists.
pub struct Adapter {
    raw: NonNull<sys::nat_trainer_adapter>,
    plugin: Arc<Plugin>,
}

// SAFETY: the C ABI documents the adapter handle as thread-safe (see above).
unsafe impl Send for Adapter {}
unsafe impl Sync for Adapter {}

impl fmt::Debug for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adapter")
            .field("raw", &self.raw)
            .field("plugin", &self.plugin)
            .finish()
    }
}

impl Adapter {
    /// Creates an adapter from its config JSON; no network traffic happens.
    pub fn new(plugin: &Arc<Plugin>, config_json: impl AsRef<[u8]>) -> Result<Adapter> {
        let api = &plugin.api;
        let (p, n) = ptr_len(config_json.as_ref());
        let mut out: *mut sys::nat_trainer_adapter = ptr::null_mut();
        // SAFETY: valid input slice and out-pointer for the duration of the call.
        unsafe { check(api, (api.nat_trainer_adapter_create)(p, n, &mut out))? };
        let raw = NonNull::new(out)
            .ok_or_else(|| Error::new(Code::Internal, "nat_trainer_adapter_create returned no adapter"))?;
        Ok(Adapter {
            raw,
            plugin: Arc::clone(plugin),
        })
    }

    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// The raw handle, valid while `self` lives.
    pub fn as_raw(&self) -> *mut sys::nat_trainer_adapter {
        self.raw.as_ptr()
    }

    fn api(&self) -> &sys::Api {
        &self.plugin.api
    }

    fn json_out(
        &self,
        call: impl FnOnce(&sys::Api, *mut *mut sys::nat_trainer_adapter_buffer) -> *mut sys::nat_trainer_adapter_error,
    ) -> Result<Option<String>> {
        let api = self.api();
        let mut out: *mut sys::nat_trainer_adapter_buffer = ptr::null_mut();
        let err = call(api, &mut out);
        // SAFETY: err and out come from the plugin; each is freed once.
        unsafe {
            if let Err(e) = check(api, err) {
                (api.nat_trainer_adapter_buffer_free)(out); // NULL on error; a no-op
                return Err(e);
            }
            take(api, out)
        }
    }

    fn json_required(
        &self,
        what: &str,
        call: impl FnOnce(&sys::Api, *mut *mut sys::nat_trainer_adapter_buffer) -> *mut sys::nat_trainer_adapter_error,
    ) -> Result<String> {
        self.json_out(call)?
            .ok_or_else(|| Error::new(Code::Internal, format!("{what} returned no buffer")))
    }

    /// NAT's initialize: `run_config_json` is the FinetuneConfig (`"{}"` is
    /// accepted). Blocks while the backend is prepared.
    pub fn initialize(&self, run_config_json: impl AsRef<[u8]>) -> Result<()> {
        let (p, n) = ptr_len(run_config_json.as_ref());
        let api = self.api();
        unsafe { check(api, (api.nat_trainer_adapter_initialize)(self.as_raw(), p, n)) }
    }

    /// Whether the backend is reachable (unreachable is not an error).
    pub fn is_healthy(&self) -> Result<bool> {
        let api = self.api();
        let mut healthy: i32 = 0;
        unsafe { check(api, (api.nat_trainer_adapter_is_healthy)(self.as_raw(), &mut healthy))? };
        Ok(healthy != 0)
    }

    /// Validates and submits a TrajectoryCollection; returns the TrainingJobRef JSON.
    pub fn submit(&self, collection_json: impl AsRef<[u8]>) -> Result<String> {
        let (p, n) = ptr_len(collection_json.as_ref());
        let h = self.as_raw();
        self.json_required("submit", |api, out| unsafe {
            (api.nat_trainer_adapter_submit)(h, p, n, out)
        })
    }

    /// Submits a collection again from its spool file and returns the new
    /// TrainingJobRef JSON. Every submit first writes its collection to the
    /// adapter's spool directory (config `native.spool_dir`) and names the
    /// file in the job status metadata (`"spool_file"`); the file is removed
    /// only when training completed. After a failed or canceled job, or a
    /// crash, pass that path here: the new job has the same run_id and keeps
    /// the same spool file. [`Code::NotFound`] if the file does not exist;
    /// otherwise the errors of [`Adapter::submit`]. [`Code::FailedPrecondition`]
    /// for an ABI 1.0 plugin, which has no `nat_trainer_adapter_resubmit`.
    pub fn resubmit(&self, spool_path: impl AsRef<Path>) -> Result<String> {
        let resubmit = self.api().nat_trainer_adapter_resubmit.ok_or_else(|| {
            let abi = self.plugin.abi_version;
            Error::new(
                Code::FailedPrecondition,
                format!(
                    "plugin {} does not implement nat_trainer_adapter_resubmit (ABI {}.{})",
                    self.plugin
                        .path
                        .as_deref()
                        .map_or_else(|| "(linked)".into(), |p| p.display().to_string()),
                    abi >> 16,
                    abi & 0xffff
                ),
            )
        })?;
        let path = path_bytes(spool_path.as_ref())
            .ok_or_else(|| Error::new(Code::InvalidArgument, "spool_path is not valid UTF-8"))?;
        let (p, n) = ptr_len(path);
        let h = self.as_raw();
        self.json_required("resubmit", |_, out| unsafe { resubmit(h, p, n, out) })
    }

    /// The collections in a spool directory (`None`: the adapter's own,
    /// config `native.spool_dir`): what [`Adapter::resubmit`] can take, as the
    /// JSON object of `nat_trainer_adapter_spooled` (ABI 1.1).
    /// [`Code::FailedPrecondition`] for an ABI 1.0 plugin or an adapter that
    /// keeps no spool.
    pub fn spooled(&self, spool_dir: Option<&Path>) -> Result<String> {
        let spooled = self.api().nat_trainer_adapter_spooled.ok_or_else(|| {
            let abi = self.plugin.abi_version;
            Error::new(
                Code::FailedPrecondition,
                format!(
                    "plugin does not implement nat_trainer_adapter_spooled (ABI {}.{})",
                    abi >> 16,
                    abi & 0xffff
                ),
            )
        })?;
        let dir = match spool_dir {
            Some(d) => Some(
                path_bytes(d).ok_or_else(|| Error::new(Code::InvalidArgument, "spool_dir is not valid UTF-8"))?,
            ),
            None => None,
        };
        // An empty path is passed as an empty, non-NULL string (the plugin
        // refuses it, as it does from Python and Go); only None means the
        // adapter's own directory.
        let (p, n) = match &dir {
            Some(d) => (d.as_ptr().cast(), d.len()),
            None => (ptr::null(), 0),
        };
        let h = self.as_raw();
        self.json_required("spooled", |_, out| unsafe { spooled(h, p, n, out) })
    }

    /// The TrainingJobStatus JSON of a job.
    pub fn status(&self, job_ref_json: impl AsRef<[u8]>) -> Result<String> {
        let (p, n) = ptr_len(job_ref_json.as_ref());
        let h = self.as_raw();
        self.json_required("status", |api, out| unsafe {
            (api.nat_trainer_adapter_status)(h, p, n, out)
        })
    }

    /// Blocks until the job ends and returns its final TrainingJobStatus JSON.
    /// `timeout` None waits without limit; otherwise DeadlineExceeded.
    pub fn wait_until_complete(
        &self,
        job_ref_json: impl AsRef<[u8]>,
        poll_interval: Duration,
        timeout: Option<Duration>,
    ) -> Result<String> {
        let (p, n) = ptr_len(job_ref_json.as_ref());
        let h = self.as_raw();
        let poll = poll_interval.as_secs_f64();
        // The C ABI reads timeout <= 0 as "no timeout".
        let t = timeout.map_or(0.0, |d| d.as_secs_f64().max(1e-9));
        self.json_required("wait_until_complete", |api, out| unsafe {
            (api.nat_trainer_adapter_wait_until_complete)(h, p, n, poll, t, out)
        })
    }

    /// Cancels a pending or running job (a no-op on a finished one).
    pub fn cancel(&self, job_ref_json: impl AsRef<[u8]>) -> Result<()> {
        let (p, n) = ptr_len(job_ref_json.as_ref());
        let api = self.api();
        unsafe { check(api, (api.nat_trainer_adapter_cancel)(self.as_raw(), p, n)) }
    }

    /// `{"jobs": [{"job_ref": ..., "status": ...}, ...]}`, oldest first.
    pub fn jobs(&self) -> Result<String> {
        let h = self.as_raw();
        self.json_required("jobs", |api, out| unsafe { (api.nat_trainer_adapter_jobs)(h, out) })
    }

    /// The next event JSON of a job; None if none arrived within `timeout`
    /// (None: wait without limit; zero: do not wait) or if the final event
    /// was already delivered.
    pub fn next_event(&self, job_ref_json: impl AsRef<[u8]>, timeout: Option<Duration>) -> Result<Option<String>> {
        let (p, n) = ptr_len(job_ref_json.as_ref());
        let h = self.as_raw();
        let t = timeout_secs(timeout);
        self.json_out(|api, out| unsafe { (api.nat_trainer_adapter_next_event)(h, p, n, t, out) })
    }

    /// Iterates over a job's events until the final one (`"final": true`)
    /// has been delivered. Each step waits without limit.
    pub fn events<'a>(&'a self, job_ref_json: &'a str) -> Events<'a> {
        Events {
            adapter: self,
            job_ref: job_ref_json,
            done: false,
        }
    }

    /// NAT's log_progress: appends a JSON line to
    /// `<output_dir>/trainer_adapter_<run_id>.jsonl` (NAT's default dir when None).
    pub fn log_progress(
        &self,
        job_ref_json: impl AsRef<[u8]>,
        metrics_json: impl AsRef<[u8]>,
        output_dir: Option<&Path>,
    ) -> Result<()> {
        let (rp, rn) = ptr_len(job_ref_json.as_ref());
        let (mp, mn) = ptr_len(metrics_json.as_ref());
        let dir = match output_dir {
            None => None,
            Some(d) => Some(
                path_cstring(d).ok_or_else(|| Error::new(Code::InvalidArgument, "output_dir contains a NUL byte"))?,
            ),
        };
        let dp = dir.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        let api = self.api();
        unsafe {
            check(
                api,
                (api.nat_trainer_adapter_log_progress)(self.as_raw(), rp, rn, mp, mn, dp),
            )
        }
    }

    /// What submit would send (for openpipe-art the /_train_model body).
    pub fn convert(&self, collection_json: impl AsRef<[u8]>) -> Result<String> {
        let (p, n) = ptr_len(collection_json.as_ref());
        let h = self.as_raw();
        self.json_required("convert", |api, out| unsafe {
            (api.nat_trainer_adapter_convert)(h, p, n, out)
        })
    }
}

/// The bytes of a path as the C ABI takes them (no NUL terminator).
#[cfg(unix)]
fn path_bytes(p: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    Some(p.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> Option<&[u8]> {
    p.to_str().map(str::as_bytes)
}

#[cfg(unix)]
fn path_cstring(p: &Path) -> Option<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).ok()
}

#[cfg(not(unix))]
fn path_cstring(p: &Path) -> Option<CString> {
    CString::new(p.to_str()?).ok()
}

impl Drop for Adapter {
    fn drop(&mut self) {
        // SAFETY: the handle came from create and is destroyed exactly once;
        // `&mut self` means no other call on it is in progress.
        unsafe { (self.plugin.api.nat_trainer_adapter_destroy)(self.raw.as_ptr()) }
    }
}

/// Iterator over a job's events; see [`Adapter::events`]. After an error it
/// yields that error once and ends.
pub struct Events<'a> {
    adapter: &'a Adapter,
    job_ref: &'a str,
    done: bool,
}

impl Iterator for Events<'_> {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Waiting without limit returns NULL only once the final event has
        // been delivered, so the iteration ends right after it.
        match self.adapter.next_event(self.job_ref, None) {
            Ok(Some(event)) => Some(Ok(event)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for raw in 1..=8 {
            let c = Code::from_raw(raw);
            assert!(!matches!(c, Code::Unknown(_)));
            assert_eq!(c.raw(), raw);
        }
        assert_eq!(Code::from_raw(42), Code::Unknown(42));
        assert_eq!(Code::Unknown(42).raw(), 42);
        assert_eq!(Code::NotFound.to_string(), "NOT_FOUND");
        let e = Error::new(Code::Unavailable, "Failed to connect to ART backend.");
        assert_eq!(e.to_string(), "UNAVAILABLE: Failed to connect to ART backend.");
    }

    #[test]
    fn adapter_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Adapter>();
        assert_send_sync::<Plugin>();
        assert_send_sync::<Error>();
    }

    #[test]
    fn load_missing_file_is_an_error() {
        let e = Plugin::load("/nonexistent/libnothing.so").unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition);
        assert!(e.message().contains("cannot load plugin"), "{e}");
    }

    #[test]
    fn load_non_plugin_is_an_error() {
        // libc is loaded in every process and exports no ABI symbols.
        let e = Plugin::load("libc.so.6").unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition);
        assert!(e.message().contains("not a trainer adapter plugin"), "{e}");
    }
}
