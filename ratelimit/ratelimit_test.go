package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/ratelimit"
)

// Both limiters let a burst through, refuse the next request with a
// retry-after of one emission interval, and keep keys apart.
func TestLimiters(t *testing.T) {
	t.Parallel()
	limiters := map[string]func(t *testing.T) ratelimit.Limiter{
		"memory": func(*testing.T) ratelimit.Limiter { return ratelimit.NewMemory(nil) },
		"redis": func(t *testing.T) ratelimit.Limiter {
			return ratelimit.NewRedis(testredis.Client(t), testredis.Prefix(t))
		},
	}
	for name, newLimiter := range limiters {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := newLimiter(t)
			ctx := context.Background()
			limit := ratelimit.Limit{Rate: 5, Burst: 5, Period: time.Hour}
			for i := range 5 {
				d, err := l.Allow(ctx, "k", limit)
				if err != nil || !d.Allowed || d.Remaining != 4-i {
					t.Fatalf("request %d: %+v, %v; want allowed with %d remaining", i+1, d, err, 4-i)
				}
			}
			d, err := l.Allow(ctx, "k", limit)
			if err != nil || d.Allowed {
				t.Fatalf("request 6: %+v, %v; want refused", d, err)
			}
			if d.RetryAfter < 11*time.Minute || d.RetryAfter > 12*time.Minute {
				t.Fatalf("retry after %s, want about 12m (one hour / 5)", d.RetryAfter)
			}
			if d, err := l.Allow(ctx, "other", limit); err != nil || !d.Allowed {
				t.Fatalf("another key: %+v, %v", d, err)
			}
			if _, err := l.Allow(ctx, "k", ratelimit.Limit{}); err == nil {
				t.Fatal("a zero limit was accepted")
			}
		})
	}
}

// The in-memory limiter refills at the limit's rate.
func TestMemoryRefills(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	l := ratelimit.NewMemory(func() time.Time { return now })
	limit := ratelimit.Limit{Rate: 2, Burst: 2, Period: time.Second}
	allowed := 0
	for range 10 {
		if d, _ := l.Allow(context.Background(), "k", limit); d.Allowed {
			allowed++
		}
	}
	if allowed != 2 {
		t.Fatalf("%d allowed at once, want the burst of 2", allowed)
	}
	now = now.Add(500 * time.Millisecond)
	if d, _ := l.Allow(context.Background(), "k", limit); !d.Allowed {
		t.Fatal("no request allowed after one emission interval")
	}
	if d, _ := l.Allow(context.Background(), "k", limit); d.Allowed {
		t.Fatal("two requests allowed after one emission interval")
	}
}
