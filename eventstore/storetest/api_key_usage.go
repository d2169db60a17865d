package storetest

import (
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// touch records uses and fails the test on an error.
func touch(t *testing.T, s eventstore.APIKeyUsageStore, uses map[string]time.Time) {
	t.Helper()
	if err := s.APIKeyUsageTouch(t.Context(), uses); err != nil {
		t.Fatalf("APIKeyUsageTouch(%d keys): %v", len(uses), err)
	}
}

// lastUsed reads the last uses of ids and fails the test on an error.
func lastUsed(t *testing.T, s eventstore.APIKeyUsageStore, ids ...string) map[string]time.Time {
	t.Helper()
	got, err := s.APIKeyUsageGet(t.Context(), ids)
	if err != nil {
		t.Fatalf("APIKeyUsageGet(%d ids): %v", len(ids), err)
	}
	if got == nil {
		t.Fatalf("APIKeyUsageGet(%d ids) returned nil, want a (possibly empty) map", len(ids))
	}
	return got
}

// checkUses fails unless got holds exactly want's keys at want's times
// (normalized to UTC microseconds), in UTC.
func checkUses(t *testing.T, what string, got, want map[string]time.Time) {
	t.Helper()
	for id, at := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: key %q is missing, want %s", what, id, domain.NormalizeTime(at))
		case !g.Equal(domain.NormalizeTime(at)) || g.Location() != time.UTC:
			t.Errorf("%s: key %q last used %s, want %s", what, id, g, domain.NormalizeTime(at))
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: key %q (last used %s) should be absent", what, id, g)
		}
	}
}

// testAPIKeyUsageTouch: last uses are upserted in batches, normalized to UTC
// microseconds, and never move backwards; keys never touched are absent;
// the uses are not events.
func testAPIKeyUsageTouch(t *testing.T, newStore Opener[APIKeyUsageStore]) {
	s := newStore(t, eventstore.Options{})
	t0 := baseTime // not UTC, with nanoseconds
	special := "key-<&>\"\\-é-\u2028"
	checkUses(t, "before any touch", lastUsed(t, s, "key-a", "key-b"), nil)

	touch(t, s, map[string]time.Time{"key-a": t0, "key-b": t0.Add(time.Second), special: t0.Add(time.Minute)})
	want := map[string]time.Time{"key-a": t0, "key-b": t0.Add(time.Second), special: t0.Add(time.Minute)}
	checkUses(t, "after the first batch", lastUsed(t, s, "key-a", "key-b", special, "key-never"), want)
	checkUses(t, "one key", lastUsed(t, s, "key-b"), map[string]time.Time{"key-b": t0.Add(time.Second)})
	checkUses(t, "a key twice", lastUsed(t, s, "key-b", "key-b"), map[string]time.Time{"key-b": t0.Add(time.Second)})
	checkUses(t, "unknown keys", lastUsed(t, s, "key-never", "key-A", "key-a "), nil)
	checkUses(t, "no keys", lastUsed(t, s), nil)

	// Earlier, equal and (after normalization) equal times leave a key
	// alone; a later one moves it. A batch mixes them with new keys.
	touch(t, s, map[string]time.Time{
		"key-a":  t0.Add(-time.Hour),
		"key-b":  t0.Add(2 * time.Second),
		special:  t0.Add(time.Minute + 400*time.Nanosecond), // the same microsecond
		"key-c":  t0.UTC(),
		"key--1": time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
	})
	want["key-b"] = t0.Add(2 * time.Second)
	want["key-c"] = t0
	want["key--1"] = time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)
	checkUses(t, "after the second batch", lastUsed(t, s, "key-a", "key-b", special, "key-c", "key--1", "key-never"), want)
	touch(t, s, map[string]time.Time{"key-a": t0, "key-c": t0.Add(-time.Microsecond)})
	touch(t, s, map[string]time.Time{"key-c": t0.Add(time.Nanosecond)}) // the same microsecond
	checkUses(t, "after touches at or before the stored times", lastUsed(t, s, "key-a", "key-c"),
		map[string]time.Time{"key-a": t0, "key-c": t0})
	touch(t, s, map[string]time.Time{"key-c": t0.Add(time.Microsecond)})
	checkUses(t, "after a touch one microsecond later", lastUsed(t, s, "key-c"), map[string]time.Time{"key-c": t0.Add(time.Microsecond)})

	// Empty batches write nothing.
	touch(t, s, nil)
	touch(t, s, map[string]time.Time{})
	checkUses(t, "after empty batches", lastUsed(t, s, "key-a", "key-b"), map[string]time.Time{"key-a": t0, "key-b": t0.Add(2 * time.Second)})

	// Not events: the feed holds nothing.
	expectFeedLen(t, s, 0)
}

