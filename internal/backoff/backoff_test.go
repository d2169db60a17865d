package backoff_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/backoff"
)

func TestRetryLogsStateChangesOnly(t *testing.T) {
	var logs bytes.Buffer
	r := &backoff.Retry{What: "test: call", Logger: slog.New(slog.NewTextHandler(&logs, nil)), Min: time.Millisecond, Max: 4 * time.Millisecond}
	ctx := context.Background()
	for range 10 {
		if err := r.Failed(ctx, errors.New("connection refused")); err != nil {
			t.Fatal(err)
		}
	}
	if !r.Failing() {
		t.Fatal("Failing is false after failures")
	}
	r.Succeeded()
	r.Succeeded()
	if r.Failing() {
		t.Fatal("Failing is true after a success")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("10 failures and 2 successes logged %d lines, want 2 (one per state change):\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "connection refused") {
		t.Errorf("first line does not warn with the error: %s", lines[0])
	}
	if !strings.Contains(lines[1], "level=INFO") || !strings.Contains(lines[1], "failed_attempts=10") {
		t.Errorf("second line does not say the call works again after 10 attempts: %s", lines[1])
	}
}

func TestRetryBacksOffWithinBounds(t *testing.T) {
	r := &backoff.Retry{What: "test: call", Logger: slog.New(slog.DiscardHandler), Min: 2 * time.Millisecond, Max: 16 * time.Millisecond}
	ctx := context.Background()
	var total time.Duration
	for i := range 8 {
		began := time.Now()
		_ = r.Failed(ctx, errors.New("down"))
		d := time.Since(began)
		total += d
		// Pauses run 2, 4, 8, 16, 16, … ms, each jittered down to half.
		want := min(2*time.Millisecond<<i, 16*time.Millisecond)
		if d < want/2 {
			t.Errorf("pause %d lasted %s, less than half of %s", i, d, want)
		}
	}
	if total > 2*time.Second {
		t.Errorf("8 pauses bounded by 16 ms took %s", total)
	}
}

func TestRetryReturnsWhenContextEnds(t *testing.T) {
	r := &backoff.Retry{What: "test: call", Logger: slog.New(slog.DiscardHandler), Min: time.Hour, Max: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Failed(ctx, errors.New("down")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Failed on an ended context returned %v", err)
	}
}
