package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/integrity"
)

// maxCheckpointBytes bounds a checkpoint note: three lines and a few
// signature lines.
const maxCheckpointBytes = 64 << 10

// TaskReceipt returns an ended task's signed receipt (GET
// /mcp/tasks/{id}/receipt; the owning tenant only, scope tasks:read). Check
// it with integrity.VerifyReceiptExport against the task's events and keys
// pinned out of band (LogKeys serves them, but an auditor should not trust
// the server that signed to also name the key). On a plan without receipts
// it fails with an *APIError matching ErrForbidden; before the task has
// ended with one matching ErrInvalidInput.
func (c *Client) TaskReceipt(ctx context.Context, taskID uuid.UUID) (integrity.Receipt, error) {
	var out integrity.Receipt
	if err := c.do(ctx, call{method: http.MethodGet, path: "/mcp/tasks/" + taskID.String() + "/receipt"}, &out, 0); err != nil {
		return integrity.Receipt{}, err
	}
	return out, nil
}

// LogKeys returns the transparency log's public keys (GET /v1/log/keys; no
// credentials needed).
func (c *Client) LogKeys(ctx context.Context) (api.LogKeys, error) {
	var out api.LogKeys
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/log/keys", anonymous: true}, &out, 0); err != nil {
		return api.LogKeys{}, err
	}
	return out, nil
}

// LogCheckpoint returns the log's latest signed checkpoint note (GET
// /v1/log/checkpoint), unverified: open it with integrity.OpenCheckpoint.
func (c *Client) LogCheckpoint(ctx context.Context) ([]byte, error) {
	body, _, err := c.read(ctx, call{method: http.MethodGet, path: "/v1/log/checkpoint", header: http.Header{"Accept": {"text/plain"}}}, maxCheckpointBytes)
	return body, err
}

// InclusionProof returns the audit path of leaf index in the tree of size
// leaves (GET /v1/log/proof/inclusion).
func (c *Client) InclusionProof(ctx context.Context, index, size int64) (integrity.InclusionProof, error) {
	var out integrity.InclusionProof
	q := url.Values{"index": {strconv.FormatInt(index, 10)}, "size": {strconv.FormatInt(size, 10)}}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/log/proof/inclusion", query: q}, &out, 0); err != nil {
		return integrity.InclusionProof{}, err
	}
	return out, nil
}

// ConsistencyProof returns the proof that the tree of newSize leaves
// extends the tree of oldSize (GET /v1/log/proof/consistency).
func (c *Client) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (integrity.ConsistencyProof, error) {
	var out integrity.ConsistencyProof
	q := url.Values{"old": {strconv.FormatInt(oldSize, 10)}, "new": {strconv.FormatInt(newSize, 10)}}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/log/proof/consistency", query: q}, &out, 0); err != nil {
		return integrity.ConsistencyProof{}, err
	}
	return out, nil
}

// NewerCheckpoint returns the log's latest checkpoint with the proof that it
// extends the tree of oldSize leaves (a receipt's checkpoint size): what
// integrity.VerifyReceiptExport takes as its newer argument.
func (c *Client) NewerCheckpoint(ctx context.Context, oldSize int64) (integrity.Newer, error) {
	note, err := c.LogCheckpoint(ctx)
	if err != nil {
		return integrity.Newer{}, err
	}
	text, err := integrity.CheckpointText(note)
	if err != nil {
		return integrity.Newer{}, err
	}
	cp, err := integrity.ParseCheckpoint(text)
	if err != nil {
		return integrity.Newer{}, err
	}
	proof, err := c.ConsistencyProof(ctx, oldSize, cp.Size)
	if err != nil {
		return integrity.Newer{}, err
	}
	return integrity.Newer{Checkpoint: string(note), Consistency: proof}, nil
}
