package main

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/axontask/axontask/executors/sandbox"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
)

func TestMain(m *testing.M) {
	sandbox.Init() // the sandbox and cancel steps' tasks run this test binary as their init
	code := m.Run()
	testpg.StopAll()
	testredis.Stop()
	os.Exit(code)
}

// A smoke run takes every step of make bench end to end, each with its own
// checks (no event lost, no stream ended early, every task dispatched and
// canceled), and says in its report that its figures are not to be compared.
func TestSmoke(t *testing.T) {
	cfg, err := parseConfig([]string{"-smoke"})
	if err != nil {
		t.Fatal(err)
	}
	srv := servers{admin: testpg.AdminURL(t, testpg.Fast), redis: testredis.URL(t)}
	var out bytes.Buffer
	if err := report(t.Context(), srv, cfg, &out); err != nil {
		t.Fatalf("smoke run: %v\nreport so far:\n%s", err, out.String())
	}
	t.Logf("report:\n%s", out.String())
	if !strings.Contains(out.String(), smokeNotice) {
		t.Error("the report does not say it is a smoke run")
	}
	// Every step returns at least one row.
	rows := strings.Count(out.String(), "\n| ") - 1 // less the header
	if steps := len((&bench{}).steps()); rows < steps {
		t.Errorf("%d rows for %d steps", rows, steps)
	}
}

// -smoke picks the smoke sizes, and the size flags given override them.
func TestParseConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want sizes
	}{
		{nil, fullSizes},
		{[]string{"-smoke"}, smokeSizes},
		{[]string{"-smoke", "-rounds", "3", "-verify-events", "7"}, withRoundsAndVerify(smokeSizes, 3, 7)},
		{[]string{"-rounds", "2"}, withRoundsAndVerify(fullSizes, 2, fullSizes.verifyEvents)},
	} {
		cfg, err := parseConfig(tc.args)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if !reflect.DeepEqual(cfg.sizes, tc.want) {
			t.Errorf("%q: sizes %+v, want %+v", tc.args, cfg.sizes, tc.want)
		}
	}
}

func withRoundsAndVerify(s sizes, rounds, verifyEvents int) sizes {
	s.rounds, s.verifyEvents = rounds, verifyEvents
	return s
}
