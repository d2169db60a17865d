package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/google/uuid"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// Exit codes of `task logs -exit-code` for tasks that ended without one of
// their own, as shells and timeout(1) report them.
const (
	exitTaskFailed   = 1   // failed without an exit code (it never ran, or the worker failed)
	exitTaskTimedOut = 124 // timed out, as timeout(1)
	exitTaskCanceled = 130 // canceled, as a process stopped by Ctrl-C
)

// logsPage is how many events task logs reads at once (the API's largest
// page).
const logsPage = 1000

func runTaskLogs(ctx context.Context, cl *commandLine) error {
	var follow bool
	cl.fs.BoolVar(&follow, "f", false, "follow the task live, to its end")
	cl.fs.BoolVar(&follow, "follow", false, "same as -f")
	since := cl.fs.Int64("since", 0, "start after the event with this seq")
	exitCode := cl.fs.Bool("exit-code", false, "exit with the task's exit code: its process's, 1 when it failed without one, 124 timed out, 130 canceled")
	id, err := cl.parseTask()
	if err != nil {
		return err
	}
	if *since < 0 {
		return usageError("-since must not be negative")
	}
	r, err := cl.cf.connect(ctx, cl.con)
	if err != nil {
		return err
	}
	if follow {
		return followLogs(ctx, r, cl.con, id, *since, cl.cf.json, *exitCode)
	}
	return printLogs(ctx, r, cl.con, id, *since, cl.cf.json, *exitCode)
}

// printLogs prints the events of task id after seq since that exist now:
// the output for people, or one JSON document of events.
func printLogs(ctx context.Context, r *remote, con *console, id uuid.UUID, since int64, asJSON, exitCode bool) error {
	p := newLogPrinter(con, id, asJSON, newStatusLine(con.stderr, false, con.now))
	events := []domain.Event{}
	next, ended := since, false
	for {
		page, err := callAPI(ctx, r, "task logs "+id.String(), func(c *client.Client) (api.EventPage, error) {
			return c.TaskEvents(ctx, id, client.EventsOptions{SinceSeq: next, Limit: logsPage})
		})
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if asJSON {
				events = append(events, e)
				p.note(e)
				continue
			}
			if err := p.show(e); err != nil {
				return err
			}
		}
		next, ended = page.NextSeq, page.Ended
		if ended || len(page.Events) == 0 {
			break
		}
	}
	if asJSON {
		err := writeJSON(con.stdout, struct {
			TaskID uuid.UUID `json:"task_id"`
			api.EventPage
		}{id, api.EventPage{Events: events, NextSeq: next, Ended: ended}})
		if err != nil {
			return err
		}
	}
	return p.finish(ctx, r, ended, exitCode)
}

// followLogs follows task id's stream from seq since to its end: the
// output for people (with a status line on a terminal), or JSON Lines of
// events. A stored login's access token that expires meanwhile is
// refreshed, and the stream resumes where it was.
func followLogs(ctx context.Context, r *remote, con *console, id uuid.UUID, since int64, asJSON, exitCode bool) error {
	status := newStatusLine(con.stderr, !asJSON && con.stdoutTerminal && con.stderrTerminal, con.now)
	defer status.close()
	status.set("connecting")
	p := newLogPrinter(con, id, asJSON, status)
	refreshedAt := int64(-1)
	for {
		s := r.c.Stream(ctx, id, client.StreamOptions{SinceSeq: since})
		err := p.drain(s)
		since = s.LastSeq()
		_ = s.Close()
		if err == nil {
			break
		}
		if errors.Is(err, client.ErrUnauthenticated) && since != refreshedAt {
			refreshedAt = since
			refreshed, rerr := r.refresh(ctx)
			if rerr != nil {
				return rerr
			}
			if refreshed {
				continue
			}
		}
		if ctx.Err() != nil {
			// Ctrl-C stops the following, not the task: say how to go on.
			return &exitError{exitInterrupted, fmt.Errorf("stopped following task %s after seq %d; the task keeps running: follow it again with `axontask task logs %s -f -since %d`, or stop it with `axontask task cancel %s`", id, since, id, since, id)}
		}
		return r.fail(ctx, "task logs -f "+id.String(), err)
	}
	status.close()
	return p.finish(ctx, r, true, exitCode)
}

