// Package nattrainer binds NAT trainer adapter plugins: shared libraries that
// implement the C ABI of include/nat/trainer_adapter.h (ABI 1.x).
//
// Plugins are opened at run time with dlopen (see shim.h), so the package
// does not link against any plugin. Errors are *Error values carrying the C
// error code; use errors.Is(err, ErrNotFound) and the like. Every returned
// buffer and error is copied into Go memory and freed at once. No
// thread-local state is used: each call returns its own error object.
//
//	plugin, err := nattrainer.Open("build/plugin/libnat_trainer_adapter_openpipe_art.so")
//	adapter, err := plugin.NewAdapter(config)
//	defer adapter.Close()
//	err = adapter.Initialize(nil)
//	ref, err := adapter.Submit(collection)
//	for ev, err := range adapter.Events(ref) { ... }
//	status, err := adapter.Wait(ref, time.Second, 0)
//	// after a failure: the collection again, from its spool file
//	ref, err = adapter.Resubmit(status.Metadata["spool_file"].(string))
package nattrainer

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -ldl
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// ABIMajor is the ABI major version this package implements.
const ABIMajor = 1

// Plugin is a loaded plugin. Plugins are never unloaded: adapters' background
// threads belong to them and the C ABI has no global shutdown.
type Plugin struct {
	api        *C.nta_api
	path       string
	abiVersion uint32
	infoJSON   string
	info       PluginInfo
}

var (
	pluginsMu sync.Mutex
	plugins   = map[string]*Plugin{}
)

// Open loads the plugin at path (dlopen with RTLD_NOW | RTLD_LOCAL), checks
// its ABI major version before calling anything else, then resolves every
// function of the ABI. Opening the same path twice returns the same Plugin.
func Open(path string) (*Plugin, error) {
	pluginsMu.Lock()
	defer pluginsMu.Unlock()
	if p, ok := plugins[path]; ok {
		return p, nil
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	api := C.nta_open(cpath, &cerr)
	if api == nil {
		defer C.free(unsafe.Pointer(cerr))
		return nil, &Error{Code: CodeFailedPrecondition, Message: fmt.Sprintf("cannot load plugin %s: %s", path, C.GoString(cerr))}
	}
	v := uint32(C.nta_abi_version(api))
	if v>>16 != ABIMajor {
		C.nta_close(api)
		return nil, &Error{Code: CodeFailedPrecondition, Message: fmt.Sprintf(
			"plugin %s implements ABI %d.%d, this binding needs ABI %d.x", path, v>>16, v&0xffff, ABIMajor)}
	}
	// The functions its minor promises: for a 1.0 plugin Resubmit and
	// Spooled fail with ErrFailedPrecondition; a 1.1 plugin must have them.
	if missing := C.nta_resolve(api, C.uint32_t(v)); missing != nil {
		name := C.GoString(missing)
		C.nta_close(api)
		return nil, &Error{Code: CodeFailedPrecondition, Message: fmt.Sprintf(
			"plugin %s: ABI %d.%d function %s is missing", path, v>>16, v&0xffff, name)}
	}
	p := &Plugin{api: api, path: path, abiVersion: v}
	if s := C.nta_plugin_info(api); s != nil {
		p.infoJSON = C.GoString(s)
	} else {
		p.infoJSON = "{}"
	}
	if err := json.Unmarshal([]byte(p.infoJSON), &p.info); err != nil {
		return nil, &Error{Code: CodeFailedPrecondition, Message: fmt.Sprintf("plugin %s: plugin_info is not JSON: %v", path, err)}
	}
	plugins[path] = p
	return p, nil
}

// Path is the file the plugin was loaded from.
func (p *Plugin) Path() string { return p.path }

// ABIVersion is (major << 16) | minor as reported by the plugin.
func (p *Plugin) ABIVersion() uint32 { return p.abiVersion }

// Info is the plugin's static description; InfoJSON the raw JSON.
func (p *Plugin) Info() PluginInfo { return p.info }
func (p *Plugin) InfoJSON() string { return p.infoJSON }

// Name is the NAT _type the plugin implements.
func (p *Plugin) Name() string { return p.info.Name }

// takeError converts a returned error pointer into a Go error and frees it.
func (p *Plugin) takeError(e *C.nat_trainer_adapter_error) error {
	if e == nil {
		return nil
	}
	defer C.nta_error_free(p.api, e)
	code := Code(C.nta_error_code(p.api, e))
	msg := ""
	if m := C.nta_error_message(p.api, e); m != nil {
		msg = C.GoString(m)
	}
	return &Error{Code: code, Message: msg}
}

// takeBuffer copies a returned buffer into Go memory and frees it; nil for NULL.
func (p *Plugin) takeBuffer(b *C.nat_trainer_adapter_buffer) []byte {
	if b == nil {
		return nil
	}
	defer C.nta_buffer_free(p.api, b)
	n := C.nta_buffer_size(p.api, b)
	if n == 0 {
		return []byte{}
	}
	return C.GoBytes(unsafe.Pointer(C.nta_buffer_data(p.api, b)), C.int(n))
}

// jsonBytes gives the JSON of v: []byte, string and json.RawMessage are
// taken as JSON text, anything else is marshalled.
func jsonBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return []byte("{}"), nil
	case []byte:
		return x, nil
	case json.RawMessage:
		return x, nil
	case string:
		return []byte(x), nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, &Error{Code: CodeInvalidArgument, Message: err.Error()}
		}
		return b, nil
	}
}

