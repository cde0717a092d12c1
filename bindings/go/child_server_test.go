package nattrainer_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// startChildServer starts a reference server that prints one JSON line once
// it listens (its ports), and decodes that line into ready. On error nothing
// is left running; otherwise the caller stops the returned command.
func startChildServer(ready any, timeout time.Duration, name string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(timeout):
	}
	if err := json.Unmarshal([]byte(line), ready); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s printed no ready line (%q): %v", args[0], line, err)
	}
	return cmd, nil
}
