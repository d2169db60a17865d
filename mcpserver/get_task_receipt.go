package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/integrity"
)

// TaskReceiptOutput is get_task_receipt's output.
type TaskReceiptOutput struct {
	TaskID  string `json:"task_id" jsonschema:"The task's id."`
	State   string `json:"state" jsonschema:"The state the task ended in: succeeded, failed, canceled or timed_out."`
	LastSeq int64  `json:"last_seq" jsonschema:"The seq of the task's terminal event."`
	// LeafIndex and TreeSize place the terminal event in the transparency
	// log's signed tree.
	LeafIndex int64  `json:"leaf_index" jsonschema:"The terminal event's leaf in the transparency log (its feed position)."`
	TreeSize  int64  `json:"tree_size" jsonschema:"The size of the signed tree that includes it."`
	KeyID     string `json:"key_id" jsonschema:"The key that signed the receipt."`
	// Receipt is the signed receipt, as the HTTP API serves it.
	Receipt string `json:"receipt" jsonschema:"The signed receipt as JSON: save it to a file and verify it offline with axontask verify -receipt FILE -receipt-key KEY EXPORT."`
}

func (t *tools) addGetTaskReceipt(s *mcp.Server) error {
	return addTool(s, t, &mcp.Tool{
		Name:  "get_task_receipt",
		Title: "Get an ended task's signed receipt",
		Description: "Returns the Ed25519-signed receipt of an ended task: its final state, last seq and head hash, and the proof that its terminal event is in the transparency log's signed tree. " +
			"Anyone holding the receipt, the task's events and the published keys can check it offline. Only for ended tasks, on plans with receipts.",
		Annotations: &mcp.ToolAnnotations{Title: "Get an ended task's signed receipt", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: jsonschema.Ptr(false)},
	}, func(s *jsonschema.Schema) { taskIDSchema(prop(s, "task_id")) }, t.getTaskReceipt)
}

func (t *tools) getTaskReceipt(ctx context.Context, c *call, in TaskInput) (TaskReceiptOutput, string, error) {
	id, err := parseTaskID(in.TaskID)
	if err != nil {
		return TaskReceiptOutput{}, "", err
	}
	r, err := c.api.TaskReceipt(ctx, id)
	if err != nil {
		return TaskReceiptOutput{}, "", err
	}
	text, err := integrity.CheckpointText([]byte(r.Checkpoint))
	if err != nil {
		return TaskReceiptOutput{}, "", err
	}
	cp, err := integrity.ParseCheckpoint(text)
	if err != nil {
		return TaskReceiptOutput{}, "", err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return TaskReceiptOutput{}, "", err
	}
	out := TaskReceiptOutput{TaskID: r.TaskID, State: string(r.State), LastSeq: r.LastSeq, LeafIndex: r.LeafIndex, TreeSize: cp.Size, KeyID: r.KeyID, Receipt: string(raw)}
	return out, fmt.Sprintf("Task %s ended %s at seq %d; its terminal event is leaf %d of the signed tree of size %d (log %s). Receipt signed by %s.",
		out.TaskID, out.State, out.LastSeq, out.LeafIndex, out.TreeSize, cp.Origin, out.KeyID), nil
}
