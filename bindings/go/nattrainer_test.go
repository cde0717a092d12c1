package nattrainer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	nat "github.com/nat-trainer-adapter/bindings/go/nattrainer"
)

const firstMessageRule = "The first message in the trajectory must be from 'user' or 'system'."

func repo() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// required gives the path in env var name, which must exist when set (meson
// sets it), else def; it skips the test when def is missing too.
func required(t *testing.T, name, def, what string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		if _, err := os.Stat(v); err != nil {
			t.Fatalf("%s=%s: %s does not exist", name, v, what)
		}
		return v
	}
	if _, err := os.Stat(def); err != nil {
		t.Skipf("%s not found at %s (set %s)", what, def, name)
	}
	return def
}

func openPlugin(t *testing.T) *nat.Plugin {
	t.Helper()
	path := required(t, "NAT_TRAINER_ADAPTER_PLUGIN",
		filepath.Join(repo(), "build", "plugin", "libnat_trainer_adapter_openpipe_art.so"), "the openpipe-art plugin")
	p, err := nat.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return p
}

type artServer struct {
	cmd         *exec.Cmd
	controlPort int
}

var (
	serverOnce sync.Once
	server     *artServer
	serverErr  error
	serverSkip string
)

// startServer starts the reference server once for the whole test binary;
// TestMain stops it.
func startServer(t *testing.T) *artServer {
	t.Helper()
	python := required(t, "ART_SERVER_PYTHON", filepath.Join(repo(), ".venv", "art-0.4", "bin", "python"), "the ART 0.4 venv interpreter")
	script := required(t, "ART_SERVER_SCRIPT", filepath.Join(repo(), "tests", "art_server", "server.py"), "the ART reference server")
	serverOnce.Do(func() {
		dataDir, err := os.MkdirTemp("", "art-server-go-")
		if err != nil {
			serverErr = err
			return
		}
		var ready struct {
			ControlPort int `json:"control_port"`
		}
		cmd, err := startChildServer(&ready, 180*time.Second, python, script, "--dialect", "0.4", "--port", "0",
			"--inference-port", "0", "--data-dir", dataDir)
		if err != nil {
			serverErr = fmt.Errorf("the ART server: %v", err)
			return
		}
		if ready.ControlPort == 0 {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			serverErr = fmt.Errorf("the ART server printed no control_port")
			return
		}
		server = &artServer{cmd: cmd, controlPort: ready.ControlPort}
	})
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return server
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		_ = server.cmd.Process.Kill()
		_ = server.cmd.Wait()
	}
	os.Exit(code)
}

func config(port int) map[string]any {
	return map[string]any{
		"_type": "openpipe_art_trainer_adapter",
		"backend": map[string]any{"ip": "127.0.0.1", "port": port, "name": "m", "project": "p",
			"base_model": "Qwen/Qwen2.5-0.5B-Instruct", "api_key": "default"},
	}
}

// configWithSpool is config(port) with spooled collections in spoolDir
// rather than the working directory.
func configWithSpool(port int, spoolDir string) map[string]any {
	c := config(port)
	c["native"] = map[string]any{"spool_dir": spoolDir}
	return c
}

// setFaults POSTs /_test/faults: the server's injected faults ({} clears them).
func (s *artServer) setFaults(t *testing.T, faults map[string]any) {
	t.Helper()
	body, err := json.Marshal(faults)
	if err != nil {
		t.Fatal(err)
	}
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(fmt.Sprintf("http://127.0.0.1:%d/_test/faults", s.controlPort), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /_test/faults: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_test/faults: %s", resp.Status)
	}
}

var logprobs = map[string]any{
	"content": []any{map[string]any{"token": "token_id:100", "bytes": []int{104}, "logprob": -0.5, "top_logprobs": []any{}}},
	"refusal": nil,
}

