package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/axontask/axontask/integrity"
)

// Tampering done directly in the database is caught by offline
// verification, which names the first bad event and the rule it breaks.
func TestTamperingIsDetected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tamper  string // SQL with $1 = stream id
		feed    bool   // verify the feed instead of the stream
		wantSeq int64
		want    integrity.Kind
	}{
		{
			name:    "edited payload",
			tamper:  `UPDATE events SET payload = convert_to('{"data":"all tests passed\n","offset":0,"stream":"stdout"}', 'UTF8') WHERE stream_id = $1 AND seq = 3`,
			wantSeq: 3, want: integrity.WrongDigest,
		},
		{
			name:    "edited hash",
			tamper:  `UPDATE events SET hash = sha256(hash) WHERE stream_id = $1 AND seq = 3`,
			wantSeq: 3, want: integrity.WrongHash,
		},
		{
			name: "edited payload with its digest recomputed",
			tamper: `UPDATE events SET payload = convert_to('{"data":"ok\n","offset":0,"stream":"stdout"}', 'UTF8') WHERE stream_id = $1 AND seq = 3;
			         UPDATE events SET payload_digest = sha256(payload_salt || payload) WHERE stream_id = $1 AND seq = 3`,
			wantSeq: 3, want: integrity.WrongHash,
		},
		{
			name:    "deleted event",
			tamper:  `DELETE FROM events WHERE stream_id = $1 AND seq = 3`,
			wantSeq: 4, want: integrity.SeqGap,
		},
		{
			name: "swapped seqs",
			tamper: `UPDATE events SET seq = CASE seq WHEN 3 THEN 1000 END WHERE stream_id = $1 AND seq = 3;
			         UPDATE events SET seq = 3 WHERE stream_id = $1 AND seq = 4;
			         UPDATE events SET seq = 4 WHERE stream_id = $1 AND seq = 1000`,
			wantSeq: 3, want: integrity.BrokenLink,
		},
		{
			name: "reordered in the feed",
			tamper: `ALTER TABLE ledger DROP CONSTRAINT ledger_first_position_check;
			         UPDATE ledger SET first_position = -first_position - 1 WHERE stream_id = $1 AND first_seq IN (3, 4);
			         UPDATE ledger SET first_position = CASE WHEN first_seq = 3 THEN 3 ELSE 2 END WHERE stream_id = $1 AND first_position < 0`,
			// A streaming verifier meets seq 4 first: a gap ("removed, or out of order").
			feed: true, wantSeq: 4, want: integrity.SeqGap,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, url := openStore(t, Config{})
			ctx := context.Background()
			stream := taskStream("tenant-a")
			// One append per event, so that each event has a ledger run of its own.
			for i := range 6 {
				if _, err := s.Append(ctx, stream, int64(i), outputEvents(1, i)); err != nil {
					t.Fatal(err)
				}
			}
			waitFeed(t, s, 6)
			if err := integrity.Verify(readWholeFeed(t, s)); err != nil {
				t.Fatalf("untouched log fails verification: %v", err)
			}
			for _, stmt := range splitStatements(tc.tamper) {
				var args []any
				if strings.Contains(stmt, "$1") {
					args = append(args, stream.ID)
				}
				if _, err := s.pool.Exec(ctx, stmt, args...); err != nil {
					t.Fatalf("tamper: %v\n%s", err, stmt)
				}
			}
			// Another process reads the tampered feed, as an auditor's
			// export does: this one's feed cache still holds what it read.
			events := readWholeFeed(t, openStoreAt(t, url, Config{}))
			if !tc.feed {
				var err error
				if events, err = s.ReadStream(ctx, stream.ID, 0, 100); err != nil {
					t.Fatal(err)
				}
			}
			err := integrity.Verify(events)
			var verr *integrity.VerifyError
			if !errors.As(err, &verr) {
				t.Fatalf("Verify = %v, want a *VerifyError", err)
			}
			if verr.Kind != tc.want || verr.Seq != tc.wantSeq {
				t.Fatalf("Verify names %s at seq %d, want %s at seq %d: %v", verr.Kind, verr.Seq, tc.want, tc.wantSeq, err)
			}
			t.Log(err)
		})
	}
}

// splitStatements splits tamper SQL at semicolons (pgx runs one statement
// per Exec when it has arguments).
func splitStatements(sql string) []string {
	return strings.Split(sql, ";")
}