// logPrinter shows a task's events: for people, the output on stdout and
// stderr as the task wrote it, and notes (waiting, progress, the end) on
// stderr; or each event's envelope as a JSON line.
type logPrinter struct {
	id     uuid.UUID
	json   bool
	status *statusLine
	stdout io.Writer
	stderr io.Writer
	style  style // of stderr
	// midLine: the last output written did not end with a newline.
	midLine bool
	// end is the terminal event once seen; noted, whether its note was
	// printed.
	end    *domain.Event
	noted  bool
	pruned bool
	line   []byte
}

func newLogPrinter(con *console, id uuid.UUID, asJSON bool, status *statusLine) *logPrinter {
	return &logPrinter{
		id: id, json: asJSON, status: status,
		stdout: status.writer(con.stdout), stderr: status.writer(con.stderr),
		style: style{con.colour(con.stderrTerminal)},
	}
}

// drain shows the stream's events until its end (nil) or a failure.
func (p *logPrinter) drain(s *client.Stream) error {
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.show(e); err != nil {
			return err
		}
	}
}

// note remembers the terminal event.
func (p *logPrinter) note(e domain.Event) {
	if e.Type.Terminal() {
		p.end = &e
	}
}

// show prints one event.
func (p *logPrinter) show(e domain.Event) error {
	p.note(e)
	if p.json {
		var err error
		if p.line, err = e.AppendJSON(p.line[:0]); err != nil {
			return fmt.Errorf("task logs %s: %w", p.id, err)
		}
		if _, err := p.stdout.Write(append(p.line, '\n')); err != nil {
			return fmt.Errorf("task logs %s: write: %w", p.id, err)
		}
		return nil
	}
	if e.Payload == nil {
		if !p.pruned && (e.Type == domain.TaskOutputType || e.Type.Terminal()) {
			p.pruned = true
			p.say("the task's output is gone: its plan's retention pruned it (the log still verifies)", "")
		}
		if e.Type.Terminal() {
			p.noteEnd()
		}
		return nil
	}
	payload, err := domain.Decode(e.Type, e.Payload)
	if err != nil {
		return nil // an event type this CLI does not know yet
	}
	switch pl := payload.(type) {
	case *domain.TaskOutput:
		w := p.stdout
		if pl.Stream == domain.Stderr {
			w = p.stderr
		}
		if pl.Data == "" {
			return nil
		}
		if _, err := io.WriteString(w, pl.Data); err != nil {
			return fmt.Errorf("task logs %s: write: %w", p.id, err)
		}
		p.midLine = pl.Data[len(pl.Data)-1] != '\n'
	case *domain.TaskQueued:
		p.status.set("queued")
		switch {
		case pl.NotBefore != "":
			p.say(fmt.Sprintf("queued again for attempt %d, due at %s", pl.Attempt, pl.NotBefore), "")
		case pl.Attempt > 1:
			p.say(fmt.Sprintf("queued again for attempt %d", pl.Attempt), "")
		}
	case *domain.TaskAttemptFailed:
		p.say(fmt.Sprintf("attempt %d failed: %s; its retry policy runs the task again", pl.Attempt, pl.Error), "")
	case *domain.TaskWaiting:
		p.status.set("queued · " + pl.Reason)
		p.say("waiting: "+pl.Reason, "")
	case *domain.TaskStarted:
		p.status.set("running")
	case *domain.TaskProgress:
		text := strconv.FormatFloat(math.Round(pl.Percent*10)/10, 'f', -1, 64) + "%"
		if pl.Message != "" {
			text += " " + pl.Message
		}
		if p.status.on {
			p.status.set("running · " + text)
		} else {
			p.say("progress "+text, "")
		}
	case *domain.TaskLeaseLost:
		p.say(fmt.Sprintf("worker %s stopped renewing its lease of attempt %d", pl.WorkerID, pl.Attempt), "")
	case *domain.TaskCancelRequested:
		p.status.set("canceling")
		p.say("cancel requested", "")
	case *domain.TaskSucceeded, *domain.TaskFailed, *domain.TaskCanceled, *domain.TaskTimedOut:
		p.noteEnd()
	}
	return nil
}

