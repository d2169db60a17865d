package mcpserver

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/textcut"
)

// Bounds and defaults of read_task_events.
const (
	// DefaultEventsLimit and MaxEventsLimit bound the events of one answer.
	DefaultEventsLimit = 100
	MaxEventsLimit     = 500
	// DefaultWait is how long read_task_events waits for new events when
	// the call does not say; MaxWait bounds wait_s, under the 60 s that
	// many clients give a tool call.
	DefaultWait = 20 * time.Second
	MaxWait     = 50 * time.Second
	// DefaultBatch is how long read_task_events, having waited for a first
	// new event, gathers more before it answers (batch_ms); MaxBatch bounds
	// it.
	DefaultBatch = 500 * time.Millisecond
	MaxBatch     = 5 * time.Second
	// maxPageBytes bounds the envelopes of one answer: a page of large
	// events is cut short (next_seq says where to go on), but always holds
	// at least one event.
	maxPageBytes = 1 << 20
	// Bounds of the readable text of an answer: per event, and in all.
	maxEventTextBytes = 1000
	maxTextBytes      = 64 << 10
)

// ReadTaskEventsInput is read_task_events' input.
type ReadTaskEventsInput struct {
	TaskID   string `json:"task_id" jsonschema:"The task's id (a UUID), as start_task or list_tasks returned it."`
	SinceSeq int64  `json:"since_seq,omitempty" jsonschema:"Return the events after this seq: 0 for the first call, then the next_seq of the previous answer."`
	Limit    int    `json:"limit,omitempty" jsonschema:"The most events to return, 1 to 500."`
	WaitS    int    `json:"wait_s,omitempty" jsonschema:"When there is no event after since_seq yet and the task has not ended, wait up to this many seconds (0 to 50) for one before answering."`
	BatchMS  *int   `json:"batch_ms,omitempty" jsonschema:"After waiting for a first new event, gather more for up to this many milliseconds (0 to 5000) before answering, so that one call returns a batch; the answer comes at once when limit events came or the task ended."`
}

// ReadTaskEventsOutput is read_task_events' output.
type ReadTaskEventsOutput struct {
	// Events are the API's envelopes (docs/api.md), in seq order, with every
	// field of the hash chain.
	Events []json.RawMessage `json:"events" jsonschema:"The events after since_seq, in seq order: the AxonTask API's envelopes (seq, type, occurred_at, payload, and the hash-chain fields)."`
	// NextSeq is the since_seq of the next call: the last event's seq, or
	// since_seq when there was none.
	NextSeq int64 `json:"next_seq" jsonschema:"Pass this as since_seq in the next call."`
	// Ended says that no event follows: the last event is the task's
	// terminal one.
	Ended bool `json:"ended" jsonschema:"Whether the task has ended and every event up to its last was returned; stop reading then."`
}

func (t *tools) addReadTaskEvents(s *mcp.Server) error {
	return addTool(s, t, &mcp.Tool{
		Name:  "read_task_events",
		Title: "Read a task's events",
		Description: "Returns a task's events after since_seq (its output, progress, state changes) with next_seq and ended. " +
			"To follow a task to its end, call it with since_seq 0, then with each answer's next_seq, until ended is true. " +
			"When nothing new has happened yet, it waits up to wait_s seconds (default 20) for the next event, then gathers more for batch_ms (default 500) so that one call returns a batch; calling it again at once is fine. " +
			"A client that gives a progress token hears the task's own progress (its ::progress lines, a mock's steps) as progress notifications while the call waits.",
		Annotations: &mcp.ToolAnnotations{Title: "Read a task's events", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: jsonschema.Ptr(false)},
	}, func(s *jsonschema.Schema) {
		taskIDSchema(prop(s, "task_id"))
		since := prop(s, "since_seq")
		since.Minimum, since.Default = jsonschema.Ptr(0.0), json.RawMessage("0")
		limit := int64(DefaultEventsLimit)
		bounds(prop(s, "limit"), 1, MaxEventsLimit, &limit)
		wait := int64(DefaultWait / time.Second)
		bounds(prop(s, "wait_s"), 0, int64(MaxWait/time.Second), &wait)
		batch := DefaultBatch.Milliseconds()
		bounds(prop(s, "batch_ms"), 0, MaxBatch.Milliseconds(), &batch)
	}, t.readTaskEvents)
}

