package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/translog"
)

const exportPage = 1000

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	stream := fs.String("stream", "", "export one stream (e.g. a task id) instead of the global feed")
	from := fs.Int64("from", 0, "first feed position to export (the feed only)")
	withProofs := fs.String("with-proofs", "", "also write to this file the latest signed checkpoint and each exported event's inclusion proof in its tree (for verify -proofs)")
	format := fs.String("format", "jsonl", "jsonl (JSON Lines, one event a line) or binary (length-prefixed records, which verify reads about 3.5 times as fast); see docs/integrity.md")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	appendEvent := func(buf []byte, e *domain.Event) ([]byte, error) {
		buf, err := e.AppendJSON(buf)
		return append(buf, '\n'), err
	}
	switch *format {
	case "jsonl":
	case "binary":
		appendEvent = integrity.AppendBinaryRecord
	default:
		return usageError(fmt.Sprintf("-format %q: use jsonl or binary", *format))
	}
	if err := sf.validate(); err != nil {
		return err
	}
	if *from < 0 {
		return usageError("-from must not be negative")
	}
	if *stream != "" && *from != 0 {
		return usageError("-from applies to the feed; a stream is always exported from seq 1 so that it verifies")
	}
	s, err := sf.open(ctx, newLogger(stderr))
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() { _ = s.Close() }()

	w := bufio.NewWriter(stdout)
	read := func(after int64) ([]domain.Event, error) { return s.ReadFeed(ctx, after, exportPage) }
	next := func(e domain.Event) int64 { return e.Position + 1 }
	cursor := *from
	if *stream != "" {
		read = func(after int64) ([]domain.Event, error) { return s.ReadStream(ctx, *stream, after, exportPage) }
		next = func(e domain.Event) int64 { return e.Seq }
	}
	var proofs *exportProofs
	if *withProofs != "" {
		if proofs, err = newExportProofs(ctx, s); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	var buf []byte
	if *format == "binary" {
		if _, err := w.WriteString(integrity.BinaryExportMagic); err != nil {
			return fmt.Errorf("export: write: %w", err)
		}
	}
	total := 0
	for {
		page, err := read(cursor)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for i := range page {
			if buf, err = appendEvent(buf[:0], &page[i]); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("export: write: %w", err)
			}
			proofs.add(&page[i])
		}
		if err := proofs.prove(ctx); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		total += len(page)
		if len(page) < exportPage {
			break
		}
		cursor = next(page[len(page)-1])
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	if total == 0 && *stream != "" {
		return &exitError{exitFailed, fmt.Errorf("export: stream %s has no events", *stream)}
	}
	if err := proofs.write(*withProofs); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stderr, "exported %d events\n", total)
	if proofs != nil {
		fmt.Fprintf(stderr, "wrote %s: %d inclusion proofs in the checkpoint of size %d (events at or past it are not covered)\n",
			*withProofs, len(proofs.Inclusion), proofs.size)
	}
	return nil
}

// exportProofs gathers an export's proofs: the latest checkpoint and the
// inclusion proof of each exported event it covers. A nil one gathers
// nothing.
type exportProofs struct {
	integrity.ExportProofs
	prover *translog.Prover
	size   int64
	// pending are the positions of a page's events still to prove.
	pending []int64
}

// newExportProofs starts the proofs of an export from s's latest
// checkpoint.
func newExportProofs(ctx context.Context, s localStore) (*exportProofs, error) {
	cp, found, err := s.MerkleCheckpointLatest(ctx)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("the store holds no signed checkpoint yet: run the server with its transparency log (LOG_SIGNING_KEY) first")
	}
	return &exportProofs{ExportProofs: integrity.ExportProofs{Checkpoint: string(cp.Signed()), Inclusion: []integrity.InclusionProof{}},
		prover: translog.NewProver(s), size: cp.Size}, nil
}

// add notes that e's inclusion is to be proven, when the checkpoint
// covers it.
func (p *exportProofs) add(e *domain.Event) {
	if p != nil && e.Position != domain.NoPosition && e.Position < p.size {
		p.pending = append(p.pending, e.Position)
	}
}

// prove proves the inclusion of the events added since the last call, with
// one read of the tree.
func (p *exportProofs) prove(ctx context.Context) error {
	if p == nil || len(p.pending) == 0 {
		return nil
	}
	proofs, err := p.prover.InclusionProofs(ctx, p.pending, p.size)
	if err != nil {
		return err
	}
	p.Inclusion = append(p.Inclusion, proofs...)
	p.pending = p.pending[:0]
	return nil
}

// write writes the proofs as JSON to path.
func (p *exportProofs) write(path string) error {
	if p == nil {
		return nil
	}
	return writeJSONFile(path, p.ExportProofs)
}
