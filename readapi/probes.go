package readapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// readyTimeout bounds how long Ready waits for the event store.
const readyTimeout = 2 * time.Second

// FeedHeader is what Ready asks of the event store (eventstore.Store has it).
type FeedHeader interface {
	// FeedHead returns the number of events in the global feed.
	FeedHead(ctx context.Context) (int64, error)
}

// Health answers the liveness probe (GET /healthz, no credential): 200
// {"status":"ok"} while the process serves at all.
func Health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
}

// Ready answers the readiness probe (GET /readyz, no credential): 200
// {"status":"ready","feed_head":N} when store tells its feed head within
// two seconds, else 503 {"status":"unavailable","reason":…}.
func Ready(store FeedHeader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		head, err := store.FeedHead(ctx)
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status":"unavailable","reason":"event store does not answer"}`)
			return
		}
		_, _ = fmt.Fprintf(w, `{"status":"ready","feed_head":%d}`, head)
	})
}
