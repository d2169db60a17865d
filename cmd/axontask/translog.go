package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/wiring"
	"github.com/axontask/axontask/readapi"
	"github.com/axontask/axontask/translog"
)

// translogLockKey elects the one process per database that grows the
// transparency log's tree and signs its checkpoints. It never changes.
const translogLockKey int64 = 0x61786f6e5f746c67 // "axon_tlg"

// logPort returns tlog as readapi's port, or nil (not a nil pointer in an
// interface) when the deployment runs no log.
func logPort(tlog *translog.Log) readapi.TransparencyLog {
	if tlog == nil {
		return nil
	}
	return tlog
}

// devLogEnv returns the environment of the dev log: LOG_SIGNING_KEY and
// RECEIPT_SIGNING_KEY_ED25519 from the environment when set, otherwise from
// log.key and receipt.key in dataDir, generated (mode 0600) on first use.
// The origin of a generated key names the data dir's log uniquely.
func devLogEnv(dataDir string) (func(string) string, error) {
	logKey, err := keptKey(filepath.Join(dataDir, "log.key"), func() (string, error) {
		id := make([]byte, 4)
		if _, err := rand.Read(id); err != nil {
			return "", err
		}
		skey, _, err := note.GenerateKey(rand.Reader, "localhost/axontask-dev-"+hex.EncodeToString(id))
		return skey, err
	})
	if err != nil {
		return nil, err
	}
	receiptKey, err := keptKey(filepath.Join(dataDir, "receipt.key"), func() (string, error) {
		seed := make([]byte, 32)
		_, err := rand.Read(seed)
		return base64.StdEncoding.EncodeToString(seed), err
	})
	if err != nil {
		return nil, err
	}
	return func(name string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		switch name {
		case wiring.EnvLogSigningKey:
			return logKey
		case wiring.EnvReceiptSigningKey:
			return receiptKey
		}
		return ""
	}, nil
}

// keptKey returns the key kept in path, generating and writing it (mode
// 0600) when the file does not exist.
func keptKey(path string, generate func() (string, error)) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key, err := generate()
	if err != nil {
		return "", fmt.Errorf("generate %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

// runLogKeygen prints a new checkpoint key and receipt key for a
// deployment, as the environment variables serve reads, with their public
// keys. The private keys go to standard output only.
func runLogKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("log-keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	origin := fs.String("origin", "", "the log's origin line, naming the deployment, e.g. axontask.example.com/log (no spaces or +)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *origin == "" {
		return usageError("-origin is required: name the deployment, e.g. -origin axontask.example.com/log")
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, *origin)
	if err != nil {
		return usageError(fmt.Sprintf("-origin %q: %v", *origin, err))
	}
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	_, rvkey, err := integrity.Ed25519Signer(*origin+"/receipts", seed)
	if err != nil {
		return usageError(fmt.Sprintf("-origin %q: %v", *origin, err))
	}
	fmt.Fprintf(stdout, "%s=%s\n%s=%s\n", wiring.EnvLogSigningKey, skey, wiring.EnvReceiptSigningKey, base64.StdEncoding.EncodeToString(seed))
	fmt.Fprintf(stderr, "Keep the two lines above secret (they are the private keys). Auditors pin the public keys:\n  log:      %s\n  receipts: %s\n", vkey, rvkey)
	return nil
}