// cbytes is a pointer and length of b for the duration of one call (b holds
// no Go pointers, so passing it to C is allowed).
func cbytes(b []byte) (*C.char, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// Adapter is an adapter instance. All methods are safe for concurrent use;
// Close must not race with new calls (calls in progress are woken and return
// ErrCancelled).
type Adapter struct {
	plugin *Plugin
	mu     sync.Mutex // guards handle only, never held during a C call
	handle *C.nat_trainer_adapter
}

// NewAdapter creates an adapter from its config (NAT's trainer adapter
// config as JSON text or any value that marshals to it). No network traffic.
func (p *Plugin) NewAdapter(config any) (*Adapter, error) {
	data, err := jsonBytes(config)
	if err != nil {
		return nil, err
	}
	ptr, n := cbytes(data)
	var h *C.nat_trainer_adapter
	cerr := C.nta_create(p.api, ptr, n, &h)
	runtime.KeepAlive(data)
	if err := p.takeError(cerr); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, &Error{Code: CodeInternal, Message: "nat_trainer_adapter_create returned no adapter"}
	}
	a := &Adapter{plugin: p, handle: h}
	runtime.SetFinalizer(a, (*Adapter).Close)
	return a, nil
}

// Plugin is the plugin that created the adapter.
func (a *Adapter) Plugin() *Plugin { return a.plugin }

// Close destroys the adapter, cancelling its running jobs. Idempotent.
func (a *Adapter) Close() error {
	a.mu.Lock()
	h := a.handle
	a.handle = nil
	a.mu.Unlock()
	if h != nil {
		runtime.SetFinalizer(a, nil)
		C.nta_destroy(a.plugin.api, h)
	}
	return nil
}

func (a *Adapter) h() (*C.nat_trainer_adapter, error) {
	a.mu.Lock()
	h := a.handle
	a.mu.Unlock()
	if h == nil {
		return nil, &Error{Code: CodeFailedPrecondition, Message: "the adapter is closed"}
	}
	return h, nil
}

// callOut runs a C function with one JSON input and one buffer output.
func (a *Adapter) callOut(in []byte, call func(h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error) ([]byte, error) {
	h, err := a.h()
	if err != nil {
		return nil, err
	}
	p, n := cbytes(in)
	var out *C.nat_trainer_adapter_buffer
	cerr := call(h, p, n, &out)
	runtime.KeepAlive(in)
	runtime.KeepAlive(a)
	if err := a.plugin.takeError(cerr); err != nil {
		C.nta_buffer_free(a.plugin.api, out) // NULL on error: a no-op
		return nil, err
	}
	return a.plugin.takeBuffer(out), nil
}

func (a *Adapter) callIn(in []byte, call func(h *C.nat_trainer_adapter, p *C.char, n C.size_t) *C.nat_trainer_adapter_error) error {
	h, err := a.h()
	if err != nil {
		return err
	}
	p, n := cbytes(in)
	cerr := call(h, p, n)
	runtime.KeepAlive(in)
	runtime.KeepAlive(a)
	return a.plugin.takeError(cerr)
}

func required(b []byte, what string) ([]byte, error) {
	if b == nil {
		return nil, &Error{Code: CodeInternal, Message: what + " returned no buffer"}
	}
	return b, nil
}

func decode[T any](b []byte, err error, what string) (T, error) {
	var v T
	if err != nil {
		return v, err
	}
	if b, err = required(b, what); err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, &Error{Code: CodeInternal, Message: fmt.Sprintf("%s returned invalid JSON: %v", what, err)}
	}
	return v, nil
}

