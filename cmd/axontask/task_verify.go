package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/client"
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
	id, err := cl.parseTask()
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
	ver, err := callAPI(ctx, r, "task verify "+id.String(), func(c *client.Client) (client.Verification, error) {
		return c.VerifyTask(ctx, id, func(events int64) {
			status.set(fmt.Sprintf("verifying task %s · %d events", id, events))
		})
	})
	if err != nil {
		return err
	}
	status.close()
	out := taskVerifyJSON{TaskID: id, Verified: ver.Verified, Events: ver.Events, LastSeq: ver.LastSeq,
		HeadHash: ver.HeadHash, Ended: ver.Ended, Error: ver.Problem()}
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
	case ver.Failure != nil:
		return &exitError{exitFailed, fmt.Errorf("task %s does NOT verify: %s; the %d events before it verified (up to seq %d)", id, out.Error, out.Events, out.LastSeq)}
	case !out.Verified:
		return &exitError{exitFailed, fmt.Errorf("task %s has no events to verify", id)}
	}
	return nil
}
