package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/integrity"
)

// taskVerifyJSON is task verify's JSON output (verify_task's, in MCP).
type taskVerifyJSON struct {
	TaskID uuid.UUID `json:"task_id"`
	// Verified: every event read verified (seqs 1 to LastSeq, digests,
	// hashes, each chained to the one before).
	Verified bool  `json:"verified"`
	Events   int64 `json:"events"`
	LastSeq  int64 `json:"last_seq"`
	// HeadHash is the hash of the last event that verified, in hex.
	HeadHash string `json:"head_hash"`
	// Ended: the log read ends with the task's terminal event.
	Ended bool   `json:"ended"`
	Error string `json:"error,omitempty"`
}

func runTaskVerify(ctx context.Context, cl *commandLine) error {
	pos, err := cl.parse(1, 1)
	if err != nil {
		return err
	}
	id, err := parseTaskID(pos[0])
	if err != nil {
		return err
	}
	r, err := cl.cf.connect(ctx, cl.con)
	if err != nil {
		return err
	}
	status := newStatusLine(cl.con.stderr, !cl.cf.json && cl.con.stdoutTerminal && cl.con.stderrTerminal, cl.con.now)
	defer status.close()
	status.set("verifying task " + id.String())
	out := taskVerifyJSON{TaskID: id}
	v := integrity.NewVerifier()
	var failure error
	for failure == nil {
		var page client.EventPage
		err := r.do(ctx, func(c *client.Client) error {
			var err error
			page, err = c.TaskEvents(ctx, id, client.EventsOptions{SinceSeq: out.LastSeq, Limit: logsPage})
			return err
		})
		if err != nil {
			return r.fail(ctx, "task verify "+id.String(), err)
		}
		for i := range page.Events {
			e := &page.Events[i]
			if e.StreamID != id.String() {
				failure = fmt.Errorf("the API returned an event of stream %q among the events of task %s", e.StreamID, id)
				break
			}
			if failure = v.Add(e); failure != nil {
				break
			}
			out.Events, out.LastSeq, out.HeadHash = out.Events+1, e.Seq, hex.EncodeToString(e.Hash[:])
		}
		if failure == nil {
			out.Ended = page.Ended
		}
		if len(page.Events) == 0 || page.Ended {
			break
		}
		status.set(fmt.Sprintf("verifying task %s · %d events", id, out.Events))
	}
	status.close()
	if failure != nil {
		out.Error = failure.Error()
		var ve *integrity.VerifyError
		if errors.As(failure, &ve) {
			out.Error = ve.Error() + " (" + ve.Kind.String() + ")"
		}
	}
	out.Verified = failure == nil && out.Events > 0
	if cl.cf.json {
		if err := writeJSON(cl.con.stdout, out); err != nil {
			return err
		}
	} else if out.Verified {
		s := style{cl.con.colour(cl.con.stdoutTerminal)}
		fmt.Fprintf(cl.con.stdout, "task %s %s: %d events, seq 1 to %d, each chained to the one before\nhead hash %s\n",
			id, s.paint(ansiGreen, "verifies"), out.Events, out.LastSeq, out.HeadHash)
		if !out.Ended {
			fmt.Fprintln(cl.con.stdout, "the task has not ended: events appended later are not covered")
		}
	}
	switch {
	case failure != nil:
		return &exitError{exitFailed, fmt.Errorf("task %s does NOT verify: %s; the %d events before it verified (up to seq %d)", id, out.Error, out.Events, out.LastSeq)}
	case !out.Verified:
		return &exitError{exitFailed, fmt.Errorf("task %s has no events to verify", id)}
	}
	return nil
}