func (t *tools) readTaskEvents(ctx context.Context, c *call, in ReadTaskEventsInput) (ReadTaskEventsOutput, string, error) {
	id, err := parseTaskID(in.TaskID)
	if err != nil {
		return ReadTaskEventsOutput{}, "", err
	}
	opts := client.EventsOptions{SinceSeq: in.SinceSeq, Limit: in.Limit}
	page, err := c.api.TaskEvents(ctx, id, opts)
	if err != nil {
		return ReadTaskEventsOutput{}, "", err
	}
	var waited time.Duration
	if len(page.Events) == 0 && !page.Ended && in.WaitS > 0 {
		start := time.Now()
		batch := DefaultBatch
		if in.BatchMS != nil {
			batch = time.Duration(*in.BatchMS) * time.Millisecond
		}
		limit := cmp.Or(in.Limit, DefaultEventsLimit)
		if err := t.waitForEvents(ctx, c, id, in.SinceSeq, time.Duration(in.WaitS)*time.Second, batch, limit); err != nil {
			return ReadTaskEventsOutput{}, "", err
		}
		waited = time.Since(start)
		if page, err = c.api.TaskEvents(ctx, id, opts); err != nil {
			return ReadTaskEventsOutput{}, "", err
		}
	}
	out, err := eventsOutput(page, in.SinceSeq)
	if err != nil {
		return ReadTaskEventsOutput{}, "", err
	}
	return out, eventsText(id, in.SinceSeq, page.Events[:len(out.Events)], out, waited), nil
}

// waitForEvents waits, up to wait, until task id has an event after since
// or has ended, on the task's event stream, and then gathers events for up
// to batch more, until limit came or the task ended. While it waits it
// sends a client that gave a progress token the task's progress events as
// notifications (of 100), and a keep-alive every ProgressInterval without
// one. It returns nil when events came, the task ended or the time was
// up; an error when the stream failed for good (an API answer 4xx) or ctx
// ended.
func (t *tools) waitForEvents(ctx context.Context, c *call, id uuid.UUID, since int64, wait, batch time.Duration, limit int) error {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	s := c.api.Stream(wctx, id, client.StreamOptions{SinceSeq: since})
	defer func() { _ = s.Close() }()
	events, failed := make(chan domain.Event), make(chan error, 1)
	go func() {
		for {
			e, err := s.Next()
			if err != nil {
				failed <- err
				return
			}
			select {
			case events <- e:
			case <-wctx.Done():
				failed <- wctx.Err()
				return
			}
		}
	}()
	p := t.progress(c.req)
	ticker := time.NewTicker(t.cfg.ProgressInterval)
	defer ticker.Stop()
	start := time.Now()
	var batchDone <-chan time.Time // set by the first event
	for n := 0; ; {
		select {
		case e := <-events:
			n++
			if e.Type == domain.TaskProgressType {
				var tp domain.TaskProgress
				if json.Unmarshal(e.Payload, &tp) == nil {
					p.task(ctx, tp.Percent, tp.Message)
				}
			}
			if e.Type.Terminal() || n >= limit || batch <= 0 {
				return nil
			}
			if batchDone == nil {
				batchDone = time.After(batch)
			}
		case <-batchDone:
			return nil
		case err := <-failed:
			switch {
			case err == nil, errors.Is(err, io.EOF):
				return nil
			case ctx.Err() != nil:
				return ctx.Err()
			case wctx.Err() != nil:
				return nil // waited long enough; a failure that persists shows in the next read
			}
			return err
		case now := <-ticker.C:
			elapsed := now.Sub(start)
			if elapsed >= wait || batchDone != nil {
				continue // the answer is due, or events are coming
			}
			p.keepAlive(ctx, elapsed, wait, fmt.Sprintf("waiting for events of task %s after seq %d (%ds of %ds)",
				id, since, int(elapsed/time.Second), int(wait/time.Second)))
		}
	}
}

// eventsOutput renders a page's events as the API's envelopes, cutting the
// page short past maxPageBytes.
func eventsOutput(page api.EventPage, since int64) (ReadTaskEventsOutput, error) {
	out := ReadTaskEventsOutput{Events: make([]json.RawMessage, 0, len(page.Events)), NextSeq: since, Ended: page.Ended}
	size := 0
	for i := range page.Events {
		b, err := page.Events[i].AppendJSON(nil)
		if err != nil {
			return ReadTaskEventsOutput{}, err
		}
		if size += len(b); size > maxPageBytes && i > 0 {
			out.Ended = false // the events cut off include the last one
			break
		}
		out.Events = append(out.Events, b)
		out.NextSeq = page.Events[i].Seq
	}
	return out, nil
}

