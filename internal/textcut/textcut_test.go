package textcut_test

import (
	"testing"

	"github.com/axontask/axontask/internal/textcut"
)

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc…"},
		{"café au lait", 4, "caf…"}, // é's two bytes are not split
		{"", 0, ""},
	} {
		if got := textcut.Clip(tc.s, tc.n); got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
