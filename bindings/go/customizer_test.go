package nattrainer_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nat "github.com/nat-trainer-adapter/bindings/go/nattrainer"
)

// startNemoServer starts a NeMo Microservices server for this test only
// (it prints {"port": N} once it listens); the test's cleanup stops it.
func startNemoServer(t *testing.T) string {
	t.Helper()
	python := os.Getenv("NEMO_SERVER_PYTHON")
	if python == "" {
		python = filepath.Join(repo(), ".venv", "nat-customizer", "bin", "python")
	}
	script := required(t, "NEMO_SERVER_SCRIPT", filepath.Join(repo(), "tests", "nemo_server", "server.py"),
		"the NeMo Microservices server")
	var ready struct {
		Port int `json:"port"`
	}
	cmd, err := startChildServer(&ready, 120*time.Second, python, script, "--port", "0")
	if err != nil {
		t.Fatalf("the NeMo server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if ready.Port == 0 {
		t.Fatalf("the NeMo server printed no port")
	}
	return fmt.Sprintf("http://127.0.0.1:%d", ready.Port)
}

// One NeMo Customizer cycle: the job completes and the server holds NAT's
// dataset files.
func TestCustomizerCycle(t *testing.T) {
	path := required(t, "NAT_CUSTOMIZER_PLUGIN",
		filepath.Join(repo(), "build", "plugin", "libnat_trainer_adapter_nemo_customizer.so"), "the NeMo Customizer plugin")
	p, err := nat.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "nemo_customizer_trainer_adapter" || p.Info().Backend != "nemo-customizer" {
		t.Fatalf("info: %s", p.InfoJSON())
	}
	url := startNemoServer(t)
	a, err := p.NewAdapter(map[string]any{
		"_type": "nemo_customizer_trainer_adapter", "entity_host": url, "datastore_host": url,
		"hf_token": "bindings-token", "namespace": "bindings-ns",
		"customization_config": "meta/llama-3.2-1b-instruct@v1.0.0+A100", "poll_interval_seconds": 0.05,
		"native": map[string]any{"spool_dir": t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Initialize(map[string]any{}); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(repo(), "tests", "integration", "customizer_data")
	collection, err := os.ReadFile(filepath.Join(data, "dpo_collection.json"))
	if err != nil {
		t.Fatal(err)
	}
	refJSON, err := a.SubmitJSON(collection)
	if err != nil {
		t.Fatal(err)
	}
	var ref nat.JobRef
	if err := json.Unmarshal(refJSON, &ref); err != nil {
		t.Fatal(err)
	}
	if ref.Backend != "nemo-customizer" || ref.Metadata["job_id"] == nil {
		t.Fatalf("job ref: %s", refJSON)
	}
	done, err := a.Wait(ref, 50*time.Millisecond, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != nat.StatusCompleted {
		t.Fatalf("status: %+v", done)
	}
	resp, err := http.Get(url + "/_test/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var state struct {
		Files map[string]string `json:"files"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil {
		t.Fatal(err)
	}
	for name, expected := range map[string]string{
		"training/training_file.jsonl":     "expected_training_last.jsonl",
		"validation/validation_file.jsonl": "expected_validation_last.jsonl",
	} {
		want, err := os.ReadFile(filepath.Join(data, expected))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for path, got := range state.Files {
			if strings.HasSuffix(path, "/"+name) {
				found = true
				if got != string(want) {
					t.Fatalf("%s: uploaded %q, NAT writes %q", name, got, want)
				}
			}
		}
		if !found {
			t.Fatalf("%s not uploaded; files: %v", name, state.Files)
		}
	}
}
