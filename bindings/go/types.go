package nattrainer

import "encoding/json"

// TrainingStatus is NAT's TrainingStatusEnum.
type TrainingStatus string

const (
	StatusPending   TrainingStatus = "pending"
	StatusRunning   TrainingStatus = "running"
	StatusCompleted TrainingStatus = "completed"
	StatusFailed    TrainingStatus = "failed"
	StatusCanceled  TrainingStatus = "canceled"
)

// Terminal reports whether the status is completed, failed or canceled.
func (s TrainingStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCanceled
}

// JobRef is NAT's TrainingJobRef.
type JobRef struct {
	RunID    string         `json:"run_id"`
	Backend  string         `json:"backend"`
	Metadata map[string]any `json:"metadata"`
}

// JobStatus is NAT's TrainingJobStatus; Progress is a percentage.
type JobStatus struct {
	RunID    string         `json:"run_id"`
	Backend  string         `json:"backend"`
	Status   TrainingStatus `json:"status"`
	Progress *float64       `json:"progress"`
	Message  *string        `json:"message"`
	Metadata map[string]any `json:"metadata"`
}

// Job is one entry of Adapter.Jobs.
type Job struct {
	JobRef JobRef    `json:"job_ref"`
	Status JobStatus `json:"status"`
}

// Event is a training event: Type is "started", "step", or the final
// "completed" | "failed" | "canceled" (Final true, with the job's Status).
// Raw is the whole event, with the fields not mapped here.
type Event struct {
	RunID            string          `json:"run_id"`
	JobID            any             `json:"job_id"`
	Seq              int64           `json:"seq"`
	Type             string          `json:"type"`
	Final            bool            `json:"final"`
	Step             int64           `json:"step"`
	NumGradientSteps int64           `json:"num_gradient_steps"`
	Metrics          map[string]any  `json:"metrics"`
	Status           *JobStatus      `json:"status"`
	Raw              json.RawMessage `json:"-"`
}

// EpisodeItemRole is NAT's EpisodeItemRole.
type EpisodeItemRole string

const (
	RoleUser        EpisodeItemRole = "user"
	RoleAssistant   EpisodeItemRole = "assistant"
	RoleSystem      EpisodeItemRole = "system"
	RoleFunction    EpisodeItemRole = "function"
	RoleTool        EpisodeItemRole = "tool"
	RoleEnvironment EpisodeItemRole = "environment"
	RoleOther       EpisodeItemRole = "other"
)

// EpisodeItem is NAT's EpisodeItem; an assistant item needs Logprobs.
type EpisodeItem struct {
	Role     EpisodeItemRole `json:"role"`
	Content  string          `json:"content"`
	Logprobs any             `json:"logprobs"`
	Metadata map[string]any  `json:"metadata"`
}

// Trajectory is NAT's Trajectory (with EpisodeItem episodes).
type Trajectory struct {
	Episode       []EpisodeItem  `json:"episode"`
	Reward        float64        `json:"reward"`
	ShapedRewards []float64      `json:"shaped_rewards"`
	Metadata      map[string]any `json:"metadata"`
}

// TrajectoryCollection is NAT's TrajectoryCollection: groups of trajectories.
type TrajectoryCollection struct {
	Trajectories [][]Trajectory `json:"trajectories"`
	RunID        string         `json:"run_id"`
}

// PluginInfo is the static description returned by nat_trainer_adapter_plugin_info.
type PluginInfo struct {
	Name         string          `json:"name"`
	Backend      string          `json:"backend"`
	Version      string          `json:"version"`
	ABI          string          `json:"abi"`
	Description  string          `json:"description"`
	ConfigSchema json.RawMessage `json:"config_schema"`
}