// Initialize is NAT's initialize; runConfig is the FinetuneConfig (nil: {}).
func (a *Adapter) Initialize(runConfig any) error {
	data, err := jsonBytes(runConfig)
	if err != nil {
		return err
	}
	api := a.plugin.api
	return a.callIn(data, func(h *C.nat_trainer_adapter, p *C.char, n C.size_t) *C.nat_trainer_adapter_error {
		return C.nta_initialize(api, h, p, n)
	})
}

// IsHealthy reports whether the backend is reachable.
func (a *Adapter) IsHealthy() (bool, error) {
	h, err := a.h()
	if err != nil {
		return false, err
	}
	var healthy C.int32_t
	cerr := C.nta_is_healthy(a.plugin.api, h, &healthy)
	runtime.KeepAlive(a)
	if err := a.plugin.takeError(cerr); err != nil {
		return false, err
	}
	return healthy != 0, nil
}

// SubmitJSON submits a TrajectoryCollection as JSON and returns the
// TrainingJobRef JSON.
func (a *Adapter) SubmitJSON(collection []byte) ([]byte, error) {
	api := a.plugin.api
	b, err := a.callOut(collection, func(h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return C.nta_submit(api, h, p, n, out)
	})
	if err != nil {
		return nil, err
	}
	return required(b, "submit")
}

// Submit validates and submits a TrajectoryCollection (a *TrajectoryCollection,
// JSON text, or anything that marshals to one) and returns its job reference.
func (a *Adapter) Submit(collection any) (JobRef, error) {
	data, err := jsonBytes(collection)
	if err != nil {
		return JobRef{}, err
	}
	b, err := a.SubmitJSON(data)
	return decode[JobRef](b, err, "submit")
}

// Resubmit submits a collection again from its spool file and returns the
// new job's reference. Every submit first writes its collection to the
// adapter's spool directory (config native.spool_dir) and names the file in
// the job status metadata ("spool_file"); the file is removed only when
// training completed. After a failed or canceled job, or a crash, pass that
// path here: the new job has the same run_id and keeps the same spool file.
// ErrNotFound if the file does not exist; otherwise the errors of Submit.
// ErrFailedPrecondition for an ABI 1.0 plugin, which has no
// nat_trainer_adapter_resubmit.
func (a *Adapter) Resubmit(spoolPath string) (JobRef, error) {
	api := a.plugin.api
	if api.resubmit == nil {
		return JobRef{}, &Error{Code: CodeFailedPrecondition, Message: fmt.Sprintf(
			"plugin %s does not implement nat_trainer_adapter_resubmit (ABI %d.%d)",
			a.plugin.path, a.plugin.abiVersion>>16, a.plugin.abiVersion&0xffff)}
	}
	b, err := a.callOut([]byte(spoolPath), func(h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return C.nta_resubmit(api, h, p, n, out)
	})
	return decode[JobRef](b, err, "resubmit")
}

// SpooledJSON lists the collections in a spool directory (spoolDir ""
// lists the adapter's own, config native.spool_dir): what Resubmit can take,
// as the JSON object of nat_trainer_adapter_spooled (ABI 1.1).
// ErrFailedPrecondition for an ABI 1.0 plugin, or an adapter keeping no spool.
func (a *Adapter) SpooledJSON(spoolDir string) ([]byte, error) {
	api := a.plugin.api
	if api.spooled == nil {
		return nil, &Error{Code: CodeFailedPrecondition, Message: fmt.Sprintf(
			"plugin %s does not implement nat_trainer_adapter_spooled (ABI %d.%d)",
			a.plugin.path, a.plugin.abiVersion>>16, a.plugin.abiVersion&0xffff)}
	}
	// An empty slice passes NULL: the adapter's own directory.
	return a.callOut([]byte(spoolDir), func(h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return C.nta_spooled(api, h, p, n, out)
	})
}

func (a *Adapter) refOut(ref JobRef, call func(api *C.nta_api, h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error) ([]byte, error) {
	data, err := json.Marshal(ref)
	if err != nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: err.Error()}
	}
	api := a.plugin.api
	return a.callOut(data, func(h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return call(api, h, p, n, out)
	})
}

// Status is the current TrainingJobStatus of a job (never blocks).
func (a *Adapter) Status(ref JobRef) (JobStatus, error) {
	b, err := a.refOut(ref, func(api *C.nta_api, h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return C.nta_status(api, h, p, n, out)
	})
	return decode[JobStatus](b, err, "status")
}

