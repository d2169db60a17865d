package wiring

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/translog"
)

// Environment variables of the transparency log.
const (
	// EnvLogSigningKey is the checkpoint key, a note private key
	// (PRIVATE+KEY+<origin>+<hash>+<key>, as "axontask log-keygen" prints
	// it); its name is the log's origin line.
	EnvLogSigningKey = "LOG_SIGNING_KEY"
	// EnvReceiptSigningKey is the receipt key: the base64 of a 32-byte
	// Ed25519 seed (named <origin>/receipts), or a note private key.
	EnvReceiptSigningKey = "RECEIPT_SIGNING_KEY_ED25519"
	// EnvLogOldKeys lists, comma-separated, the verifier keys of checkpoint
	// keys rotated out, still published.
	EnvLogOldKeys = "LOG_OLD_KEYS"
	// EnvReceiptOldKeys lists, comma-separated, the verifier keys of
	// receipt keys rotated out, still published.
	EnvReceiptOldKeys = "RECEIPT_OLD_KEYS"
	// EnvLogWitnesses lists the log's witnesses, comma-separated: each a
	// witness's verifier key, then optionally a space and the base URL of
	// its C2SP tlog-witness endpoint, to which the log submits its
	// checkpoints (see translog.Witness).
	EnvLogWitnesses = "LOG_WITNESSES"
	// EnvLogCheckpointInterval is how often a growing log is checkpointed
	// (a Go duration, default translog.DefaultCheckpointInterval).
	EnvLogCheckpointInterval = "LOG_CHECKPOINT_INTERVAL"
)

// TransparencyLog returns the transparency log on store that getenv
// configures (the Env* variables), or nil when EnvLogSigningKey is unset:
// such a deployment keeps no tree and signs nothing. Errors name the
// variable, never a key.
func TransparencyLog(store translog.Store, getenv func(string) string, logger *slog.Logger) (*translog.Log, error) {
	skey := strings.TrimSpace(getenv(EnvLogSigningKey))
	if skey == "" {
		return nil, nil
	}
	signer, vkey, err := integrity.ParseSignerKey(skey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvLogSigningKey, err)
	}
	cfg := translog.Config{Store: store, Signer: signer, SignerKey: vkey, Logger: logger,
		OldKeys: list(getenv(EnvLogOldKeys)), OldReceiptKeys: list(getenv(EnvReceiptOldKeys))}
	for _, item := range list(getenv(EnvLogWitnesses)) {
		fields := strings.Fields(item)
		if len(fields) > 2 {
			return nil, fmt.Errorf("%s: an entry is a witness key, optionally followed by a space and its URL; %d words found in one entry (separate entries with commas)", EnvLogWitnesses, len(fields))
		}
		w := translog.Witness{Key: fields[0]}
		if len(fields) == 2 {
			w.URL = fields[1]
		}
		if err := w.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvLogWitnesses, err)
		}
		cfg.Witnesses = append(cfg.Witnesses, w)
	}
	if s := getenv(EnvLogCheckpointInterval); s != "" {
		if cfg.CheckpointInterval, err = time.ParseDuration(s); err != nil || cfg.CheckpointInterval < 100*time.Millisecond {
			return nil, fmt.Errorf("%s is %q; set it to a duration of 100ms or more, such as 2s", EnvLogCheckpointInterval, s)
		}
	}
	if rkey := strings.TrimSpace(getenv(EnvReceiptSigningKey)); rkey != "" {
		if cfg.ReceiptSigner, cfg.ReceiptKey, err = receiptSigner(rkey, signer.Name()+"/receipts"); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvReceiptSigningKey, err)
		}
	}
	return translog.New(cfg)
}

// receiptSigner parses the receipt key: a note private key, or the base64
// of an Ed25519 seed, then named name.
func receiptSigner(key, name string) (note.Signer, string, error) {
	if strings.HasPrefix(key, "PRIVATE+KEY+") {
		return integrity.ParseSignerKey(key)
	}
	seed, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, "", fmt.Errorf("want the base64 of a %d-byte Ed25519 seed, or a note private key", ed25519.SeedSize)
	}
	return integrity.Ed25519Signer(name, seed)
}

// list splits a comma-separated list, dropping empty items.
func list(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// ReceiptsFunc reports whether a tenant's plan in quotas includes receipts.
func ReceiptsFunc(quotas *commands.Quotas) func(ctx context.Context, tenantID string) (bool, error) {
	return func(ctx context.Context, tenantID string) (bool, error) {
		p, err := quotas.Plan(ctx, tenantID)
		return p.Receipts, err
	}
}