// testAPIKeyUsageTouchBatchLimits: a batch of MaxTouchAPIKeys keys is written
// whole; a larger or invalid batch fails with a *domain.ValidationError
// and writes nothing; APIKeyUsageGet takes MaxAPIKeysLastUsed ids.
func testAPIKeyUsageTouchBatchLimits(t *testing.T, newStore Opener[APIKeyUsageStore]) {
	s := newStore(t, eventstore.Options{})
	full := make(map[string]time.Time, eventstore.MaxTouchAPIKeys)
	ids := make([]string, 0, eventstore.MaxTouchAPIKeys)
	for i := range eventstore.MaxTouchAPIKeys {
		id := fmt.Sprintf("key-%05d", i)
		full[id] = baseTime.Add(time.Duration(i) * time.Second)
		ids = append(ids, id)
	}
	touch(t, s, full)
	for from := 0; from < len(ids); from += eventstore.MaxAPIKeysLastUsed {
		chunk := ids[from:min(from+eventstore.MaxAPIKeysLastUsed, len(ids))]
		want := make(map[string]time.Time, len(chunk))
		for _, id := range chunk {
			want[id] = full[id]
		}
		checkUses(t, fmt.Sprintf("keys %d…", from), lastUsed(t, s, chunk...), want)
	}

	// One key over the limit: nothing is written, not even the new key.
	over := maps.Clone(full)
	for id, at := range over {
		over[id] = at.Add(time.Hour)
	}
	over["key-new"] = baseTime
	err := s.APIKeyUsageTouch(t.Context(), over)
	checkValidation(t, err, "uses")
	checkUses(t, "after a batch over the limit", lastUsed(t, s, "key-00000", "key-09999", "key-new"),
		map[string]time.Time{"key-00000": full["key-00000"], "key-09999": full["key-09999"]})

	// Invalid entries fail the whole batch.
	for name, bad := range map[string]map[string]time.Time{
		"empty key id":        {"": baseTime},
		"control character":   {"key\n": baseTime},
		"not UTF-8":           {"key-\xff": baseTime},
		"key id too long":     {strings.Repeat("k", domain.MaxIdentifierLen+1): baseTime},
		"zero time":           {"key-zero": {}},
		"year after 9999":     {"key-late": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"year before 1 (UTC)": {"key-early": time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 60*60))},
	} {
		t.Run(name, func(t *testing.T) {
			batch := maps.Clone(bad)
			batch["key-00000"] = baseTime.Add(100 * time.Hour) // valid, later: must not be written
			batch["key-valid"] = baseTime
			checkValidation(t, s.APIKeyUsageTouch(t.Context(), batch), "uses")
			checkUses(t, "after an invalid batch", lastUsed(t, s, "key-00000", "key-valid"),
				map[string]time.Time{"key-00000": full["key-00000"]})
		})
	}

	_, err = s.APIKeyUsageGet(t.Context(), append(ids[:eventstore.MaxAPIKeysLastUsed:eventstore.MaxAPIKeysLastUsed], "key-new"))
	checkValidation(t, err, "key_ids")
	_, err = s.APIKeyUsageGet(t.Context(), []string{"key-00000", ""})
	checkValidation(t, err, "key_ids[1]")
	_, err = s.APIKeyUsageGet(t.Context(), []string{"key\x7f"})
	checkValidation(t, err, "key_ids[0]")
}

// testAPIKeyUsageTouchConcurrent: batches touching the same keys at once, in
// every order, all succeed (no deadlock), and each key ends at the latest
// time any of them gave it.
func testAPIKeyUsageTouchConcurrent(t *testing.T, newStore Opener[APIKeyUsageStore]) {
	s := newStore(t, eventstore.Options{})
	const writers, rounds, keys = 8, 10, 50
	want := make(map[string]time.Time, keys)
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		for r := range rounds {
			batch := make(map[string]time.Time, keys)
			for k := range keys {
				id := fmt.Sprintf("key-%02d", k)
				// Times go up and down across writers and rounds; the
				// latest of key k is written by writer (k % writers).
				at := baseTime.Add(time.Duration((w+writers-k%writers)%writers*rounds+r) * time.Second)
				batch[id] = at
				if at.After(want[id]) {
					want[id] = at
				}
			}
			wg.Go(func() { errs <- s.APIKeyUsageTouch(t.Context(), batch) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent APIKeyUsageTouch: %v", err)
		}
	}
	ids := make([]string, 0, keys)
	for id := range want {
		ids = append(ids, id)
	}
	checkUses(t, "after concurrent batches", lastUsed(t, s, ids...), want)
}

// testAPIKeyUsageClosed: every method on a closed store fails with
// ErrClosed.
func testAPIKeyUsageClosed(t *testing.T, newStore Opener[APIKeyUsageStore]) {
	s := closedStore(t, newStore)
	ctx := t.Context()
	checkClosedCalls(t, map[string]func() error{
		"APIKeyUsageTouch": func() error { return s.APIKeyUsageTouch(ctx, map[string]time.Time{"key-1": baseTime}) },
		"APIKeyUsageGet": func() error {
			_, err := s.APIKeyUsageGet(ctx, []string{"key-1"})
			return err
		},
	})
}
