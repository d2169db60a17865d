package translog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
)

// Defaults of Config.
const (
	// DefaultCheckpointInterval is how often a growing log is checkpointed.
	DefaultCheckpointInterval = 2 * time.Second
	// DefaultBatch bounds the leaves one grow of the tree adds.
	DefaultBatch = 10_000
	// DefaultGrowInterval is the pause after a grow that caught up.
	DefaultGrowInterval = 200 * time.Millisecond
)

// Store is what the log needs of the event store: the feed it follows and
// the port that keeps its tree (both engines' stores have them).
type Store interface {
	eventstore.MerkleStore
	// WaitFeed blocks until the feed holds position pos or ctx ends.
	WaitFeed(ctx context.Context, pos int64) error
	// ReadStream returns up to limit events of a stream after afterSeq.
	ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error)
}

// Config configures a Log.
type Config struct {
	// Store holds the feed and the tree; required.
	Store Store
	// Signer signs checkpoints; its name is the log's origin line, which
	// names the deployment (e.g. "axontask.example.com/log"). Required.
	Signer note.Signer
	// SignerKey is Signer's public verifier key (note text form); required.
	SignerKey string
	// OldKeys are verifier keys the log signed with before a rotation,
	// still published so that old checkpoints and receipts verify.
	OldKeys []string
	// ReceiptSigner signs task receipts, and ReceiptKey is its verifier
	// key; without them the log issues no receipts.
	ReceiptSigner note.Signer
	ReceiptKey    string
	// OldReceiptKeys are verifier keys of receipt keys rotated out, still
	// published so that old receipts verify.
	OldReceiptKeys []string
	// Witnesses are the log's witnesses: their keys are published with
	// the log's, and the log submits each checkpoint to those with a URL
	// and serves their cosignatures with it.
	Witnesses []Witness
	// WitnessClient makes the requests to witnesses (default: a client
	// whose requests time out after WitnessTimeout).
	WitnessClient *http.Client
	// CheckpointInterval is how often Run signs a checkpoint while the tree
	// grows (default DefaultCheckpointInterval).
	CheckpointInterval time.Duration
	// Batch bounds the leaves one grow adds (default DefaultBatch).
	Batch int
	// GrowInterval is the pause after a grow that caught up with the feed
	// (default DefaultGrowInterval): the tree trails the feed by about
	// this much, and a busy store pays for a few large grows a second
	// rather than many small ones.
	GrowInterval time.Duration
	// Logger receives the builder's failures (default slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.GrowInterval <= 0 {
		c.GrowInterval = DefaultGrowInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.WitnessClient == nil {
		c.WitnessClient = &http.Client{Timeout: WitnessTimeout}
	}
	return c
}

// Log is the transparency log over a store's feed. It is safe for
// concurrent use.
type Log struct {
	*Prover
	cfg       Config
	origin    string
	witnesses []*witnessClient
}

// ProofStore is what a Prover reads: the stored tree.
type ProofStore interface {
	MerkleTreeSize(ctx context.Context) (int64, error)
	MerkleHashesRead(ctx context.Context, indexes []int64) ([]domain.Hash, error)
}

// Prover answers proofs from a stored tree, without keys: what a process
// that only reads the log (an export) needs. It is safe for concurrent use.
type Prover struct{ store ProofStore }

// NewProver returns a Prover over store's tree.
func NewProver(store ProofStore) *Prover { return &Prover{store: store} }

// New returns the log that cfg describes, or says what is missing.
func New(cfg Config) (*Log, error) {
	cfg = cfg.withDefaults()
	switch {
	case cfg.Store == nil:
		return nil, errors.New("translog config: Store is nil")
	case cfg.Signer == nil || cfg.SignerKey == "":
		return nil, errors.New("translog config: a checkpoint Signer and its SignerKey are required")
	case (cfg.ReceiptSigner == nil) != (cfg.ReceiptKey == ""):
		return nil, errors.New("translog config: give both ReceiptSigner and ReceiptKey, or neither")
	}
	for _, k := range slices.Concat([]string{cfg.SignerKey, cfg.ReceiptKey}, cfg.OldKeys, cfg.OldReceiptKeys) {
		if k == "" {
			continue
		}
		if _, err := note.NewVerifier(k); err != nil {
			return nil, fmt.Errorf("translog config: verifier key %q: %w", k, err)
		}
	}
	witnesses, err := newWitnessClients(cfg)
	if err != nil {
		return nil, err
	}
	return &Log{Prover: NewProver(cfg.Store), cfg: cfg, origin: cfg.Signer.Name(), witnesses: witnesses}, nil
}

// hashReader reads the stored tree's hashes for tlog.
func (p *Prover) hashReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hs, err := p.store.MerkleHashesRead(ctx, indexes)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, nil
	})
}

