package client_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// A Feed follows the tenant's events in commit order across pages,
// through a server that fails for a while, and resumes after the last
// position it gave; it sees none of another tenant's.
func TestFollowTheTenantFeed(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		c := b.client(t, tenantA)
		for range 3 {
			start(t, c, mockArgs)
		}
		start(t, b.client(t, tenantB), mockArgs)
		// Each start appends task.created and task.queued.
		feed := c.Follow(ctx, client.FeedOptions{After: -1, Limit: 2, PollInterval: 20 * time.Millisecond})
		var got []domain.Event
		for len(got) < 3 {
			e, err := feed.Next()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		fails := 0
		b.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/v1/events" && fails < 3 {
				fails++
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
			return false
		})
		resumed := c.Follow(ctx, client.FeedOptions{After: feed.LastPosition(), PollInterval: 20 * time.Millisecond})
		for len(got) < 6 {
			e, err := resumed.Next()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		for i, e := range got {
			if e.TenantID != b.owners[tenantA].TenantID || e.StreamType != domain.StreamTask || (i > 0 && e.Position <= got[i-1].Position) {
				t.Fatalf("event %d: tenant %s, position %d after %d", i, e.TenantID, e.Position, got[max(i-1, 0)].Position)
			}
		}
		if fails != 3 {
			t.Errorf("the feed met %d failures, want 3 retried", fails)
		}
	})
}
