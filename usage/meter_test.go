package usage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/usage"
)

func TestMain(m *testing.M) { testpg.Main(m) }

const tenant = "tenant-a"

var now = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

// lossyStore is a real store whose next appends are stored but answered
// with an error, as when the connection drops after the commit.
type lossyStore struct {
	teststores.Store
	mu   sync.Mutex
	lose int
}

var errLost = errors.New("connection lost after the commit")

func (s *lossyStore) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	stored, err := s.Store.Append(ctx, stream, expectedSeq, events)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.lose > 0 {
		s.lose--
		return nil, errLost
	}
	return stored, err
}

func newMeter(t *testing.T, s teststores.Store) *usage.Meter {
	t.Helper()
	m, err := usage.NewMeter(usage.Config{Store: s, NowFunc: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// recorded returns the usage events of the tenant's stream of now's day.
func recorded(t *testing.T, s teststores.Store) []domain.UsageRecorded {
	t.Helper()
	evs, err := s.ReadStream(t.Context(), usage.StreamID(tenant, now), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]domain.UsageRecorded, len(evs))
	for i, e := range evs {
		if e.Type != domain.UsageRecordedType || e.StreamType != domain.StreamUsage || e.TenantID != tenant {
			t.Fatalf("event %d: %s in a %s stream of %s", i, e.Type, e.StreamType, e.TenantID)
		}
		p, err := domain.Decode(e.Type, e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = *p.(*domain.UsageRecorded)
	}
	return out
}

func sum(rs []domain.UsageRecorded) (streams, bytes, calls int64) {
	for _, r := range rs {
		streams, bytes, calls = streams+r.StreamsOpened, bytes+r.BytesStreamed, calls+r.MCPCalls
	}
	return
}

// TestFlushRetriedOnce loses the answers of committed appends: the flushes
// retried later are stored once, and the counts of the windows between
// are not lost either.
func TestFlushRetriedOnce(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		ls := &lossyStore{Store: s, lose: 1}
		m, err := usage.NewMeter(usage.Config{Store: ls, NowFunc: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		c := m.Tenant(tenant)
		c.StreamOpened()
		c.BytesSent(100)
		if err := m.Flush(t.Context()); !errors.Is(err, errLost) {
			t.Fatalf("first flush: %v, want the lost answer", err)
		}
		c.MCPCall()
		if err := m.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		rs := recorded(t, s)
		if len(rs) != 2 {
			t.Fatalf("%d events, want 2 (the retried window once, then the next): %+v", len(rs), rs)
		}
		if st, b, mc := sum(rs); st != 1 || b != 100 || mc != 1 {
			t.Errorf("sums: %d streams, %d bytes, %d calls; want 1, 100, 1", st, b, mc)
		}
	})
}

// TestFlushConcurrentProcesses has several processes flush to one usage
// stream at once, one of them losing an answer after the commit: every
// count is stored once.
func TestFlushConcurrentProcesses(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		const processes, rounds = 4, 5
		var wg sync.WaitGroup
		errs := make(chan error, processes*rounds)
		for p := range processes {
			lose := 0
			if p == 0 {
				lose = 2
			}
			m, err := usage.NewMeter(usage.Config{Store: &lossyStore{Store: s, lose: lose}, NowFunc: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				for range rounds {
					m.Tenant(tenant).StreamOpened()
					m.Tenant(tenant).BytesSent(10)
					if err := m.Flush(t.Context()); err != nil && !errors.Is(err, errLost) {
						errs <- err
					}
				}
				if err := m.Flush(t.Context()); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if st, b, _ := sum(recorded(t, s)); st != processes*rounds || b != 10*processes*rounds {
			t.Errorf("sums: %d streams, %d bytes; want %d, %d", st, b, processes*rounds, 10*processes*rounds)
		}
	})
}

// TestRunFlushesAtStop stops a running meter: what it counted is flushed.
func TestRunFlushesAtStop(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		m := newMeter(t, s)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		m.Tenant(tenant).StreamOpened()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st, _, _ := sum(recorded(t, s)); st != 1 {
			t.Errorf("%d streams recorded at stop, want 1", st)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	if _, err := usage.NewMeter(usage.Config{}); err == nil {
		t.Error("a meter without a store was made")
	}
	var nilMeter *usage.Meter
	nilMeter.Tenant(tenant).StreamOpened() // counts nothing, does not panic
}
