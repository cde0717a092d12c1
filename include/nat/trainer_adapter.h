/*
 * nat/trainer_adapter.h - the C ABI of NAT trainer adapter plugins.
 *
 * A trainer adapter takes NAT trajectory collections, validates them,
 * converts them for a training backend, submits them and tracks the training
 * job. This header is the whole contract between an adapter plugin (a shared
 * library) and whatever loads it: the nat-trainer host, or FFI from Python,
 * Rust, Go or any language that can call C.
 *
 * ABI version 1.1. Every later 1.x change is additive: functions and error
 * codes are added, none is removed or changes meaning. A host checks the
 * major version with nat_trainer_adapter_abi_version() before it calls
 * anything else.
 *
 * Conventions, valid for every function below unless it says otherwise:
 *
 * - Text and JSON cross the boundary as UTF-8. JSON inputs are a pointer plus
 *   a length in bytes; they need not be NUL-terminated. A NULL pointer with a
 *   length of 0 is an empty input (and an invalid one where JSON is needed).
 *   Inputs are borrowed for the duration of the call only: the library copies
 *   what it keeps.
 * - JSON shapes are NAT's own: the adapter config is NAT's trainer adapter
 *   config (ARTTrainerAdapterConfig for the openpipe-art plugin), initialize
 *   takes NAT's FinetuneConfig (the `finetuning:` section), submit takes a
 *   TrajectoryCollection, job references are TrainingJobRef objects and
 *   statuses are TrainingJobStatus objects whose `status` is one of
 *   "pending", "running", "completed", "failed", "canceled".
 * - Every fallible function returns a nat_trainer_adapter_error pointer: NULL
 *   on success, otherwise an error object that the caller owns and releases
 *   with nat_trainer_adapter_error_free(). On error, out-parameters are set
 *   to NULL / 0 where the function says so. There is no thread-local
 *   "last error".
 * - What the library returns, the library frees: buffers with
 *   nat_trainer_adapter_buffer_free(), errors with
 *   nat_trainer_adapter_error_free(). Never pass them to free().
 * - No C++ exception, and no signal, ever leaves a function of this ABI.
 * - No function calls back into caller code; nothing runs on the caller's
 *   behalf on another thread except the adapter's own background work.
 * - Thread-safety: every function taking an adapter may be called from any
 *   thread, concurrently with any other function on the same adapter, except
 *   nat_trainer_adapter_destroy() (see there). Errors and buffers are plain
 *   values: reading one from several threads is safe, freeing it while
 *   another thread reads it is not.
 */
#ifndef NAT_TRAINER_ADAPTER_H
#define NAT_TRAINER_ADAPTER_H

/* The layout of the public header is kept by hand (one parameter per line,
 * aligned; the ABI checks edit it by pattern). */
/* clang-format off */

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(NAT_TRAINER_ADAPTER_BUILDING)
#    define NAT_TRAINER_ADAPTER_API __declspec(dllexport)
#  else
#    define NAT_TRAINER_ADAPTER_API
#  endif
#elif defined(__GNUC__)
#  define NAT_TRAINER_ADAPTER_API __attribute__((visibility("default")))
#else
#  define NAT_TRAINER_ADAPTER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: (major << 16) | minor. */
#define NAT_TRAINER_ADAPTER_ABI_MAJOR 1
#define NAT_TRAINER_ADAPTER_ABI_MINOR 1
#define NAT_TRAINER_ADAPTER_ABI_VERSION \
  ((uint32_t)(((uint32_t)NAT_TRAINER_ADAPTER_ABI_MAJOR << 16) | (uint32_t)NAT_TRAINER_ADAPTER_ABI_MINOR))
/* The same as text, "major.minor": the "abi" of plugin_info. */
#define NAT_TRAINER_ADAPTER_ABI_TEXT_(x) #x
#define NAT_TRAINER_ADAPTER_ABI_TEXT(major, minor) NAT_TRAINER_ADAPTER_ABI_TEXT_(major) "." NAT_TRAINER_ADAPTER_ABI_TEXT_(minor)
#define NAT_TRAINER_ADAPTER_ABI_VERSION_STRING \
  NAT_TRAINER_ADAPTER_ABI_TEXT(NAT_TRAINER_ADAPTER_ABI_MAJOR, NAT_TRAINER_ADAPTER_ABI_MINOR)

/* ------------------------------------------------------------------------ */
/* Opaque types                                                              */
/* ------------------------------------------------------------------------ */

