package eventstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"

	"github.com/axontask/axontask/domain"
)

// Defaults for Options.
const (
	DefaultMaxPayloadBytes = 1 << 20
	DefaultMaxAppendEvents = 1000
	DefaultMaxReadLimit    = 10000
	DefaultFeedCacheEvents = 16384
)

// Options are the limits and collaborators shared by every store implementation.
// The zero value is usable: Defaults fills it in.
type Options struct {
	// MaxPayloadBytes bounds one event's canonical payload (default 1 MiB).
	MaxPayloadBytes int
	// MaxAppendEvents bounds the events of one Append (default 1000).
	MaxAppendEvents int
	// MaxReadLimit bounds the limit of one read (default 10000); larger limits are clamped.
	MaxReadLimit int
	// FeedCacheEvents bounds the newest events of the feed the store keeps
	// for the process's feed readers, so that they read a page from the
	// database once between them (default 16384, and 32 MiB; each kept at
	// most 10 s); negative: none, every feed read goes to the database.
	FeedCacheEvents int
	// Rand supplies payload salts (default crypto/rand). Tests inject a
	// deterministic reader to produce golden vectors; never do so in production.
	Rand io.Reader
	// Logger receives the store's operational logs (default slog.Default()).
	Logger *slog.Logger
	// Committed, when set, is called with the events of each Append that
	// committed (a retried Append may call it again with the same events),
	// in the appender's goroutine, after the store's locks are
	// released: the hook that announces them at once (bus.Announcer),
	// ahead of the feed. Their Position is NoPosition until the feed has
	// given them one (Postgres gives it later). It must be quick and must
	// not fail the append: the feed remains the complete record. It may
	// keep events after it returns (bus.Announcer queues them), so neither
	// it nor the store's caller changes them.
	Committed func(ctx context.Context, events []domain.Event)
	// ObserveCommitFunc, when set, is called once for each transaction the
	// store commits appends in, with the count of streams appended to
	// (more than one when appends share a transaction: AppendBatch, group
	// commit) and of events: the source of the commit, event and
	// group-commit batch size metrics. It must be quick and must not block:
	// it is called after the commit, possibly while the store's writer
	// waits.
	ObserveCommitFunc func(appends, events int)
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.MaxPayloadBytes == 0 {
		o.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if o.MaxAppendEvents == 0 {
		o.MaxAppendEvents = DefaultMaxAppendEvents
	}
	if o.MaxReadLimit == 0 {
		o.MaxReadLimit = DefaultMaxReadLimit
	}
	if o.FeedCacheEvents == 0 {
		o.FeedCacheEvents = DefaultFeedCacheEvents
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.MaxPayloadBytes < 0 || o.MaxAppendEvents < 0 || o.MaxReadLimit < 0 {
		return fmt.Errorf("event store options: limits must not be negative")
	}
	return nil
}

// ReadLimiter is a store that says how many events one read returns at
// most (Options.MaxReadLimit): a read of that many that returns fewer has
// reached the end of what it reads, and a reader need not ask again to
// know it (commands.Load saves a round trip per load so).
type ReadLimiter interface {
	ReadLimit() int
}
