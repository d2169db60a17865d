package secretscan

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }

func TestCheckFindsSecrets(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"key=axt_abcdefgh2345_abcdefghijklmnop",
		"token=axr_0190d2a46c1e7b3a9f0000000000abcd.AAAAAAAAAAAA",
		"jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
		"header=Authorization: Bearer x",
		"hash=$argon2id$v=19$m=19456",
		"password=hunter2hunter2",
	} {
		r := &recorder{TB: t}
		s := &Scanner{values: []string{"hunter2hunter2"}}
		fmt.Fprintln(s, "level=INFO msg=ok")
		fmt.Fprintln(s, line)
		s.check(r)
		if !r.failed {
			t.Errorf("%q passed the scan", line)
		}
	}
	r := &recorder{TB: t}
	s := &Scanner{}
	fmt.Fprintln(s, `level=WARN msg="unknown API key axt_abcdefgh2345" path=/v1/tasks`)
	s.check(r)
	if r.failed {
		t.Error("a key's public prefix failed the scan")
	}
}
