package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/client"
)

// Bounds of the events resource.
const (
	// MaxResourceEvents is the most events the resource holds: a longer log
	// is cut there, and the note says how to read on.
	MaxResourceEvents = 1000
	// maxResourceBytes bounds the resource's envelopes.
	maxResourceBytes = 4 << 20
)

// EventsTemplate is the URI template of each task's events resource.
const EventsTemplate = "axontask://tasks/{id}/events"

// eventsURI returns the URI of a task's events resource.
func eventsURI(taskID string) string { return "axontask://tasks/" + taskID + "/events" }

// EventsResource is the content of a task's events resource
// (application/json).
type EventsResource struct {
	TaskID string `json:"task_id"`
	// Events are the API's envelopes from seq 1, at most MaxResourceEvents.
	Events []json.RawMessage `json:"events"`
	// NextSeq is the last event's seq: read_task_events with this since_seq
	// reads on.
	NextSeq int64 `json:"next_seq"`
	// Ended says that Events end with the task's terminal event.
	Ended bool `json:"ended"`
	// Truncated says that more events follow than the resource holds.
	Truncated bool   `json:"truncated"`
	Note      string `json:"note,omitempty"`
}

func (t *tools) addEventsResource(s *mcp.Server) {
	s.AddResourceTemplate(&mcp.ResourceTemplate{
		Name:        "task-events",
		Title:       "A task's events",
		URITemplate: EventsTemplate,
		MIMEType:    "application/json",
		Description: fmt.Sprintf("The events of task {id} from its first, as the AxonTask API's envelopes with every hash-chain field, "+
			"with next_seq and ended; at most %d events (read on with read_task_events from next_seq).", MaxResourceEvents),
	}, t.readEventsResource)
}

func (t *tools) readEventsResource(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	rest, ok := strings.CutPrefix(uri, "axontask://tasks/")
	if ok {
		rest, ok = strings.CutSuffix(rest, "/events")
	}
	if !ok {
		return nil, invalidParams("%s is not a task's events resource; use axontask://tasks/{task_id}/events", uri)
	}
	id, err := parseTaskID(rest)
	if err != nil {
		return nil, invalidParams("%s", err)
	}
	api, err := t.cfg.ClientFunc(ctx, req.Extra)
	if err != nil {
		return nil, invalidParams("%s", err)
	}
	res := EventsResource{TaskID: id.String(), Events: []json.RawMessage{}}
	size, cut := 0, false
	for !cut && len(res.Events) < MaxResourceEvents {
		page, err := api.TaskEvents(ctx, id, client.EventsOptions{SinceSeq: res.NextSeq, Limit: MaxResourceEvents - len(res.Events)})
		var apiErr *client.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.Status == 404:
			return nil, mcp.ResourceNotFoundError(uri)
		case errors.As(err, &apiErr) && apiErr.Status < 500:
			return nil, invalidParams("%s", t.describeAPIError(ctx, "resources/read", apiErr))
		case err != nil:
			return nil, fmt.Errorf("read the events of task %s: %w", id, err)
		}
		for i := range page.Events {
			b, err := page.Events[i].AppendJSON(nil)
			if err != nil {
				return nil, err
			}
			if size += len(b); size > maxResourceBytes && len(res.Events) > 0 {
				cut = true
				break
			}
			res.Events = append(res.Events, b)
			res.NextSeq = page.Events[i].Seq
		}
		if !cut && page.Ended {
			res.Ended = true
		}
		if res.Ended || len(page.Events) == 0 {
			break
		}
	}
	if !res.Ended && (cut || len(res.Events) >= MaxResourceEvents) {
		res.Truncated = true
		res.Note = fmt.Sprintf("the first %d events only; read on with read_task_events from since_seq %d", len(res.Events), res.NextSeq)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
}

// invalidParams is a JSON-RPC error about a request's parameters.
func invalidParams(format string, args ...any) error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf(format, args...)}
}
