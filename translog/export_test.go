package translog

import (
	"context"

	"github.com/axontask/axontask/eventstore"
)

// SubmitToWitnesses submits cp to each of l's witnesses that has a URL, as
// the checkpoint loop does, and returns what each answered: nil for a
// cosignature stored.
func SubmitToWitnesses(ctx context.Context, l *Log, cp eventstore.MerkleCheckpoint) []error {
	errs := make([]error, len(l.witnesses))
	for i, c := range l.witnesses {
		errs[i] = c.submit(ctx, l, cp)
	}
	return errs
}
