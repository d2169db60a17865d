package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/backoff"
)

// Defaults and limits of Config.
const (
	// DefaultFlushInterval is how often a Meter flushes its counts.
	DefaultFlushInterval = time.Minute
	// MinFlushInterval and MaxFlushInterval bound Config.FlushInterval.
	MinFlushInterval = 10 * time.Millisecond
	MaxFlushInterval = time.Minute
	// maxPending bounds the flushes waiting for the store while it is
	// down; past it the oldest are dropped, with a log line.
	maxPending = 100_000
	// stopTimeout bounds the last flush when the Meter stops.
	stopTimeout = 10 * time.Second
	// maxConflicts bounds the attempts of one append against other
	// processes appending to the same usage stream.
	maxConflicts = 20
)

// namespace is the UUIDv5 namespace of usage stream ids and usage event
// ids. It must never change: a retried flush must derive the same ids.
var namespace = uuid.MustParse("6d1f3c8e-4b0a-5e7d-9c21-8f3a2b1e0d47")

// StreamID returns the id of tenantID's usage stream of the UTC day of at.
// Each day has a stream of its own, so that a stream stays small (a flush a
// minute per API process) and a flush reads little to find its head.
func StreamID(tenantID string, at time.Time) string {
	return uuid.NewSHA1(namespace, []byte(tenantID+"/"+at.UTC().Format(time.DateOnly))).String()
}

// Config configures a Meter.
type Config struct {
	// Store reads and appends the usage streams; required.
	Store commands.StreamStore
	// FlushInterval is how often counts are flushed (default
	// DefaultFlushInterval, between MinFlushInterval and MaxFlushInterval).
	FlushInterval time.Duration
	// Logger receives failed flushes, once per outage (default slog.Default()).
	Logger *slog.Logger
	// NowFunc reads the clock (default time.Now).
	NowFunc func() time.Time
}

func (c Config) withDefaults() Config {
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.NowFunc == nil {
		c.NowFunc = time.Now
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("usage meter config: Store is nil")
	case c.FlushInterval < MinFlushInterval || c.FlushInterval > MaxFlushInterval:
		return fmt.Errorf("usage meter config: FlushInterval is %s; it must be between %s and %s", c.FlushInterval, MinFlushInterval, MaxFlushInterval)
	}
	return nil
}

// Counters are one tenant's read-side counts in one process, not flushed
// yet. Their methods are safe for concurrent use and cost an atomic add.
// A nil *Counters counts nothing.
type Counters struct {
	streams, bytes, mcpCalls atomic.Int64
}

// StreamOpened counts one SSE stream opened.
func (c *Counters) StreamOpened() {
	if c != nil {
		c.streams.Add(1)
	}
}

// BytesSent counts n bytes written to a stream's client.
func (c *Counters) BytesSent(n int) {
	if c != nil && n > 0 {
		c.bytes.Add(int64(n))
	}
}

// MCPCall counts one MCP tool call.
func (c *Counters) MCPCall() {
	if c != nil {
		c.mcpCalls.Add(1)
	}
}

// take returns the counts and sets them to 0.
func (c *Counters) take() (streams, bytes, mcpCalls int64) {
	return c.streams.Swap(0), c.bytes.Swap(0), c.mcpCalls.Swap(0)
}

// pending is a flush of one tenant's counts, built once, until it is stored.
type pending struct {
	stream eventstore.Stream
	event  domain.NewEvent
}

// Meter counts one API process's read-side usage per tenant and flushes it
// to the tenants' usage streams. It is safe for concurrent use.
type Meter struct {
	cfg       Config
	processID uuid.UUID
	retry     *backoff.Retry

	mu      sync.Mutex
	tenants map[string]*Counters

	// flushMu serializes flushes; it guards the fields below.
	flushMu sync.Mutex
	window  int64
	pending []pending
	heads   map[string]int64 // usage stream id → the last seq known
	day     time.Time        // the UTC day heads are of
}

// NewMeter returns a Meter with a random process id; run it (Run) to flush.
func NewMeter(cfg Config) (*Meter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("usage meter: process id: %w", err)
	}
	return &Meter{
		cfg: cfg, processID: id, tenants: make(map[string]*Counters), heads: make(map[string]int64),
		retry: &backoff.Retry{Dependency: backoff.DependencyStore, What: "usage meter: flush the counts", Meanwhile: "counts wait in memory", Logger: cfg.Logger},
	}, nil
}

// Tenant returns tenantID's counters, the same ones for every call: take
// them once per stream and count on them. A nil *Meter returns nil
// counters, which count nothing.
func (m *Meter) Tenant(tenantID string) *Counters {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.tenants[tenantID]
	if !ok {
		c = new(Counters)
		m.tenants[tenantID] = c
	}
	return c
}

