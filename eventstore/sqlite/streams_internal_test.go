package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// TestListStreamsUsesPartialIndex: the stream list is a range of the
// partial index events_tenant_type_stream_idx in index order (no scan, no
// sort), and the key usage look-up probes its primary key.
func TestListStreamsUsesPartialIndex(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for _, tc := range []struct {
		query string
		args  []any
		want  string
	}{
		{dbsqlc.StreamsList, []any{"t", "api_key", "", 100}, "SEARCH events USING COVERING INDEX events_tenant_type_stream_idx"},
		{dbsqlc.APIKeyUsageGet, []any{`["k"]`}, "SEARCH api_key_usage USING INDEX sqlite_autoindex_api_key_usage_1"},
	} {
		for _, step := range checkPlan(t, s, tc.query, tc.args, tc.want) {
			if strings.HasPrefix(step, "SCAN events") || strings.HasPrefix(step, "SCAN api_key_usage") || strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("query %s does not follow an index: %s", tc.query, step)
			}
		}
	}
}
