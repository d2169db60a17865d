package translog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/internal/textcut"
)

// Witness is a witness of the log (C2SP tlog-witness): a third party that
// cosigns a checkpoint only after checking that it extends the last one it
// cosigned, so that a log cannot show two auditors two trees without every
// witness signing both.
type Witness struct {
	// Key is the witness's verifier key (integrity.NewWitnessVerifier):
	// published with the log's keys, and what its cosignatures are checked
	// against before they are stored.
	Key string
	// URL is the witness's base URL; the log posts its checkpoints to
	// URL + "/add-checkpoint". Empty: the log only publishes the key (the
	// witness gets the log's checkpoints some other way).
	URL string
}

// WitnessTimeout bounds one request to a witness.
const WitnessTimeout = 10 * time.Second

// maxWitnessAnswer bounds what the log reads of a witness's answer.
const maxWitnessAnswer = 16 << 10

// witnessClient submits the log's checkpoints to one witness and keeps
// the largest size it has cosigned.
type witnessClient struct {
	Witness
	verifier note.Verifier
	endpoint string
	http     *http.Client
	retry    *backoff.Retry
	// size is the largest tree size the witness is known to have
	// cosigned (read from the store at the first submission; -1 until
	// then).
	size int64
}

// verifier checks w and returns its key's verifier; errors say what is
// wrong with the key or the URL.
func (w Witness) verifier() (note.Verifier, error) {
	v, err := integrity.NewWitnessVerifier(w.Key)
	if err != nil {
		return nil, err
	}
	if w.URL != "" {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("witness %s: URL %q is not an http(s) URL without query or fragment", v.Name(), w.URL)
		}
	}
	return v, nil
}

// Check reports what is wrong with w's key or URL, or nil.
func (w Witness) Check() error {
	_, err := w.verifier()
	return err
}

// newWitnessClients returns the clients of the witnesses that have a URL.
func newWitnessClients(cfg Config) ([]*witnessClient, error) {
	var out []*witnessClient
	for _, w := range cfg.Witnesses {
		v, err := w.verifier()
		if err != nil {
			return nil, fmt.Errorf("translog config: %w", err)
		}
		if w.URL == "" {
			continue
		}
		out = append(out, &witnessClient{
			Witness: w, verifier: v, endpoint: strings.TrimSuffix(w.URL, "/") + "/add-checkpoint",
			http:  cfg.WitnessClient,
			retry: &backoff.Retry{Dependency: backoff.DependencyWitness, What: "transparency log: cosign at witness " + v.Name(), Logger: cfg.Logger},
			size:  -1,
		})
	}
	return out, nil
}

// cosign submits cp to every witness that has not cosigned it yet, at
// once, and stores the cosignatures they return. A witness that fails is
// logged once per outage and asked again with the next checkpoint.
func (l *Log) cosign(ctx context.Context, cp eventstore.MerkleCheckpoint) {
	var wg sync.WaitGroup
	for _, c := range l.witnesses {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, WitnessTimeout)
			defer cancel()
			if err := c.submit(ctx, l, cp); err != nil {
				if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
					c.retry.Note(ctx, err)
				}
				return
			}
			c.retry.Succeeded()
		})
	}
	wg.Wait()
}

// submit asks the witness to cosign cp, from the size it last cosigned,
// and stores its cosignature. A witness that knows another size than the
// log thought (409) is asked once more, from that size (its own size
// again, with an empty proof, when it cosigned cp but its answer was
// lost).
func (c *witnessClient) submit(ctx context.Context, l *Log, cp eventstore.MerkleCheckpoint) error {
	if c.size < 0 {
		size, found, err := l.cfg.Store.MerkleCosignedSize(ctx, c.Key)
		if err != nil {
			return err
		}
		c.size = 0
		if found {
			c.size = size
		}
	}
	if c.size >= cp.Size {
		return nil
	}
	old := c.size
	for try := 1; ; try++ {
		known, line, err := c.addCheckpoint(ctx, l, cp, old)
		switch {
		case err != nil:
			return err
		case line != nil:
			if err := l.cfg.Store.MerkleCosignaturePut(ctx, cp.Size, c.Key, line); err != nil {
				return err
			}
			c.size = cp.Size
			return nil
		case known > cp.Size:
			return fmt.Errorf("the witness has cosigned a tree of %d leaves, larger than this log's %d: it witnesses another log of the same origin, or this log lost leaves", known, cp.Size)
		case try == 2:
			return fmt.Errorf("the witness answered 409 twice (it now says it has cosigned %d leaves)", known)
		}
		old = known
	}
}

// addCheckpoint posts cp to the witness's add-checkpoint endpoint with
// the consistency proof from old (C2SP tlog-witness). It returns the
// witness's cosignature line, checked against its key; or, when the
// witness knows another old size (409), that size and no line.
func (c *witnessClient) addCheckpoint(ctx context.Context, l *Log, cp eventstore.MerkleCheckpoint, old int64) (int64, []byte, error) {
	var body bytes.Buffer
	fmt.Fprintf(&body, "old %d\n", old)
	if old > 0 && old < cp.Size {
		proof, err := l.ConsistencyProof(ctx, old, cp.Size)
		if err != nil {
			return 0, nil, err
		}
		for _, h := range proof.Hashes { // base64 already, as tlog-witness wants them
			body.WriteString(h + "\n")
		}
	}
	body.WriteString("\n")
	body.Write(cp.Note)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, &body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxWitnessAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("read the witness's answer: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		line, err := c.cosignatureIn(cp.Note, answer)
		return cp.Size, line, err
	case http.StatusConflict:
		known, err := strconv.ParseInt(strings.TrimSpace(string(answer)), 10, 64)
		if err != nil || known < 0 {
			return 0, nil, fmt.Errorf("the witness answered 409 without a tree size: %q", textcut.Clip(string(answer), 200))
		}
		return known, nil, nil
	}
	return 0, nil, fmt.Errorf("the witness answered %s: %q", resp.Status, textcut.Clip(string(answer), 200))
}

// cosignatureIn returns the witness's signature line among the lines of
// answer, checked over the checkpoint note msg.
func (c *witnessClient) cosignatureIn(msg, answer []byte) ([]byte, error) {
	n, err := note.Open(append(bytes.Clone(msg), answer...), note.VerifierList(c.verifier))
	if err != nil {
		return nil, fmt.Errorf("the witness's answer holds no valid cosignature of its key %s: %w", c.Key, err)
	}
	for _, sig := range n.Sigs {
		if sig.Name == c.verifier.Name() && sig.Hash == c.verifier.KeyHash() {
			return []byte("— " + sig.Name + " " + sig.Base64 + "\n"), nil
		}
	}
	return nil, fmt.Errorf("the witness's answer holds no cosignature of its key %s", c.Key)
}
