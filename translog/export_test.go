package translog

import (
	"context"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// GrowLeaves grows l's stored tree of size leaves by leaves that belong to
// no event, as the builder grows it: for benchmarks of large trees.
func GrowLeaves(ctx context.Context, l *Log, size int64, leaves []domain.Hash) error {
	b := builder{log: l, size: size}
	return b.addLeaves(ctx, leaves)
}

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