// checkSizes checks that 0 <= lo < hi <= the tree's size (lo <= hi when
// equal is allowed), naming the parameters of the proof endpoints: lo's
// when lo is negative or not below hi.
func (p *Prover) checkSizes(ctx context.Context, loName, hiName string, lo, hi int64, equal bool) error {
	switch {
	case lo < 0:
		return &domain.ValidationError{Field: loName, Reason: fmt.Sprintf("is %d; it must not be negative", lo)}
	case hi < lo || (hi == lo && !equal):
		return &domain.ValidationError{Field: loName, Reason: fmt.Sprintf("is %d; it must be below %s (%d)", lo, hiName, hi)}
	}
	size, err := p.store.MerkleTreeSize(ctx)
	if err != nil {
		return err
	}
	if hi > size {
		return &domain.ValidationError{Field: hiName, Reason: fmt.Sprintf("is %d, beyond the tree's %d leaves; ask for a size the latest checkpoint has", hi, size)}
	}
	return nil
}

// InclusionProof returns the RFC 6962 audit path of leaf index in the tree
// of size leaves (which must be stored: at most the tree's size). Bad
// arguments fail with a *domain.ValidationError naming "index" or "size".
func (p *Prover) InclusionProof(ctx context.Context, index, size int64) (integrity.InclusionProof, error) {
	proofs, err := p.InclusionProofs(ctx, []int64{index}, size)
	if err != nil {
		return integrity.InclusionProof{}, err
	}
	return proofs[0], nil
}

// InclusionProofs returns the audit paths of the leaves at indexes in the
// tree of size leaves, in the order asked, reading the hashes they need
// in one query: what an export with a proof of each event needs. Bad
// arguments fail as InclusionProof's do.
func (p *Prover) InclusionProofs(ctx context.Context, indexes []int64, size int64) ([]integrity.InclusionProof, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	if err := p.checkSizes(ctx, "index", "size", slices.Min(indexes), size, false); err != nil {
		return nil, err
	}
	if hi := slices.Max(indexes); hi >= size {
		return nil, &domain.ValidationError{Field: "index", Reason: fmt.Sprintf("is %d; it must be below size (%d)", hi, size)}
	}
	// tlog asks for the hashes a proof needs before it uses any: a first
	// pass with a reader that only notes the indexes finds them all.
	needed := map[int64]tlog.Hash{}
	noting := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		for _, i := range idx {
			needed[i] = tlog.Hash{}
		}
		return make([]tlog.Hash, len(idx)), nil
	})
	for _, index := range indexes {
		if _, err := tlog.ProveRecord(size, index, noting); err != nil {
			return nil, fmt.Errorf("prove leaf %d in the tree of size %d: %w", index, size, err)
		}
	}
	storage := slices.Sorted(maps.Keys(needed))
	hs, err := p.store.MerkleHashesRead(ctx, storage)
	if err != nil {
		return nil, err
	}
	for i, at := range storage {
		needed[at] = tlog.Hash(hs[i])
	}
	stored := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, at := range idx {
			out[i] = needed[at]
		}
		return out, nil
	})
	out := make([]integrity.InclusionProof, len(indexes))
	for k, index := range indexes {
		proof, err := tlog.ProveRecord(size, index, stored)
		if err != nil {
			return nil, fmt.Errorf("prove leaf %d in the tree of size %d: %w", index, size, err)
		}
		out[k] = integrity.InclusionProof{Index: index, Size: size, Hashes: integrity.FormatProof(fromTlog(proof))}
	}
	return out, nil
}

// ConsistencyProof returns the RFC 6962 proof that the tree of newSize
// leaves extends the tree of oldSize (0 < oldSize <= newSize <= the tree's
// size; an empty proof when they are equal). Bad arguments fail with a
// *domain.ValidationError naming "old" or "new".
func (p *Prover) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (integrity.ConsistencyProof, error) {
	if oldSize == 0 {
		return integrity.ConsistencyProof{}, &domain.ValidationError{Field: "old", Reason: "is 0; every tree extends the empty tree, so ask from a size of 1 or more"}
	}
	if err := p.checkSizes(ctx, "old", "new", oldSize, newSize, true); err != nil {
		return integrity.ConsistencyProof{}, err
	}
	proof, err := tlog.ProveTree(newSize, oldSize, p.hashReader(ctx))
	if err != nil {
		return integrity.ConsistencyProof{}, fmt.Errorf("prove the tree of size %d extends size %d: %w", newSize, oldSize, err)
	}
	return integrity.ConsistencyProof{Old: oldSize, New: newSize, Hashes: integrity.FormatProof(fromTlog(proof))}, nil
}

func fromTlog(p []tlog.Hash) []domain.Hash {
	out := make([]domain.Hash, len(p))
	for i, h := range p {
		out[i] = domain.Hash(h)
	}
	return out
}

// Keys returns the log's public keys.
func (l *Log) Keys() api.LogKeys {
	k := api.LogKeys{Origin: l.origin, Log: append([]string{l.cfg.SignerKey}, l.cfg.OldKeys...), Receipts: []string{}, Witnesses: []string{}}
	for _, w := range l.cfg.Witnesses {
		k.Witnesses = append(k.Witnesses, w.Key)
	}
	if l.cfg.ReceiptKey != "" {
		k.Receipts = append(k.Receipts, l.cfg.ReceiptKey)
	}
	k.Receipts = append(k.Receipts, l.cfg.OldReceiptKeys...)
	return k
}