// Run flushes every FlushInterval until ctx ends, then flushes once more
// (within 10 s) and returns nil. Flushes that fail are kept and retried at
// the next tick.
func (m *Meter) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
			defer cancel()
			if err := m.Flush(stop); err != nil {
				m.cfg.Logger.Error("usage meter: the last flush failed; these counts are lost", "err", err)
			}
			return nil
		case <-t.C:
			if err := m.Flush(ctx); err != nil && ctx.Err() == nil {
				m.retry.Note(ctx, err)
				continue
			}
			m.retry.Succeeded()
		}
	}
}

// Flush closes the current window: it turns each tenant's counts into a
// usage.recorded event and appends it, with the flushes that failed
// before. It returns the first error; what failed is kept for the next
// Flush.
func (m *Meter) Flush(ctx context.Context) error {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	if err := m.closeWindow(); err != nil {
		return err
	}
	var firstErr error
	kept := m.pending[:0]
	for _, p := range m.pending {
		if firstErr != nil {
			kept = append(kept, p)
			continue
		}
		if err := m.store(ctx, p); err != nil {
			firstErr = err
			kept = append(kept, p)
		}
	}
	clear(m.pending[len(kept):])
	m.pending = kept
	return firstErr
}

// closeWindow builds the events of the counts taken now, one per tenant
// with any, and queues them.
func (m *Meter) closeWindow() error {
	m.window++
	now := m.cfg.NowFunc().UTC()
	if day := now.Truncate(24 * time.Hour); !day.Equal(m.day) {
		// A new day: yesterday's streams get no new flushes but the
		// pending ones, which read their head again.
		m.day = day
		clear(m.heads)
	}
	m.mu.Lock()
	ids := make([]string, 0, len(m.tenants))
	for id := range m.tenants {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	slices.Sort(ids)
	for _, tenantID := range ids {
		streams, bytes, calls := m.Tenant(tenantID).take()
		if streams == 0 && bytes == 0 && calls == 0 {
			continue
		}
		p := domain.UsageRecorded{BytesStreamed: bytes, MCPCalls: calls, ProcessID: m.processID.String(), StreamsOpened: streams, Window: m.window}
		body, err := domain.MarshalPayload(p)
		if err != nil {
			return err
		}
		id := uuid.NewSHA1(namespace, fmt.Appendf(nil, "%s/%d/%s", m.processID, m.window, tenantID))
		m.pending = append(m.pending, pending{
			stream: eventstore.Stream{ID: StreamID(tenantID, now), Type: domain.StreamUsage, TenantID: tenantID},
			event:  domain.NewEvent{EventID: id, Type: p.EventType(), Payload: body, OccurredAt: now},
		})
	}
	if over := len(m.pending) - maxPending; over > 0 {
		m.cfg.Logger.Error("usage meter: the store has been down too long; dropping the oldest counts", "flushes", over)
		m.pending = slices.Delete(m.pending, 0, over)
	}
	return nil
}

// store appends p at its stream's head, once: a conflict with another
// process reads on to the new head (where p itself may be, stored by an
// attempt whose answer was lost) and tries again.
func (m *Meter) store(ctx context.Context, p pending) error {
	for range maxConflicts {
		head := m.heads[p.stream.ID]
		_, err := m.cfg.Store.Append(ctx, p.stream, head, []domain.NewEvent{p.event})
		switch {
		case err == nil:
			m.heads[p.stream.ID] = head + 1
			return nil
		case errors.Is(err, eventstore.ErrEventIDReused):
			return nil // stored by an earlier attempt
		case !errors.Is(err, eventstore.ErrConflict):
			return fmt.Errorf("append usage of tenant %s: %w", p.stream.TenantID, err)
		}
		stored, err := m.readOn(ctx, p)
		if err != nil || stored {
			return err
		}
	}
	return fmt.Errorf("append usage of tenant %s: %w: the stream moved on %d times", p.stream.TenantID, eventstore.ErrConflict, maxConflicts)
}

// readOn reads p's stream after the head known and moves the head to its
// end; it reports whether p's event is among what it read.
func (m *Meter) readOn(ctx context.Context, p pending) (stored bool, err error) {
	for {
		page, err := m.cfg.Store.ReadStream(ctx, p.stream.ID, m.heads[p.stream.ID], 0)
		if err != nil {
			return false, fmt.Errorf("read usage stream of tenant %s: %w", p.stream.TenantID, err)
		}
		if len(page) == 0 {
			return stored, nil
		}
		for i := range page {
			stored = stored || page[i].EventID == p.event.EventID
		}
		m.heads[p.stream.ID] = page[len(page)-1].Seq
	}
}