// say prints a note on stderr, on a line of its own, painted with colour.
func (p *logPrinter) say(text, colour string) {
	if p.json {
		return
	}
	if p.midLine {
		fmt.Fprintln(p.stderr)
		p.midLine = false
	}
	fmt.Fprintln(p.stderr, p.style.paint(colour, "axontask: "+text))
}

// noteEnd prints the note of the terminal event, once.
func (p *logPrinter) noteEnd() {
	if p.end == nil || p.noted {
		return
	}
	p.noted = true
	p.status.set("")
	text, colour := endNote(*p.end)
	p.say(fmt.Sprintf("task %s %s", p.id, text), colour)
}

// endNote describes how a task ended, and its colour.
func endNote(e domain.Event) (string, string) {
	payload, _ := domain.Decode(e.Type, e.Payload)
	switch pl := payload.(type) {
	case *domain.TaskSucceeded:
		return fmt.Sprintf("succeeded (exit code %d)", pl.ExitCode), ansiGreen
	case *domain.TaskFailed:
		return "failed: " + pl.Error, ansiRed
	case *domain.TaskCanceled:
		if pl.Reason != "" {
			return "canceled: " + pl.Reason, ansiYellow
		}
		return "canceled", ansiYellow
	case *domain.TaskTimedOut:
		return fmt.Sprintf("timed out after %ds", pl.TimeoutS), ansiRed
	}
	switch e.Type {
	case domain.TaskSucceededType:
		return "succeeded", ansiGreen
	case domain.TaskCanceledType:
		return "canceled", ansiYellow
	case domain.TaskTimedOutType:
		return "timed out", ansiRed
	default:
		return "failed", ansiRed
	}
}

// taskExitCode is the exit code of `-exit-code` for a task that ended with
// e: its process's exit code (0–255), exitTaskFailed when it failed
// without one, exitTaskTimedOut, exitTaskCanceled.
func taskExitCode(e domain.Event) int {
	payload, _ := domain.Decode(e.Type, e.Payload)
	switch e.Type {
	case domain.TaskSucceededType:
		if pl, ok := payload.(*domain.TaskSucceeded); ok && pl.ExitCode > 0 && pl.ExitCode <= 255 {
			return pl.ExitCode
		}
		return exitOK
	case domain.TaskFailedType:
		if pl, ok := payload.(*domain.TaskFailed); ok && pl.ExitCode != nil && *pl.ExitCode > 0 && *pl.ExitCode <= 255 {
			return *pl.ExitCode
		}
		return exitTaskFailed
	case domain.TaskCanceledType:
		return exitTaskCanceled
	case domain.TaskTimedOutType:
		return exitTaskTimedOut
	default:
		return exitTaskFailed
	}
}

// finish ends task logs: it notes how the task ended (ended: the log read
// reached its end; the terminal event may lie before the seq read from),
// and with exitCode returns the task's exit code.
func (p *logPrinter) finish(ctx context.Context, r *remote, ended, exitCode bool) error {
	if ended && p.end == nil {
		e, err := terminalEvent(ctx, r, p.id)
		if err != nil {
			return err
		}
		p.end = e
	}
	p.noteEnd()
	switch {
	case !exitCode:
		return nil
	case p.end == nil:
		return &exitError{exitFailed, fmt.Errorf("task %s has not ended yet; add -f to wait for its end", p.id)}
	}
	if code := taskExitCode(*p.end); code != exitOK {
		return &exitError{code, errReported}
	}
	return nil
}

// terminalEvent returns the terminal event of task id, or nil if it has
// not ended.
func terminalEvent(ctx context.Context, r *remote, id uuid.UUID) (*domain.Event, error) {
	return callAPI(ctx, r, "task logs "+id.String(), func(c *client.Client) (*domain.Event, error) {
		st, err := c.TaskStatus(ctx, id)
		if err != nil || !st.State.Terminal() {
			return nil, err
		}
		page, err := c.TaskEvents(ctx, id, client.EventsOptions{SinceSeq: st.LastSeq - 1, Limit: 1})
		if err != nil || len(page.Events) != 1 || !page.Events[0].Type.Terminal() {
			return nil, err
		}
		return &page.Events[0], nil
	})
}