func trajectory(reward float64) nat.Trajectory {
	return nat.Trajectory{
		Episode: []nat.EpisodeItem{
			{Role: nat.RoleSystem, Content: "You play tic-tac-toe."},
			{Role: nat.RoleUser, Content: "Your move."},
			{Role: nat.RoleAssistant, Content: "h", Logprobs: logprobs},
		},
		Reward: reward,
	}
}

func collection(runID string) *nat.TrajectoryCollection {
	return &nat.TrajectoryCollection{RunID: runID, Trajectories: [][]nat.Trajectory{{trajectory(1.0), trajectory(0.0)}}}
}

func TestPluginInfo(t *testing.T) {
	p := openPlugin(t)
	if p.Name() != "openpipe_art_trainer_adapter" || p.Info().Backend != "openpipe-art" {
		t.Fatalf("info: %s", p.InfoJSON())
	}
	if p.ABIVersion()>>16 != nat.ABIMajor {
		t.Fatalf("ABI %#x", p.ABIVersion())
	}
	if q, _ := nat.Open(p.Path()); q != p {
		t.Fatal("opening the same path twice gave another Plugin")
	}
}

func TestFullCycle(t *testing.T) {
	p := openPlugin(t)
	s := startServer(t)
	a, err := p.NewAdapter(configWithSpool(s.controlPort, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	if _, err := a.Submit(collection("bindings_go_early")); !errors.Is(err, nat.ErrFailedPrecondition) {
		t.Fatalf("submit before initialize: %v", err)
	}
	if err := a.Initialize(nil); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if ok, err := a.IsHealthy(); err != nil || !ok {
		t.Fatalf("IsHealthy: %v %v", ok, err)
	}
	ref, err := a.Submit(collection("bindings_go_run"))
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if ref.RunID != "bindings_go_run" || ref.Backend != "openpipe-art" {
		t.Fatalf("ref: %+v", ref)
	}

	var events []nat.Event
	for ev, err := range a.Events(ref) {
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		t.Fatal("no events")
	}
	last := events[len(events)-1]
	if !last.Final || last.Type != "completed" || last.Status == nil || last.Status.Status != nat.StatusCompleted {
		t.Fatalf("last event: %s", last.Raw)
	}
	sawStep := false
	for i, ev := range events {
		if ev.RunID != "bindings_go_run" || (i > 0 && ev.Seq <= events[i-1].Seq) {
			t.Fatalf("event %d: %s", i, ev.Raw)
		}
		sawStep = sawStep || ev.Type == "step"
	}
	if !sawStep {
		t.Fatal("no step event")
	}
	if ev, err := a.NextEvent(ref, 0); ev != nil || err != nil {
		t.Fatalf("after the final event: %v %v", ev, err)
	}

	st, err := a.Wait(ref, 500*time.Millisecond, 120*time.Second)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if st.Status != nat.StatusCompleted || st.Progress == nil || *st.Progress != 100 {
		t.Fatalf("status: %+v", st)
	}
	if st2, err := a.Status(nat.JobRef{RunID: "bindings_go_run", Backend: "openpipe-art"}); err != nil || st2.Status != nat.StatusCompleted {
		t.Fatalf("Status: %+v %v", st2, err)
	}
	jobs, err := a.Jobs()
	if err != nil || len(jobs) != 1 || jobs[0].JobRef.RunID != "bindings_go_run" || jobs[0].Status.Status != nat.StatusCompleted {
		t.Fatalf("Jobs: %+v %v", jobs, err)
	}
	if err := a.Cancel(ref); err != nil {
		t.Fatalf("Cancel of a finished job: %v", err)
	}
	dir := t.TempDir()
	if err := a.LogProgress(ref, map[string]any{"epoch": 0, "avg_reward": 0.5}, dir); err != nil {
		t.Fatalf("LogProgress: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "trainer_adapter_bindings_go_run.jsonl")); err != nil || !strings.Contains(string(b), `"avg_reward"`) {
		t.Fatalf("log file: %q %v", b, err)
	}
	if body, err := a.Convert(collection("bindings_go_convert")); err != nil || !json.Valid(body) {
		t.Fatalf("Convert: %v", err)
	}
}

func TestResubmitFromSpool(t *testing.T) {
	p := openPlugin(t)
	s := startServer(t)
	spoolDir := t.TempDir()
	a, err := p.NewAdapter(configWithSpool(s.controlPort, spoolDir))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Initialize(nil); err != nil {
		t.Fatalf("Initialize: %v", err)
	}

	missing := filepath.Join(spoolDir, "no_such_run.json")
	_, err = a.Resubmit(missing)
	var e *nat.Error
	if !errors.As(err, &e) || int32(e.Code) != 2 || !errors.Is(err, nat.ErrNotFound) ||
		!strings.Contains(e.Message, missing) {
		t.Fatalf("resubmit of a missing file: want NOT_FOUND naming %s, got %v", missing, err)
	}

	// Three rewards: more than one gradient step, so cutting the stream after
	// the first fails the job with its collection still spooled.
	spooled := &nat.TrajectoryCollection{RunID: "bindings_go_spooled",
		Trajectories: [][]nat.Trajectory{{trajectory(1.0), trajectory(0.0), trajectory(0.5)}}}
	s.setFaults(t, map[string]any{"train": map[string]any{"cut_after": 1}})
	cleared := false
	clearFaults := func() {
		if !cleared {
			cleared = true
			s.setFaults(t, map[string]any{})
		}
	}
	defer clearFaults()
	ref, err := a.Submit(spooled)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	failed, err := a.Wait(ref, 500*time.Millisecond, 120*time.Second)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	clearFaults()
	if failed.Status != nat.StatusFailed {
		t.Fatalf("want a failed job, got %+v", failed)
	}
	spoolFile, _ := failed.Metadata["spool_file"].(string)
	if st, err := os.Stat(spoolFile); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("metadata.spool_file %q: %v", spoolFile, err)
	}
	if filepath.Dir(spoolFile) != spoolDir {
		t.Fatalf("spool file %s is not in %s", spoolFile, spoolDir)
	}
	// SpooledJSON (ABI 1.1) lists it, in the configured directory or the one given.
	for _, dir := range []string{"", spoolDir} {
		listing, err := a.SpooledJSON(dir)
		if err != nil {
			t.Fatalf("SpooledJSON(%q): %v", dir, err)
		}
		var l struct {
			Collections []struct{ Path, State string }
		}
		if err := json.Unmarshal(listing, &l); err != nil || len(l.Collections) != 1 ||
			l.Collections[0].Path != spoolFile || l.Collections[0].State != "ready" {
			t.Fatalf("SpooledJSON(%q): %s (%v)", dir, listing, err)
		}
	}

	again, err := a.Resubmit(spoolFile)
	if err != nil {
		t.Fatalf("Resubmit: %v", err)
	}
	if again.RunID != "bindings_go_spooled" || again.Backend != "openpipe-art" {
		t.Fatalf("ref: %+v", again)
	}
	done, err := a.Wait(again, 500*time.Millisecond, 120*time.Second)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if done.Status != nat.StatusCompleted || done.Metadata["spool_file"] != spoolFile || done.Metadata["spool_file_removed"] != true {
		t.Fatalf("after resubmit: %+v", done)
	}
	if _, err := os.Stat(spoolFile); !os.IsNotExist(err) {
		t.Fatalf("the spool file is still there: %v", err)
	}
}

func TestInvalidCollection(t *testing.T) {
	p := openPlugin(t)
	s := startServer(t)
	a, err := p.NewAdapter(config(s.controlPort))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	bad := collection("bindings_go_bad")
	bad.Trajectories[0][0].Episode = []nat.EpisodeItem{
		{Role: nat.RoleAssistant, Content: "h", Logprobs: logprobs},
		{Role: nat.RoleUser, Content: "Your move."},
	}
	check := func(err error) {
		t.Helper()
		var e *nat.Error
		if !errors.As(err, &e) || e.Code != nat.CodeInvalidArgument || !strings.Contains(e.Message, firstMessageRule) {
			t.Fatalf("want INVALID_ARGUMENT with %q, got %v", firstMessageRule, err)
		}
		if !errors.Is(err, nat.ErrInvalidArgument) || errors.Is(err, nat.ErrNotFound) {
			t.Fatalf("errors.Is: %v", err)
		}
	}
	_, err = a.Convert(bad)
	check(err)
	if err := a.Initialize("{}"); err != nil {
		t.Fatal(err)
	}
	_, err = a.Submit(bad)
	check(err)
}

func TestUnknownRunID(t *testing.T) {
	p := openPlugin(t)
	s := startServer(t)
	a, err := p.NewAdapter(config(s.controlPort))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.Status(nat.JobRef{RunID: "nope", Backend: "openpipe-art"})
	var e *nat.Error
	if !errors.As(err, &e) || e.Code != nat.CodeNotFound || !errors.Is(err, nat.ErrNotFound) {
		t.Fatalf("want NOT_FOUND, got %v", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	p := openPlugin(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	a, err := p.NewAdapter(config(port))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = a.Initialize(nil)
	var e *nat.Error
	if !errors.As(err, &e) || e.Code != nat.CodeUnavailable || !strings.Contains(e.Message, "Failed to connect to ART backend.") {
		t.Fatalf("want UNAVAILABLE, got %v", err)
	}
	if ok, err := a.IsHealthy(); err != nil || ok {
		t.Fatalf("IsHealthy: %v %v", ok, err)
	}
}

func TestClosedAdapterAndBadConfig(t *testing.T) {
	p := openPlugin(t)
	if _, err := p.NewAdapter("{not json"); !errors.Is(err, nat.ErrInvalidArgument) {
		t.Fatalf("bad config: %v", err)
	}
	a, err := p.NewAdapter(config(1))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close()
	if _, err := a.IsHealthy(); !errors.Is(err, nat.ErrFailedPrecondition) {
		t.Fatalf("closed adapter: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := nat.Open("/nonexistent/libnothing.so"); !errors.Is(err, nat.ErrFailedPrecondition) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := nat.Open("libc.so.6"); err == nil || !strings.Contains(err.Error(), "not a trainer adapter plugin") {
		t.Fatalf("libc: %v", err)
	}
}

func TestErrorCodes(t *testing.T) {
	e := &nat.Error{Code: 42, Message: "future"}
	if !errors.Is(e, nat.ErrInternal) || errors.Is(e, nat.ErrNotFound) {
		t.Fatal("unknown codes match ErrInternal only")
	}
	if nat.CodeDeadlineExceeded.String() != "DEADLINE_EXCEEDED" || nat.Code(42).String() != "UNKNOWN(42)" {
		t.Fatal("code names")
	}
	if got := (&nat.Error{Code: nat.CodeUnavailable, Message: "x"}).Error(); got != "nattrainer: UNAVAILABLE: x" {
		t.Fatal(got)
	}
	if errors.Is(e, &nat.Error{Code: 42, Message: "other"}) {
		t.Fatal("a sentinel has no message")
	}
}

func TestModelsJSON(t *testing.T) {
	b, err := json.Marshal(collection("r"))
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	_ = json.Unmarshal(b, &back)
	ep := back["trajectories"].([]any)[0].([]any)[0].(map[string]any)["episode"].([]any)
	if ep[0].(map[string]any)["logprobs"] != nil || ep[2].(map[string]any)["role"] != "assistant" {
		t.Fatalf("json: %s", b)
	}
	var st nat.JobStatus
	if err := json.Unmarshal([]byte(`{"run_id":"a","backend":"b","status":"canceled","progress":null,"message":null,"metadata":null}`), &st); err != nil || !st.Status.Terminal() || st.Progress != nil {
		t.Fatalf("%+v %v", st, err)
	}
}