// eventsText describes an answer for the model: each event on a line, then
// what to do next.
func eventsText(id uuid.UUID, since int64, events []domain.Event, out ReadTaskEventsOutput, waited time.Duration) string {
	var b strings.Builder
	switch {
	case len(events) == 0 && out.Ended:
		fmt.Fprintf(&b, "Task %s has no events after seq %d: it has ended.", id, since)
		return b.String()
	case len(events) == 0:
		fmt.Fprintf(&b, "Task %s has no events after seq %d yet", id, since)
		if waited > 0 {
			fmt.Fprintf(&b, " (waited %ds)", int(waited.Round(time.Second)/time.Second))
		}
		fmt.Fprintf(&b, "; it has not ended. Call read_task_events again with since_seq %d.", out.NextSeq)
		return b.String()
	}
	fmt.Fprintf(&b, "Task %s: %d events, seq %d to %d.\n", id, len(events), events[0].Seq, out.NextSeq)
	for i := range events {
		if b.Len() > maxTextBytes {
			fmt.Fprintf(&b, "… %d more events in the structured result.\n", len(events)-i)
			break
		}
		b.WriteString(eventLine(&events[i]))
		b.WriteByte('\n')
	}
	if out.Ended {
		fmt.Fprintf(&b, "The task has ended (%s); there are no more events.", events[len(events)-1].Type)
	} else {
		fmt.Fprintf(&b, "The task has not ended: call read_task_events again with since_seq %d.", out.NextSeq)
	}
	return b.String()
}

// eventLine describes one event: its seq, type and payload, the output of
// task.output as text.
func eventLine(e *domain.Event) string {
	head := fmt.Sprintf("seq %d %s", e.Seq, e.Type)
	if e.Payload == nil {
		return head + " (payload pruned by retention)"
	}
	if e.Type == domain.TaskOutputType {
		var o domain.TaskOutput
		if json.Unmarshal(e.Payload, &o) == nil {
			return fmt.Sprintf("%s (%s): %s", head, o.Stream, textcut.Clip(strings.TrimSuffix(o.Data, "\n"), maxEventTextBytes))
		}
	}
	return head + " " + textcut.Clip(string(e.Payload), maxEventTextBytes)
}

// progress sends progress notifications for one call; nil when the client
// gave no progress token. Its values only grow, as MCP requires, whatever
// mix of keep-alives and task progress it sends.
type progress struct {
	t     *tools
	req   *mcp.CallToolRequest
	token any

	sent bool
	last float64 // the last value sent
	// percent and message are the task's last progress, once it reported.
	reported bool
	percent  float64
	message  string
}

// progress returns the progress notifier of req (nil without a token).
func (t *tools) progress(req *mcp.CallToolRequest) *progress {
	token := req.Params.GetProgressToken()
	if token == nil {
		return nil
	}
	return &progress{t: t, req: req, token: token}
}

// task sends the task's own progress: percent of 100, with its message.
func (p *progress) task(ctx context.Context, percent float64, message string) {
	if p == nil {
		return
	}
	p.reported, p.percent, p.message = true, percent, message
	p.notify(ctx, percent, 100, message)
}

// keepAlive tells a client that the call still waits: elapsed of wait, or
// once the task has reported progress, that progress again.
func (p *progress) keepAlive(ctx context.Context, elapsed, wait time.Duration, msg string) {
	if p == nil {
		return
	}
	if p.reported {
		p.notify(ctx, p.percent, 100, fmt.Sprintf("%s; the task is at %.0f%%: %s", msg, p.percent, p.message))
		return
	}
	p.notify(ctx, elapsed.Seconds(), wait.Seconds(), msg)
}

// notify sends one progress notification (done of total; total 0 when
// unknown). A failure is logged, not returned: the call goes on.
func (p *progress) notify(ctx context.Context, done, total float64, msg string) {
	if p == nil {
		return
	}
	if p.sent && done <= p.last {
		done = p.last + 0.001 // never back, never the same
	}
	p.sent, p.last = true, done
	err := p.req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: p.token, Progress: done, Total: total, Message: msg})
	if err != nil && ctx.Err() == nil {
		p.t.cfg.Logger.DebugContext(ctx, "mcp: progress notification failed", "err", err)
	}
}
