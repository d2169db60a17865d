package mcpserver

import (
	"context"
	"fmt"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// VerifyTaskOutput is verify_task's output.
type VerifyTaskOutput struct {
	TaskID string `json:"task_id" jsonschema:"The task's id."`
	// Verified says that every event read verified: seqs 1 to LastSeq
	// without gaps, each digest and hash right, each event chained to the
	// one before.
	Verified bool  `json:"verified" jsonschema:"Whether every event read verified: contiguous seqs from 1, right digests and hashes, each event chained to the one before."`
	Events   int64 `json:"events" jsonschema:"How many events verified."`
	LastSeq  int64 `json:"last_seq" jsonschema:"The seq of the last event that verified."`
	// HeadHash is the hash of the last event that verified (lowercase hex):
	// keep it to check later that the log was not rewritten.
	HeadHash string `json:"head_hash" jsonschema:"The hash of the last event that verified (hex); keep it to check later that the log was not rewritten."`
	Ended    bool   `json:"ended" jsonschema:"Whether the log read ends with the task's terminal event; if not, events appended later were not verified."`
	// Error says which event failed and why, when one did.
	Error string `json:"error,omitempty" jsonschema:"Which event failed verification and why, when one did."`
}

func (t *tools) addVerifyTask(s *mcp.Server) error {
	return addTool(s, t, &mcp.Tool{
		Name:  "verify_task",
		Title: "Verify a task's log",
		Description: "Reads all of a task's events and verifies their hash chain: that no event was changed, removed or reordered. " +
			"Answers verified, the number of events, the last seq and the head hash; a task still running verifies up to its latest event.",
		Annotations: &mcp.ToolAnnotations{Title: "Verify a task's log", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: jsonschema.Ptr(false)},
	}, func(s *jsonschema.Schema) { taskIDSchema(prop(s, "task_id")) }, t.verifyTask)
}

func (t *tools) verifyTask(ctx context.Context, c *call, in TaskInput) (VerifyTaskOutput, string, error) {
	id, err := parseTaskID(in.TaskID)
	if err != nil {
		return VerifyTaskOutput{}, "", err
	}
	p := t.progress(c.req)
	lastNotice := time.Now()
	ver, err := c.api.VerifyTask(ctx, id, func(events int64) {
		if time.Since(lastNotice) >= t.cfg.ProgressInterval {
			lastNotice = time.Now()
			p.notify(ctx, float64(events), 0, fmt.Sprintf("verified %d events of task %s", events, id))
		}
	})
	if err != nil {
		return VerifyTaskOutput{}, "", err
	}
	out := VerifyTaskOutput{TaskID: id.String(), Verified: ver.Verified, Events: ver.Events, LastSeq: ver.LastSeq,
		HeadHash: ver.HeadHash, Ended: ver.Ended, Error: ver.Problem()}
	if ver.Failure != nil {
		return out, fmt.Sprintf("Task %s does NOT verify: %s. The %d events before it verified (up to seq %d).", id, out.Error, out.Events, out.LastSeq), nil
	}
	text := fmt.Sprintf("Task %s verifies: %d events, seq 1 to %d, chained without a gap; head hash %s.", id, out.Events, out.LastSeq, out.HeadHash)
	if !out.Ended {
		text += " The task has not ended: events appended later are not covered."
	}
	return out, text, nil
}
