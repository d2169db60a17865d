package fly

import "testing"

func TestAuthorization(t *testing.T) {
	t.Parallel()
	for token, want := range map[string]string{
		"fo1_abc":                    "Bearer fo1_abc",
		"Bearer fo1_abc\n":           "Bearer fo1_abc",
		"fm2_abc":                    "FlyV1 fm2_abc",
		"FlyV1 fm2_abc,fm2_def":      "FlyV1 fm2_abc,fm2_def",
		" FlyV1 fm1r_abc, fm1a_def ": "FlyV1 fm1r_abc, fm1a_def",
	} {
		if got := authorization(token); got != want {
			t.Errorf("authorization(%q) = %q, want %q", token, got, want)
		}
	}
}
