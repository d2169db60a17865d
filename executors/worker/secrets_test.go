package worker_test

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/secrets"
)

// TestSecretsResolvedAndMasked: a shell task gets its env's secret
// references resolved, and its value is masked in the output, in progress
// messages and across chunks; a missing secret fails the task at once,
// saying which and how to create it.
func TestSecretsResolvedAndMasked(t *testing.T) {
	t.Parallel()
	const value = "s3cr3t-Value-0123456789"
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		key, _, err := secrets.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		vault := secrets.NewVault(s, secrets.NewKeyring(key), nil)
		if _, err := vault.Set(t.Context(), tenant, "API_TOKEN", []byte(value)); err != nil {
			t.Fatal(err)
		}
		r, err := worker.New(b.store, worker.Config{WorkerID: "w1", Executors: newRunnerExecutors(t), SecretsFunc: vault.Resolve})
		if err != nil {
			t.Fatal(err)
		}
		// The value printed whole, split across two writes with a pause
		// between them, in a progress message, and on stderr.
		script := `printf 'token=%s\n' "$TOKEN"; printf '%s' "${TOKEN%??????????}"; sleep 0.2; printf '%s\n' "${TOKEN#?????????????}"; ` +
			`echo "::progress 50 using $TOKEN"; echo "$TOKEN" >&2; echo "$PLAIN"`
		id := b.startTask(t, domain.AdapterShell, `{"command":["sh","-c",`+quote(script)+`],"env":{"TOKEN":{"secret":"API_TOKEN"},"PLAIN":"visible"}}`, 60)
		if err := r.Run(t.Context(), id, tenant); err != nil {
			t.Fatalf("Run: %v", err)
		}
		events := b.events(t, id)
		if last(events).Type != domain.TaskSucceededType {
			t.Fatalf("the task ended with %s", last(events).Type)
		}
		if got, want := output(t, events, domain.Stdout), "token=***\n***\nvisible\n"; got != want {
			t.Errorf("stdout %q, want %q", got, want)
		}
		if got := output(t, events, domain.Stderr); got != "***\n" {
			t.Errorf("stderr %q, want the value masked", got)
		}
		for _, e := range events {
			if strings.Contains(string(e.Payload), value) || strings.Contains(string(e.Payload), value[:10]) {
				t.Errorf("event %d (%s) holds the value: %s", e.Seq, e.Type, e.Payload)
			}
			if e.Type == domain.TaskProgressType && !strings.Contains(string(e.Payload), "using ***") {
				t.Errorf("progress %s is not masked", e.Payload)
			}
		}
		if list, _ := vault.List(t.Context(), tenant); len(list) != 1 || list[0].LastUsedAt.IsZero() {
			t.Errorf("the secret is not marked used: %+v", list)
		}

		missing := b.startTask(t, domain.AdapterShell, `{"command":["true"],"env":{"X":{"secret":"NOT_THERE"}}}`, 60)
		if err := r.Run(t.Context(), missing, tenant); err != nil {
			t.Fatalf("Run: %v", err)
		}
		events = b.events(t, missing)
		p, _ := domain.Decode(last(events).Type, last(events).Payload)
		f, ok := p.(*domain.TaskFailed)
		if !ok || !strings.Contains(f.Error, `"NOT_THERE"`) || !strings.Contains(f.Error, "axontask secret set NOT_THERE") {
			t.Fatalf("a task with a missing secret ended with %s %s, want task.failed naming the secret and how to create it", last(events).Type, last(events).Payload)
		}

		// A worker without secrets fails such a task, saying so.
		bare := newRunner(t, b, "w2")
		other := b.startTask(t, domain.AdapterShell, `{"command":["true"],"env":{"X":{"secret":"API_TOKEN"}}}`, 60)
		if err := bare.Run(t.Context(), other, tenant); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if events := b.events(t, other); last(events).Type != domain.TaskFailedType || !strings.Contains(string(last(events).Payload), "SECRETS_KEY") {
			t.Fatalf("a worker without secrets ended the task with %s", last(events).Payload)
		}
	})
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// TestSecretNotInPostgresDump: after a task printed its secret, a dump of
// the whole Postgres database holds the masked output and not the value.
func TestSecretNotInPostgresDump(t *testing.T) {
	t.Parallel()
	const value = "pg-dump-Secret-7a6b5c4d3e2f"
	url := testpg.NewDatabase(t, testpg.Fast)
	s, err := postgres.Open(t.Context(), url, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	b := setup(t, s)
	key, _, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	vault := secrets.NewVault(s, secrets.NewKeyring(key), nil)
	if _, err := vault.Set(t.Context(), tenant, "DB_PASSWORD", []byte(value)); err != nil {
		t.Fatal(err)
	}
	r, err := worker.New(b.store, worker.Config{WorkerID: "w1", Executors: newRunnerExecutors(t), SecretsFunc: vault.Resolve})
	if err != nil {
		t.Fatal(err)
	}
	id := b.startTask(t, domain.AdapterShell, `{"command":["sh","-c","echo password=$P"],"env":{"P":{"secret":"DB_PASSWORD"}}}`, 60)
	if err := r.Run(t.Context(), id, tenant); err != nil {
		t.Fatal(err)
	}
	pgDump, err := exec.LookPath("pg_dump")
	if dir, derr := testpg.BinDir(); derr == nil && os.Getenv(testpg.EnvURL) == "" {
		if p := filepath.Join(dir, "pg_dump"); fileExists(p) {
			pgDump, err = p, nil
		}
	}
	if err != nil {
		t.Skipf("no pg_dump (install postgresql-client); the SQLite store's bytes are checked in cmd/axontask")
	}
	dump, err := exec.CommandContext(t.Context(), pgDump, "--data-only", url).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	// Payloads are bytea, which a dump writes in hex.
	text := strings.ToLower(string(dump))
	if !strings.Contains(text, hex.EncodeToString([]byte("password=***"))) {
		t.Fatalf("the dump lacks the task's masked output (%d bytes)", len(dump))
	}
	if strings.Contains(string(dump), value) || strings.Contains(text, hex.EncodeToString([]byte(value))) {
		t.Fatal("the database dump holds the secret's value")
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
