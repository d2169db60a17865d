package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limit allows Rate requests per Period, up to Burst of them at once.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerMinute is a limit of rate requests a minute, all of which may come at once.
func PerMinute(rate int) Limit { return Limit{Rate: rate, Burst: rate, Period: time.Minute} }

func (l Limit) validate() error {
	if l.Rate < 1 || l.Burst < 1 || l.Period <= 0 {
		return fmt.Errorf("rate limit %d per %s (burst %d): rate, burst and period must be positive", l.Rate, l.Period, l.Burst)
	}
	return nil
}

// Decision is a limiter's answer to one request.
type Decision struct {
	// Allowed says whether the request may go ahead.
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is how long a refused request must wait (0 when allowed).
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to its full burst.
	ResetAfter time.Duration
}

// Limiter decides whether a request of key may go ahead under limit.
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// Redis is a Limiter whose state lives in Redis, under prefix + "rate:" + key.
type Redis struct {
	limiter *redis_rate.Limiter
	prefix  string
}

// NewRedis returns a Limiter on rdb; prefix separates deployments (and tests)
// that share a Redis.
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	return &Redis{limiter: redis_rate.NewLimiter(rdb), prefix: prefix}
}

// Allow decides on one request of key. Redis's clock decides, so every
// process agrees.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	if err := limit.validate(); err != nil {
		return Decision{}, err
	}
	res, err := r.limiter.Allow(ctx, r.prefix+key, redis_rate.Limit{Rate: limit.Rate, Burst: limit.Burst, Period: limit.Period})
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit: %w", err)
	}
	d := Decision{Allowed: res.Allowed > 0, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0)}
	if !d.Allowed {
		d.RetryAfter = max(res.RetryAfter, 0)
	}
	return d, nil
}

// maxMemoryKeys bounds the keys a Memory limiter tracks; past it, keys back
// at their full burst are forgotten first.
const maxMemoryKeys = 100_000

// ErrTooManyKeys is returned when a Memory limiter tracks maxMemoryKeys keys
// that are all still limited.
var ErrTooManyKeys = errors.New("rate limit: too many keys are limited at once")

// Memory is a Limiter for one process. Its zero value is not usable; use
// NewMemory.
type Memory struct {
	mu  sync.Mutex
	tat map[string]time.Time // each key's theoretical arrival time
	now func() time.Time
}

// NewMemory returns an in-process limiter reading the time from now (nil:
// time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{tat: make(map[string]time.Time), now: now}
}

// Allow decides on one request of key, as redis_rate's script does.
func (m *Memory) Allow(_ context.Context, key string, limit Limit) (Decision, error) {
	if err := limit.validate(); err != nil {
		return Decision{}, err
	}
	emission := limit.Period / time.Duration(limit.Rate)
	burstOffset := emission * time.Duration(limit.Burst)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	tat, ok := m.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(emission)
	diff := now.Sub(newTAT.Add(-burstOffset))
	if diff < 0 {
		return Decision{RetryAfter: -diff, ResetAfter: tat.Sub(now)}, nil
	}
	if !ok && len(m.tat) >= maxMemoryKeys && !m.sweep(now) {
		return Decision{}, ErrTooManyKeys
	}
	m.tat[key] = newTAT
	return Decision{Allowed: true, Remaining: int(diff / emission), ResetAfter: newTAT.Sub(now)}, nil
}

// sweep forgets the keys whose arrival time has passed (they are back at
// their full burst) and reports whether any went.
func (m *Memory) sweep(now time.Time) bool {
	n := len(m.tat)
	for k, t := range m.tat {
		if !t.After(now) {
			delete(m.tat, k)
		}
	}
	return len(m.tat) < n
}