/* An adapter instance. Created by nat_trainer_adapter_create(), released by
 * nat_trainer_adapter_destroy(). */
typedef struct nat_trainer_adapter nat_trainer_adapter;

/* An error: a stable code and a human-readable message. */
typedef struct nat_trainer_adapter_error nat_trainer_adapter_error;

/* Bytes returned by the library (JSON text unless documented otherwise). */
typedef struct nat_trainer_adapter_buffer nat_trainer_adapter_buffer;

/* ------------------------------------------------------------------------ */
/* Error codes                                                               */
/* ------------------------------------------------------------------------ */

/* Stable error codes. Values never change; new codes may be added in a later
 * 1.x, so callers treat an unknown code like NAT_TRAINER_ADAPTER_INTERNAL.
 * Functions return codes as int32_t, never as this enum type, so the size
 * of the enum never matters at the boundary. */
typedef enum nat_trainer_adapter_code {
  NAT_TRAINER_ADAPTER_OK = 0,
  /* The input is malformed or breaks a rule: bad JSON, a missing or mistyped
   * key, a trajectory that fails validation, a NULL out-parameter. */
  NAT_TRAINER_ADAPTER_INVALID_ARGUMENT = 1,
  /* A job reference names no job this adapter knows. */
  NAT_TRAINER_ADAPTER_NOT_FOUND = 2,
  /* A job with this run_id is still pending or running. */
  NAT_TRAINER_ADAPTER_ALREADY_EXISTS = 3,
  /* The call is not valid in the current state: for example submit before
   * initialize, or a destroyed adapter handle. */
  NAT_TRAINER_ADAPTER_FAILED_PRECONDITION = 4,
  /* The backend cannot be reached or answered with an error. */
  NAT_TRAINER_ADAPTER_UNAVAILABLE = 5,
  /* A wait ran out of time: the caller's own timeout (wait_until_complete's
   * timeout_s). A request to the backend that times out is UNAVAILABLE, on
   * every route. */
  NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED = 6,
  /* The operation was cancelled. */
  NAT_TRAINER_ADAPTER_CANCELLED = 7,
  /* A bug or an unexpected failure inside the adapter, including running
   * out of memory. */
  NAT_TRAINER_ADAPTER_INTERNAL = 8,
  NAT_TRAINER_ADAPTER_CODE_FORCE32 = 0x7fffffff
} nat_trainer_adapter_code;

/* ------------------------------------------------------------------------ */
/* Bootstrap: the only two functions a host may call before it has checked  */
/* the ABI version. They never change.                                       */
/* ------------------------------------------------------------------------ */

/* The ABI version this plugin implements, (major << 16) | minor.
 * A host refuses a plugin whose major differs from its own.
 * Never fails; thread-safe; callable before anything else. */
NAT_TRAINER_ADAPTER_API uint32_t nat_trainer_adapter_abi_version(void);

/* Static JSON describing the plugin, NUL-terminated UTF-8:
 *   {"name": <NAT _type this plugin implements>, "backend": <backend name
 *    used in job references>, "version": <plugin version>, "abi": <the
 *    version abi_version returns as "major.minor", e.g. "1.1">,
 *    "description": <one line>, "config_schema": <JSON Schema of the config
 *    accepted by nat_trainer_adapter_create()>}
 * The pointer is owned by the plugin and valid until the plugin is unloaded;
 * never free it. Never fails; thread-safe. */
NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_plugin_info(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* The error's code, one of nat_trainer_adapter_code. NULL gives
 * NAT_TRAINER_ADAPTER_OK. Thread-safe. */
NAT_TRAINER_ADAPTER_API int32_t nat_trainer_adapter_error_code(const nat_trainer_adapter_error *error);

/* The error's message: NUL-terminated UTF-8, owned by the error and valid
 * until nat_trainer_adapter_error_free(error). NULL gives "". Messages say
 * what is wrong and where (for example the group, trajectory and item index
 * of a validation error); they never contain the backend api_key.
 * Thread-safe. */
NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_error_message(const nat_trainer_adapter_error *error);

/* Releases an error. NULL is a no-op. An error that was already freed, or a
 * pointer that is not an error of this library, is detected and ignored
 * rather than corrupting memory. Thread-safe with respect to other errors. */
NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_error_free(nat_trainer_adapter_error *error);

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */
/* ------------------------------------------------------------------------ */

/* The buffer's bytes. Owned by the buffer, valid until
 * nat_trainer_adapter_buffer_free(buffer). Always followed by a NUL byte
 * (not counted in the size), so JSON results can be read as C strings.
 * NULL gives "". Thread-safe. */
NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_buffer_data(const nat_trainer_adapter_buffer *buffer);

/* The number of bytes in the buffer, without the trailing NUL. NULL gives 0.
 * Thread-safe. */
NAT_TRAINER_ADAPTER_API size_t nat_trainer_adapter_buffer_size(const nat_trainer_adapter_buffer *buffer);

/* Releases a buffer. NULL is a no-op; a double free or a foreign pointer is
 * detected and ignored. */
NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_buffer_free(nat_trainer_adapter_buffer *buffer);

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                 */
/* ------------------------------------------------------------------------ */

/* Creates an adapter from its config: NAT's trainer adapter config as JSON
 * (for openpipe-art: {"_type": "openpipe_art_trainer_adapter",
 * "backend": {"ip", "port", ...}, "training": {...}} with NAT's defaults;
 * options of this implementation go under "native", see the plugin's
 * config_schema). No network traffic happens here.
 *
 * On success *out_adapter receives a new adapter, owned by the caller until
 * nat_trainer_adapter_destroy(). On error *out_adapter is set to NULL.
 * Errors: INVALID_ARGUMENT (out_adapter NULL, bad JSON, a missing or
 * mistyped key, named in the message), INTERNAL.
 * Thread-safe. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_create(const char *config_json,
                                                                              size_t config_len,
                                                                              nat_trainer_adapter **out_adapter);

/* Destroys an adapter: cancels its running jobs, joins its threads and
 * releases everything it owns. NULL is a no-op. Destroying the same handle
 * twice is detected and ignored. After it returns, every call with this
 * handle fails with FAILED_PRECONDITION rather than touching freed memory.
 * The caller must not start new calls on the handle while destroy runs;
 * calls already in progress on other threads (a wait, next_event) are woken
 * and return CANCELLED before destroy returns. */
NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_destroy(nat_trainer_adapter *adapter);

/* Initializes the adapter for a run: run_config_json is NAT's FinetuneConfig
 * (the `finetuning:` section) as JSON; "{}" is accepted. For openpipe-art
 * this checks /healthcheck, detects the server's protocol dialect, registers
 * the model (/register), prepares the backend (/_prepare_backend_for_training,
 * which may take minutes on a real GPU server) and then runs the health
 * check. Calling it again re-registers.
 * Errors: INVALID_ARGUMENT, UNAVAILABLE ("Failed to connect to ART backend."
 * plus the cause: the server cannot be reached or timed out, answered with
 * an error, or sent a reply the adapter refuses, such as a step outside
 * 0..2^63-1, an api_key or base_url with control characters, or a base_url
 * with user-info), FAILED_PRECONDITION.
 * Thread-safe; blocks the calling thread. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_initialize(nat_trainer_adapter *adapter,
                                                                                  const char *run_config_json,
                                                                                  size_t run_config_len);

/* Checks the backend. *out_healthy is set to 1 when it is reachable, 0 when
 * not; an unreachable backend is not an error. Errors are reserved for
 * invalid arguments (out_healthy NULL, bad handle). Thread-safe; blocks for
 * at most the configured health timeout. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_is_healthy(nat_trainer_adapter *adapter,
                                                                                  int32_t *out_healthy);

/* ------------------------------------------------------------------------ */
/* Jobs                                                                      */
/* ------------------------------------------------------------------------ */

/* Validates and submits a TrajectoryCollection for training and returns at
 * once; training runs in the background. The whole submit is rejected with
 * INVALID_ARGUMENT if any trajectory breaks a validation rule (the message
 * names trajectories[group][trajectory].episode[item] and the rule), or if no
 * trajectory group remains after conversion ("No valid trajectory groups to
 * submit."). ALREADY_EXISTS if a job with the same run_id is still pending or
 * running; a finished job's run_id may be reused. FAILED_PRECONDITION before
 * a successful initialize.
 *
 * On success *out_job_ref receives a TrainingJobRef JSON buffer owned by the
 * caller; on error it is set to NULL. Thread-safe. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_submit(nat_trainer_adapter *adapter,
                                                                              const char *collection_json,
                                                                              size_t collection_len,
                                                                              nat_trainer_adapter_buffer **out_job_ref);

/* The current TrainingJobStatus of a job as JSON. Idempotent: finished jobs
 * are kept until the adapter is destroyed. `progress` is the percentage of
 * gradient steps done; backend details (steps, metrics, dropped
 * trajectories, inference model name) are in `metadata`.
 * The reference is a TrainingJobRef as returned by submit; a reference with
 * only run_id resolves to the newest job with that run_id.
 * Errors: INVALID_ARGUMENT, NOT_FOUND. *out_status receives a buffer owned by
 * the caller, NULL on error. Thread-safe; never blocks on the network. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_status(nat_trainer_adapter *adapter,
                                                                              const char *job_ref_json,
                                                                              size_t job_ref_len,
                                                                              nat_trainer_adapter_buffer **out_status);

/* Blocks until the job is completed, failed or canceled and returns its
 * final TrainingJobStatus. It wakes as soon as the job ends; poll_interval_s
 * (NAT's poll_interval) only bounds how often the adapter re-checks the job
 * and may be 0. timeout_s <= 0 means no timeout; otherwise
 * DEADLINE_EXCEEDED when it runs out, and the job keeps running.
 * A failed job is not an error: its status says "failed".
 * Errors: INVALID_ARGUMENT, NOT_FOUND, DEADLINE_EXCEEDED, CANCELLED (the
 * adapter is being destroyed). *out_status as for status.
 * Thread-safe; several threads may wait on the same job. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_wait_until_complete(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len, double poll_interval_s,
    double timeout_s, nat_trainer_adapter_buffer **out_status);

/* Cancels a pending or running job. Its status becomes "canceled" once its
 * background work has stopped. Cancelling a finished job is a no-op. Note
 * that an ART server has no cancel route: a training call already streaming
 * may still finish on the server; the status metadata says so.
 * Errors: INVALID_ARGUMENT, NOT_FOUND. Thread-safe. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_cancel(nat_trainer_adapter *adapter,
                                                                              const char *job_ref_json,
                                                                              size_t job_ref_len);

/* Every job this adapter knows, oldest first, as JSON:
 *   {"jobs": [{"job_ref": <TrainingJobRef>, "status": <TrainingJobStatus>}, ...]}
 * (NAT's training_jobs). *out_jobs receives a buffer owned by the caller.
 * Thread-safe. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_jobs(nat_trainer_adapter *adapter,
                                                                            nat_trainer_adapter_buffer **out_jobs);

/* Pulls the next training event of a job, on the caller's thread. Events are
 * JSON objects:
 *   {"run_id", "job_id", "seq", "type", ...}
 * with type "started", "step" (one per gradient step: "step", "num_gradient_steps",
 * "metrics"), "warning" ("code" and "message": for example code
 * "insecure_skip_tls_verify", sent once per adapter on its first job when TLS
 * verification is off), or the final event "completed" | "failed" |
 * "canceled" (with "final": true and the "status"). Callers should ignore
 * types they do not know: later 1.x versions may add some. Each event is
 * delivered once, in order, to whichever caller pulls it. No event, status or
 * error carries the backend's api key: where a server reply quotes it, it is
 * replaced by "[redacted]".
 * Waits up to timeout_s seconds for an event (0: do not wait; < 0: wait
 * without limit). *out_event_or_null receives the event buffer (owned by the
 * caller), or NULL if none arrived in time, or NULL at once if the final
 * event was already delivered.
 * Errors: INVALID_ARGUMENT, NOT_FOUND, CANCELLED (adapter destroyed).
 * Thread-safe. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_next_event(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len, double timeout_s,
    nat_trainer_adapter_buffer **out_event_or_null);

/* NAT's log_progress: appends one JSON line
 *   {"timestamp", "run_id", "backend", "trainer_config": {...}, <metrics...>}
 * to <dir>/trainer_adapter_<run_id>.jsonl, where dir is output_dir_or_null
 * (a NUL-terminated path) or NAT's default ./.tmp/nat/finetuning/trainer_adapter.
 * The directory is created if needed. metrics_json must be a JSON object;
 * a key repeated within one of its objects is refused, as in collections.
 * Errors: INVALID_ARGUMENT, UNAVAILABLE (the file cannot be written).
 * Thread-safe: concurrent calls append whole lines. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_log_progress(nat_trainer_adapter *adapter,
                                                                                    const char *job_ref_json,
                                                                                    size_t job_ref_len,
                                                                                    const char *metrics_json,
                                                                                    size_t metrics_len,
                                                                                    const char *output_dir_or_null);

/* Validates and converts a TrajectoryCollection exactly as submit would and
 * returns what would be sent, without sending anything: for openpipe-art the
 * /_train_model request body (the model of the dialect last detected, or of
 * the configured dialect). Needs no initialize and no backend. Same
 * validation errors as submit. The api key, which a real body carries in its
 * model part once initialize has run, is replaced by "[redacted]": the output
 * is for inspection, not for replay. *out_body receives a buffer owned by the
 * caller. Thread-safe. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_convert(nat_trainer_adapter *adapter,
                                                                               const char *collection_json,
                                                                               size_t collection_len,
                                                                               nat_trainer_adapter_buffer **out_body);

/* ABI 1.1 (exported by plugins of ABI 1.1 or later; a 1.0 plugin may lack
 * it). Submits a collection again from its spool file. Every submit first
 * writes the collection to the adapter's spool directory (config native.spool_dir,
 * default ./.tmp/nat/finetuning/spool; native.spool false turns it off) and
 * names the file in the job status metadata ("spool_file"); the file is
 * removed only when training completed. After a failed or canceled job, or a
 * crash of the process, pass that path here: the collection is validated and
 * submitted as a new job with the same run_id, and the same file stays its
 * spool file. Only a regular file directly in the configured spool directory
 * (symlinks and ".." resolved) can be a spool file: any other path is read
 * and submitted like a new collection (spooled as a copy when spooling is
 * on) and is never deleted. spool_path is a UTF-8 path of spool_path_len
 * bytes (no NUL).
 * Errors: as submit, plus NOT_FOUND (no such file). *out_job_ref as for
 * submit. Thread-safe. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_resubmit(nat_trainer_adapter *adapter,
                                                                                const char *spool_path,
                                                                                size_t spool_path_len,
                                                                                nat_trainer_adapter_buffer **out_job_ref);

/* ABI 1.1. Lists the collections in a spool directory: what resubmit can
 * take.
 * spool_dir is a UTF-8 path of spool_dir_len bytes (no NUL); NULL (its length
 * then ignored) lists the adapter's own spool directory (config
 * native.spool_dir, default ./.tmp/nat/finetuning/spool). Reads only the
 * directory's entries, not the files: needs no initialize and no backend,
 * and blocks only on the file system. *out_json receives a buffer owned by
 * the caller holding one JSON object:
 *   {"spool_dir": the directory listed, as given or configured,
 *    "spool_dir_source": "argument" (spool_dir was given), "config" (set in
 *      the adapter config) or "default",
 *    "spooling": native.spool of this adapter (false: new submits are not
 *      spooled),
 *    "exists": whether the directory exists (false: nothing was spooled
 *      there; not an error),
 *    "collections": [{"path": the spool directory as above joined with the
 *        file name,
 *      "state": "ready" (a complete file resubmit takes) or "partial" (its
 *        writer stopped while writing it; nothing of it was sent; not
 *        resubmittable),
 *      "bytes", "modified_unix_ns",
 *      and when the file name is the one the spool gives a collection:
 *      "run_id" (characters other than [A-Za-z0-9_-] replaced by "_"),
 *      "submitted_unix_ms", "writer_pid" (the process that wrote it) and
 *      "writer_running" (a process with that id exists on this host: it may
 *      still be training the collection, or be another program reusing the
 *      id)}, ...]}
 * collections lists the regular *.json and *.json.partial files directly in
 * the directory (symlinks are not followed), oldest modification first.
 * Errors: FAILED_PRECONDITION when the adapter keeps no spool (the default
 * of adapters without one); INVALID_ARGUMENT for an empty spool_dir or one
 * with a NUL byte; UNAVAILABLE when the directory exists but cannot be read.
 * Thread-safe. */
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_spooled(nat_trainer_adapter *adapter,
                                                                               const char *spool_dir,
                                                                               size_t spool_dir_len,
                                                                               nat_trainer_adapter_buffer **out_json);

/* ------------------------------------------------------------------------ */
/* The function list                                                         */
/* ------------------------------------------------------------------------ */

/* Every function above, in order, as X(minor, return type, name without the
 * nat_trainer_adapter_ prefix, parameter list): minor is the 1.x version the
 * function arrived in. A plugin reporting ABI 1.m exports every function of
 * a minor <= m, and a loader expects exactly those (the functions of a
 * later minor than its own it does not know). The C++ host and benchmark
 * build their function tables from this list with the preprocessor, the abi
 * tests check the plugins' exports against it, and
 * bindings/check_declarations.py the Python, Rust and Go declarations.
 * Below, each entry is declared once more from the list: a compiler refuses
 * any entry whose types differ from the documented declaration above. */
#define NAT_TRAINER_ADAPTER_FUNCTIONS(X)                                                                            \
  X(0, uint32_t, abi_version, (void))                                                                               \
  X(0, const char *, plugin_info, (void))                                                                           \
  X(0, int32_t, error_code, (const nat_trainer_adapter_error *error))                                              \
  X(0, const char *, error_message, (const nat_trainer_adapter_error *error))                                      \
  X(0, void, error_free, (nat_trainer_adapter_error * error))                                                       \
  X(0, const char *, buffer_data, (const nat_trainer_adapter_buffer *buffer))                                      \
  X(0, size_t, buffer_size, (const nat_trainer_adapter_buffer *buffer))                                            \
  X(0, void, buffer_free, (nat_trainer_adapter_buffer * buffer))                                                    \
  X(0, nat_trainer_adapter_error *, create,                                                                         \
    (const char *config_json, size_t config_len, nat_trainer_adapter **out_adapter))                               \
  X(0, void, destroy, (nat_trainer_adapter * adapter))                                                              \
  X(0, nat_trainer_adapter_error *, initialize,                                                                     \
    (nat_trainer_adapter * adapter, const char *run_config_json, size_t run_config_len))                           \
  X(0, nat_trainer_adapter_error *, is_healthy, (nat_trainer_adapter * adapter, int32_t *out_healthy))              \
  X(0, nat_trainer_adapter_error *, submit,                                                                         \
    (nat_trainer_adapter * adapter, const char *collection_json, size_t collection_len,                            \
     nat_trainer_adapter_buffer **out_job_ref))                                                                     \
  X(0, nat_trainer_adapter_error *, status,                                                                         \
    (nat_trainer_adapter * adapter, const char *job_ref_json, size_t job_ref_len,                                  \
     nat_trainer_adapter_buffer **out_status))                                                                      \
  X(0, nat_trainer_adapter_error *, wait_until_complete,                                                            \
    (nat_trainer_adapter * adapter, const char *job_ref_json, size_t job_ref_len, double poll_interval_s,          \
     double timeout_s, nat_trainer_adapter_buffer **out_status))                                                    \
  X(0, nat_trainer_adapter_error *, cancel,                                                                         \
    (nat_trainer_adapter * adapter, const char *job_ref_json, size_t job_ref_len))                                 \
  X(0, nat_trainer_adapter_error *, jobs, (nat_trainer_adapter * adapter, nat_trainer_adapter_buffer **out_jobs))  \
  X(0, nat_trainer_adapter_error *, next_event,                                                                     \
    (nat_trainer_adapter * adapter, const char *job_ref_json, size_t job_ref_len, double timeout_s,                \
     nat_trainer_adapter_buffer **out_event_or_null))                                                               \
  X(0, nat_trainer_adapter_error *, log_progress,                                                                   \
    (nat_trainer_adapter * adapter, const char *job_ref_json, size_t job_ref_len, const char *metrics_json,        \
     size_t metrics_len, const char *output_dir_or_null))                                                           \
  X(0, nat_trainer_adapter_error *, convert,                                                                        \
    (nat_trainer_adapter * adapter, const char *collection_json, size_t collection_len,                            \
     nat_trainer_adapter_buffer **out_body))                                                                        \
  X(1, nat_trainer_adapter_error *, resubmit,                                                                       \
    (nat_trainer_adapter * adapter, const char *spool_path, size_t spool_path_len,                                 \
     nat_trainer_adapter_buffer **out_job_ref))                                                                     \
  X(1, nat_trainer_adapter_error *, spooled,                                                                        \
    (nat_trainer_adapter * adapter, const char *spool_dir, size_t spool_dir_len,                                   \
     nat_trainer_adapter_buffer **out_json))

#define NAT_TRAINER_ADAPTER_REDECLARE_(minor, ret, name, params) \
  NAT_TRAINER_ADAPTER_API ret nat_trainer_adapter_##name params;
NAT_TRAINER_ADAPTER_FUNCTIONS(NAT_TRAINER_ADAPTER_REDECLARE_)
#undef NAT_TRAINER_ADAPTER_REDECLARE_

#ifdef __cplusplus
} /* extern "C" */
#endif

/* clang-format on */

#endif /* NAT_TRAINER_ADAPTER_H */
