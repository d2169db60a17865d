package teststores

import (
	"testing"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testwait"
)

// TaskStreams returns the tasks of tenantID whose events the feed of s
// holds, by id. It reads the feed once a marker task of the tenant
// "marker", started now, is in it: the feed is in commit order, so
// whatever committed before is there too, on Postgres as on SQLite. A
// test asserts with it that a refused write stored nothing.
func TaskStreams(t *testing.T, s Store, tenantID string) map[string]bool {
	t.Helper()
	h, err := commands.NewStartTaskHandler(s, commands.StartTaskConfig{})
	if err != nil {
		t.Fatal(err)
	}
	marker, err := h.Handle(t.Context(), commands.StartTask{TenantID: "marker", Name: "marker", Adapter: domain.AdapterMock})
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string]bool{}
	testwait.For(t, "the marker task in the feed", func() bool {
		clear(streams)
		seen := false
		for from := int64(0); ; {
			page, err := s.ReadFeed(t.Context(), from, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				return seen
			}
			for _, e := range page {
				seen = seen || e.StreamID == marker.TaskID.String()
				if e.TenantID == tenantID && e.StreamType == domain.StreamTask {
					streams[e.StreamID] = true
				}
			}
			from = page[len(page)-1].Position + 1
		}
	})
	return streams
}