// Wait blocks until the job is completed, failed or canceled (NAT's
// wait_until_complete). pollInterval only bounds re-checks; timeout <= 0
// waits without limit, otherwise ErrDeadlineExceeded when it runs out.
func (a *Adapter) Wait(ref JobRef, pollInterval, timeout time.Duration) (JobStatus, error) {
	poll := C.double(pollInterval.Seconds())
	t := C.double(timeout.Seconds())
	b, err := a.refOut(ref, func(api *C.nta_api, h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return C.nta_wait_until_complete(api, h, p, n, poll, t, out)
	})
	return decode[JobStatus](b, err, "wait_until_complete")
}

// Cancel cancels a pending or running job (a no-op on a finished one).
func (a *Adapter) Cancel(ref JobRef) error {
	data, err := json.Marshal(ref)
	if err != nil {
		return &Error{Code: CodeInvalidArgument, Message: err.Error()}
	}
	api := a.plugin.api
	return a.callIn(data, func(h *C.nat_trainer_adapter, p *C.char, n C.size_t) *C.nat_trainer_adapter_error {
		return C.nta_cancel(api, h, p, n)
	})
}

// Jobs lists every job of the adapter, oldest first.
func (a *Adapter) Jobs() ([]Job, error) {
	api := a.plugin.api
	b, err := a.callOut(nil, func(h *C.nat_trainer_adapter, _ *C.char, _ C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return C.nta_jobs(api, h, out)
	})
	doc, err := decode[struct {
		Jobs []Job `json:"jobs"`
	}](b, err, "jobs")
	return doc.Jobs, err
}

// NextEvent pulls the next event of a job: nil if none arrived within
// timeout (< 0: wait without limit; 0: do not wait) or if the final event
// was already delivered.
func (a *Adapter) NextEvent(ref JobRef, timeout time.Duration) (*Event, error) {
	t := C.double(timeout.Seconds())
	if timeout < 0 {
		t = -1
	}
	b, err := a.refOut(ref, func(api *C.nta_api, h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return C.nta_next_event(api, h, p, n, t, out)
	})
	if err != nil || b == nil {
		return nil, err
	}
	ev, err := decode[Event](b, nil, "next_event")
	if err != nil {
		return nil, err
	}
	ev.Raw = json.RawMessage(b)
	return &ev, nil
}

// Events iterates over a job's events, waiting without limit for each, and
// ends after the final one ("final": true). An error ends the iteration.
func (a *Adapter) Events(ref JobRef) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			ev, err := a.NextEvent(ref, -1)
			if err != nil {
				yield(Event{}, err)
				return
			}
			if ev == nil || !yield(*ev, nil) || ev.Final {
				return
			}
		}
	}
}

// LogProgress is NAT's log_progress: it appends a JSON line to
// <outputDir>/trainer_adapter_<run_id>.jsonl ("" for NAT's default dir).
func (a *Adapter) LogProgress(ref JobRef, metrics any, outputDir string) error {
	r, err := json.Marshal(ref)
	if err != nil {
		return &Error{Code: CodeInvalidArgument, Message: err.Error()}
	}
	m, err := jsonBytes(metrics)
	if err != nil {
		return err
	}
	h, err := a.h()
	if err != nil {
		return err
	}
	var dir *C.char
	if outputDir != "" {
		dir = C.CString(outputDir)
		defer C.free(unsafe.Pointer(dir))
	}
	rp, rn := cbytes(r)
	mp, mn := cbytes(m)
	cerr := C.nta_log_progress(a.plugin.api, h, rp, rn, mp, mn, dir)
	runtime.KeepAlive(r)
	runtime.KeepAlive(m)
	runtime.KeepAlive(a)
	return a.plugin.takeError(cerr)
}

// Convert validates and converts a TrajectoryCollection exactly as Submit
// would and returns what would be sent (for openpipe-art the /_train_model
// body), without sending anything.
func (a *Adapter) Convert(collection any) (json.RawMessage, error) {
	data, err := jsonBytes(collection)
	if err != nil {
		return nil, err
	}
	api := a.plugin.api
	b, err := a.callOut(data, func(h *C.nat_trainer_adapter, p *C.char, n C.size_t, out **C.nat_trainer_adapter_buffer) *C.nat_trainer_adapter_error {
		return C.nta_convert(api, h, p, n, out)
	})
	if err != nil {
		return nil, err
	}
	b, err = required(b, "convert")
	return json.RawMessage(b), err
}
