package client

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/integrity"
)

// verifyPage is how many events VerifyTask reads at once: the API's
// largest page.
const verifyPage = 1000

// Verification is what VerifyTask found.
type Verification struct {
	// Verified: every event read verified (seqs 1 to LastSeq without gaps,
	// digests and hashes right, each chained to the one before), and there
	// was at least one.
	Verified bool
	Events   int64
	// LastSeq and HeadHash (lowercase hex) are those of the last event that
	// verified.
	LastSeq  int64
	HeadHash string
	// Ended: the log read ends with the task's terminal event.
	Ended bool
	// Failure says why the log does not verify (a *integrity.VerifyError
	// for a broken chain); nil when it verified or had no events.
	Failure error
}

// Problem describes Failure for people: the error, and for a broken chain
// its kind. It is empty when nothing failed.
func (v Verification) Problem() string {
	if v.Failure == nil {
		return ""
	}
	var ve *integrity.VerifyError
	if errors.As(v.Failure, &ve) {
		return ve.Error() + " (" + ve.Kind.String() + ")"
	}
	return v.Failure.Error()
}

// VerifyTask reads all of a task's events, page by page, and verifies their
// hash chain. A log that does not verify is not an error: it is reported in
// the Verification; errors are the API's. progress, when not nil, is called
// after each page that does not end the log with the events verified so far.
func (c *Client) VerifyTask(ctx context.Context, taskID uuid.UUID, progress func(events int64)) (Verification, error) {
	var out Verification
	v := integrity.NewVerifier()
	for out.Failure == nil {
		page, err := c.TaskEvents(ctx, taskID, EventsOptions{SinceSeq: out.LastSeq, Limit: verifyPage})
		if err != nil {
			return Verification{}, err
		}
		for i := range page.Events {
			e := &page.Events[i]
			if e.StreamID != taskID.String() {
				out.Failure = fmt.Errorf("the API returned an event of stream %q among the events of task %s", e.StreamID, taskID)
				break
			}
			if out.Failure = v.Add(e); out.Failure != nil {
				break
			}
			out.Events, out.LastSeq, out.HeadHash = out.Events+1, e.Seq, hex.EncodeToString(e.Hash[:])
		}
		if out.Failure == nil {
			out.Ended = page.Ended
		}
		if len(page.Events) == 0 || page.Ended {
			break
		}
		if progress != nil {
			progress(out.Events)
		}
	}
	out.Verified = out.Failure == nil && out.Events > 0
	return out, nil
}
