package readapi_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/translog"
)

const testOrigin = "test.axontask.local/log"

// newLog returns a transparency log on s with fixed test keys, and a
// receipt key when receipts is set.
func newLog(t *testing.T, s teststores.Store, receipts bool) *translog.Log {
	t.Helper()
	signer, vkey, err := integrity.Ed25519Signer(testOrigin, bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	rsigner, rvkey, err := integrity.Ed25519Signer(testOrigin+"/receipts", bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := translog.Config{Store: s, Signer: signer, SignerKey: vkey, CheckpointInterval: 50 * time.Millisecond}
	if receipts {
		cfg.ReceiptSigner, cfg.ReceiptKey = rsigner, rvkey
	}
	l, err := translog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// finish starts a mock task, runs it and waits for its end.
func (b *bundle) finish(t *testing.T) string {
	t.Helper()
	id := b.start(t).TaskID
	b.run(t, id)
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := decode[status](t, b.do(t, "GET", "/mcp/tasks/"+id+"/status", tenantA, ""), http.StatusOK)
		if st.State == "succeeded" {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s is %s", id, st.State)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pinned reads the log's keys from /v1/log/keys, as an auditor pins them.
func (b *bundle) pinned(t *testing.T) integrity.ReceiptKeys {
	t.Helper()
	keys := decode[wire.LogKeys](t, b.send(t, "GET", "/v1/log/keys", ""), http.StatusOK)
	wellKnown := decode[wire.LogKeys](t, b.send(t, "GET", "/.well-known/axontask-log-keys", ""), http.StatusOK)
	if keys.Origin != testOrigin || len(keys.Log) != 1 || len(keys.Receipts) != 1 || wellKnown.Log[0] != keys.Log[0] {
		t.Fatalf("keys %+v, well-known %+v", keys, wellKnown)
	}
	var pinned integrity.ReceiptKeys
	var err error
	if pinned.Log, err = note.NewVerifier(keys.Log[0]); err != nil {
		t.Fatal(err)
	}
	if pinned.Receipt, err = note.NewVerifier(keys.Receipts[0]); err != nil {
		t.Fatal(err)
	}
	return pinned
}

// export reads a task's events as an export.
func (b *bundle) export(t *testing.T, id string) []byte {
	t.Helper()
	page := decode[struct {
		Events []map[string]any `json:"events"`
	}](t, b.do(t, "GET", "/v1/tasks/"+id+"/events?limit=1000", tenantA, ""), http.StatusOK)
	events, err := b.store.ReadStream(t.Context(), id, 0, 1000)
	if err != nil || len(events) != len(page.Events) {
		t.Fatalf("read %s: %d events (%v), the API shows %d", id, len(events), err, len(page.Events))
	}
	var out []byte
	for i := range events {
		out, _ = events[i].AppendJSON(out)
		out = append(out, '\n')
	}
	return out
}

// TestReceipt: an ended task's receipt, fetched by its tenant, verifies
// offline against the task's export and the keys the API publishes; a
// newer checkpoint's consistency proof extends it. Another tenant's task is
// not found; a plan without receipts is refused.
func TestReceipt(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{log: true}, func(t *testing.T, b *bundle) {
		keys := b.pinned(t)
		id := b.finish(t)
		r := decode[integrity.Receipt](t, b.do(t, "GET", "/mcp/tasks/"+id+"/receipt", tenantA, ""), http.StatusOK)
		if r.TaskID != id || r.TenantID != b.tenants[tenantA] || r.State != "succeeded" {
			t.Fatalf("receipt %+v", r)
		}
		rep, err := integrity.VerifyReceiptExport(bytes.NewReader(b.export(t, id)), &r, keys, nil)
		if err != nil {
			t.Fatal(err)
		}
		// More events, then a newer checkpoint that extends the receipt's.
		b.finish(t)
		var latest integrity.Checkpoint
		for latest.Size <= rep.Checkpoint.Size {
			resp := b.do(t, "GET", "/v1/log/checkpoint", tenantB, "")
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Fatalf("checkpoint: %d %s", resp.StatusCode, body)
			}
			if latest, err = integrity.OpenCheckpoint(body, keys.Log); err != nil {
				t.Fatal(err)
			}
			newer := &integrity.Newer{Checkpoint: string(body)}
			newer.Consistency = decode[integrity.ConsistencyProof](t, b.do(t, "GET",
				"/v1/log/proof/consistency?old="+itoa(rep.Checkpoint.Size)+"&new="+itoa(latest.Size), tenantB, ""), http.StatusOK)
			if _, err := integrity.VerifyReceiptExport(bytes.NewReader(b.export(t, id)), &r, keys, newer); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		incl := decode[integrity.InclusionProof](t, b.do(t, "GET", "/v1/log/proof/inclusion?index="+itoa(r.LeafIndex)+"&size="+itoa(latest.Size), tenantA, ""), http.StatusOK)
		if incl.Index != r.LeafIndex || incl.Size != latest.Size || len(incl.Hashes) == 0 {
			t.Fatalf("inclusion proof %+v", incl)
		}

		problem := decode[wire.Problem](t, b.do(t, "GET", "/mcp/tasks/"+id+"/receipt", tenantB, ""), http.StatusNotFound)
		if problem.Status != http.StatusNotFound {
			t.Fatalf("another tenant's receipt: %+v", problem)
		}
	})
}

// TestReceiptRefused: no receipt on a plan without them, nor before the
// task ends.
func TestReceiptRefused(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{log: true, noReceipts: true}, func(t *testing.T, b *bundle) {
		id := b.finish(t)
		decode[wire.Problem](t, b.do(t, "GET", "/mcp/tasks/"+id+"/receipt", tenantA, ""), http.StatusForbidden)
	})
	forEachStore(t, setupOpts{log: true, noReceiptKey: true}, func(t *testing.T, b *bundle) {
		id := b.finish(t)
		p := decode[wire.Problem](t, b.do(t, "GET", "/mcp/tasks/"+id+"/receipt", tenantA, ""), http.StatusNotFound)
		if !strings.Contains(p.Detail, "RECEIPT_SIGNING_KEY_ED25519") {
			t.Fatalf("a receipt without a receipt key: %+v", p)
		}
	})
	forEachStore(t, setupOpts{log: true}, func(t *testing.T, b *bundle) {
		id := b.start(t).TaskID
		p := decode[wire.Problem](t, b.do(t, "GET", "/mcp/tasks/"+id+"/receipt", tenantA, ""), http.StatusBadRequest)
		if p.Field != "id" {
			t.Fatalf("receipt of a queued task: %+v", p)
		}
	})
}

// TestLogProofParameters: bad proof parameters answer 400 naming the
// parameter; without a log the routes answer 404.
func TestLogProofParameters(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{log: true}, func(t *testing.T, b *bundle) {
		b.finish(t)
		for _, tc := range []struct{ query, field string }{
			{"inclusion?size=3", "index"},
			{"inclusion?index=1", "size"},
			{"inclusion?index=x&size=3", "index"},
			{"inclusion?index=-1&size=3", "index"},
			{"inclusion?index=3&size=3", "index"},
			{"inclusion?index=0&size=100000", "size"},
			{"consistency?old=1", "new"},
			{"consistency?old=0&new=2", "old"},
			{"consistency?old=3&new=2", "old"},
			{"consistency?old=1&new=100000", "new"},
		} {
			p := decode[wire.Problem](t, b.do(t, "GET", "/v1/log/proof/"+tc.query, tenantA, ""), http.StatusBadRequest)
			if p.Field != tc.field {
				t.Errorf("%s: problem names %q, want %q: %s", tc.query, p.Field, tc.field, p.Detail)
			}
		}
		decode[wire.Problem](t, b.do(t, "GET", "/v1/log/proof/inclusion?index=0&size=1", "", ""), http.StatusUnauthorized)
	})
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		decode[wire.Problem](t, b.send(t, "GET", "/v1/log/keys", ""), http.StatusNotFound)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
