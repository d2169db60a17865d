package readapi

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/axontask/axontask/ratelimit"
)

// Default rate limits (Config.RequestLimit, Config.AuthLimit).
var (
	// DefaultRequestLimit bounds each API key's, user's or (for resume
	// tokens) client address's requests.
	DefaultRequestLimit = ratelimit.PerMinute(600)
	// DefaultAuthLimit bounds each client address's requests to /v1/auth,
	// where passwords are guessed.
	DefaultAuthLimit = ratelimit.PerMinute(20)
)

// rateLimitedError answers 429 with Retry-After.
type rateLimitedError struct {
	retryAfter time.Duration
}

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("too many requests; retry after %d s", retryAfterSeconds(e.retryAfter))
}

func retryAfterSeconds(d time.Duration) int { return int(math.Ceil(max(d, time.Second).Seconds())) }

// limit counts one request of key under limit (of kind, for
// Config.RateLimitedFunc) and sets the RateLimit
// headers (IETF draft: RateLimit-Limit, -Remaining, -Reset in seconds, and
// RateLimit-Policy). A refused request is a *rateLimitedError. When the
// limiter fails (Redis is down) the request goes ahead: limits protect the
// service, and refusing everything would be the outage they prevent.
func (a *api) limit(w http.ResponseWriter, r *http.Request, kind, key string, limit ratelimit.Limit) error {
	d, err := a.cfg.RateLimiter.Allow(r.Context(), key, limit)
	if err != nil {
		a.limiterDown.Note(r.Context(), err)
		return nil
	}
	a.limiterDown.Succeeded()
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(limit.Burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(d.Remaining, 0)))
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil(d.ResetAfter.Seconds()))))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d;burst=%d", limit.Rate, int(limit.Period.Seconds()), limit.Burst))
	if !d.Allowed {
		a.cfg.RateLimitedFunc(kind)
		return &rateLimitedError{retryAfter: d.RetryAfter}
	}
	return nil
}

// limitAddress limits the client address of r under limit, counted apart
// for each kind of request (auth, token): every limit has its own keys.
func (a *api) limitAddress(w http.ResponseWriter, r *http.Request, kind string, limit ratelimit.Limit) error {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return a.limit(w, r, kind, kind+"-ip:"+host, limit)
}
