package utf8cut_test

import (
	"testing"

	"github.com/axontask/axontask/executors/internal/utf8cut"
)

func TestComplete(t *testing.T) {
	t.Parallel()
	euro := "€" // e2 82 ac
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"a" + euro, 4},
		{"a" + euro[:1], 1},
		{"a" + euro[:2], 1},
		{"a😀"[:4], 1},
		{"\xff", 1},             // invalid: nothing can complete it
		{"a\x82", 2},            // a stray continuation byte
		{"\xe2\x82\xe2\x82", 2}, // an invalid sequence, then a cut one
	}
	for _, tt := range tests {
		if got := utf8cut.Complete([]byte(tt.in)); got != tt.want {
			t.Errorf("utf8cut.Complete(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
