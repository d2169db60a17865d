package translog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// ErrNoReceipts is returned by Receipt when the log has no receipt key.
var ErrNoReceipts = errors.New("this deployment issues no receipts: it has no receipt signing key")

// SignsReceipts reports whether the log has a receipt key (Receipt fails
// with ErrNoReceipts without one).
func (l *Log) SignsReceipts() bool { return l.cfg.ReceiptSigner != nil }

// Receipt returns the signed receipt of the ended task whose terminal event
// is end: its final state, seq and head hash, the event's leaf index, a
// signed checkpoint that holds the leaf (signed now if the latest does not)
// and the leaf's inclusion proof in it. When end has no feed position yet,
// it waits for the feed to give it one, as long as ctx allows. An event
// that does not end a task is a *domain.ValidationError (field "id": the
// task has not ended).
func (l *Log) Receipt(ctx context.Context, end domain.Event) (integrity.Receipt, error) {
	if l.cfg.ReceiptSigner == nil {
		return integrity.Receipt{}, ErrNoReceipts
	}
	state := integrity.TerminalState(end.Type)
	if state == "" {
		return integrity.Receipt{}, &domain.ValidationError{Field: "id", Reason: "the task has not ended yet; a receipt is issued once it has"}
	}
	end, err := l.positioned(ctx, end)
	if err != nil {
		return integrity.Receipt{}, err
	}
	cp, err := l.Covering(ctx, end.Position)
	if err != nil {
		return integrity.Receipt{}, err
	}
	proof, err := l.InclusionProof(ctx, end.Position, cp.Size)
	if err != nil {
		return integrity.Receipt{}, err
	}
	r := integrity.Receipt{
		TaskID: end.StreamID, TenantID: end.TenantID, State: state, LastSeq: end.Seq, HeadHash: end.Hash,
		LeafIndex: end.Position, Checkpoint: string(cp.Note), InclusionProof: proof.Hashes,
	}
	if err := integrity.SignReceipt(&r, l.cfg.ReceiptSigner); err != nil {
		return integrity.Receipt{}, err
	}
	return r, nil
}

// positioned returns e with its feed position, reading it again until the
// feed has sealed it.
func (l *Log) positioned(ctx context.Context, e domain.Event) (domain.Event, error) {
	for wait := 5 * time.Millisecond; e.Position == domain.NoPosition; wait = min(2*wait, 200*time.Millisecond) {
		select {
		case <-ctx.Done():
			return e, fmt.Errorf("wait for the feed to position %s seq %d: %w", e.StreamID, e.Seq, ctx.Err())
		case <-time.After(wait):
		}
		again, err := l.cfg.Store.ReadStream(ctx, e.StreamID, e.Seq-1, 1)
		if err != nil {
			return e, err
		}
		if len(again) == 1 && again[0].EventID == e.EventID {
			e = again[0]
		}
	}
	return e, nil
}
