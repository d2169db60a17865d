package translog

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// GrowLeaves grows l's stored tree of size leaves by leaves that belong to
// no event, as the builder grows it: for benchmarks of large trees.
func GrowLeaves(ctx context.Context, l *Log, size int64, leaves []domain.Hash) error {
	b := builder{log: l, size: size}
	return b.addLeaves(ctx, leaves)
}
