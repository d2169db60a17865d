package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/integrity"
)

const verifyUsage = `Usage: axontask verify [-json] [-receipt FILE -receipt-key KEY [-log-key KEY] [-newer FILE]] [-proofs FILE -log-key KEY] [EXPORT]

Verifies an export (JSON Lines, see docs/integrity.md) read from EXPORT or standard input:
its hash chains, digests and order. With -receipt it then proves, in this order, that the
receipt is signed by the pinned -receipt-key, that the export holds the receipt's task up to
its terminal event, which the receipt names and whose leaf is included in the receipt's
signed checkpoint (signed by -log-key when given), and, with -newer (from "task receipt
-newer"), that a newer checkpoint signed by -log-key extends the receipt's. With -proofs
(from "export -with-proofs") it proves every exported event the checkpoint covers is a leaf
of its tree. Keys are note verifier keys (name+hash+key), pinned out of band.
Exit status: 0 verified, 1 verification failed (the first failure is named), 2 usage, 3 unreadable input.
`

// verifyFlags are verify's flags beyond -json.
type verifyFlags struct {
	receipt, receiptKey, logKey, newer, proofs string
}

func (f *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.receipt, "receipt", "", "a task's receipt (JSON, from task receipt) to prove against the export")
	fs.StringVar(&f.receiptKey, "receipt-key", "", "the pinned receipt verifier key (required with -receipt)")
	fs.StringVar(&f.logKey, "log-key", "", "the pinned checkpoint verifier key (required with -newer and -proofs)")
	fs.StringVar(&f.newer, "newer", "", "a newer checkpoint with its consistency proof (JSON, from task receipt -newer)")
	fs.StringVar(&f.proofs, "proofs", "", "inclusion proofs of the export's events (JSON, from export -with-proofs)")
}

// verifyResult is verify's JSON output.
type verifyResult struct {
	Verified bool                   `json:"verified"`
	Error    string                 `json:"error,omitempty"`
	Failure  *integrity.VerifyError `json:"failure,omitempty"`
	// LogFailure names the receipt or log check that failed.
	LogFailure *integrity.LogError    `json:"log_failure,omitempty"`
	Summary    integrity.Summary      `json:"summary"`
	Receipt    *receiptResult         `json:"receipt,omitempty"`
	Proofs     *integrity.ProofReport `json:"proofs,omitempty"`
}

// receiptResult is what a verified receipt proved.
type receiptResult struct {
	TaskID    string `json:"task_id"`
	State     string `json:"state"`
	LastSeq   int64  `json:"last_seq"`
	LeafIndex int64  `json:"leaf_index"`
	KeyID     string `json:"key_id"`
	Origin    string `json:"origin"`
	TreeSize  int64  `json:"tree_size"`
	// NewerSize is the size of the newer checkpoint proven consistent.
	NewerSize int64 `json:"newer_size,omitempty"`
}

func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var vf verifyFlags
	vf.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, verifyUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, 1); err != nil {
		return err
	}
	in := stdin
	name := "standard input"
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		defer func() { _ = f.Close() }()
		in, name = f, fs.Arg(0)
	}
	out, err := vf.verify(in)
	var verr *integrity.VerifyError
	var lerr *integrity.LogError
	var usage *exitError
	switch {
	case errors.As(err, &usage):
		return err
	case errors.As(err, &verr):
		out.Failure = verr
	case errors.As(err, &lerr):
		out.LogFailure = lerr
	}
	failed := verr != nil || lerr != nil || errors.Is(err, integrity.ErrNoEvents)
	out.Verified = err == nil
	if err != nil {
		out.Error = err.Error()
	}
	if *asJSON {
		if encErr := writeJSON(stdout, out); encErr != nil {
			return fmt.Errorf("verify: %w", encErr)
		}
	} else if err == nil {
		printVerified(stdout, name, out)
	}
	switch {
	case err == nil:
		return nil
	case failed:
		return &exitError{exitFailed, fmt.Errorf("verify %s: %w (%d events before it verified)", name, err, out.Summary.Events)}
	default:
		return &exitError{exitInternal, fmt.Errorf("verify %s: %w", name, err)}
	}
}

// verify runs the checks the flags ask for on the export in.
func (f *verifyFlags) verify(in io.Reader) (verifyResult, error) {
	var out verifyResult
	if f.receipt == "" && f.proofs == "" {
		sum, err := integrity.VerifyExport(in)
		out.Summary = sum
		return out, err
	}
	keys, err := f.keys()
	if err != nil {
		return out, err
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return out, err
	}
	if f.receipt != "" {
		if err := f.verifyReceipt(data, keys, &out); err != nil {
			return out, err
		}
	}
	if f.proofs != "" {
		var proofs integrity.ExportProofs
		if err := readJSONFile(f.proofs, &proofs); err != nil {
			return out, err
		}
		rep, err := integrity.VerifyExportProofs(bytes.NewReader(data), &proofs, keys.Log)
		out.Summary, out.Proofs = rep.Summary, &rep
		return out, err
	}
	return out, nil
}

// verifyReceipt proves the receipt against the export.
func (f *verifyFlags) verifyReceipt(data []byte, keys integrity.ReceiptKeys, out *verifyResult) error {
	var r integrity.Receipt
	if err := readJSONFile(f.receipt, &r); err != nil {
		return err
	}
	var newer *integrity.Newer
	if f.newer != "" {
		newer = &integrity.Newer{}
		if err := readJSONFile(f.newer, newer); err != nil {
			return err
		}
	}
	rep, err := integrity.VerifyReceiptExport(bytes.NewReader(data), &r, keys, newer)
	out.Summary = rep.Summary
	if err != nil {
		return err
	}
	out.Receipt = &receiptResult{TaskID: r.TaskID, State: string(r.State), LastSeq: r.LastSeq, LeafIndex: r.LeafIndex, KeyID: r.KeyID,
		Origin: rep.Checkpoint.Origin, TreeSize: rep.Checkpoint.Size}
	if rep.Newer != nil {
		out.Receipt.NewerSize = rep.Newer.Size
	}
	return nil
}

// keys parses the pinned keys the flags need.
func (f *verifyFlags) keys() (integrity.ReceiptKeys, error) {
	var keys integrity.ReceiptKeys
	var err error
	switch {
	case f.receipt != "" && f.receiptKey == "":
		return keys, usageError("-receipt needs -receipt-key: the receipt key you pinned (GET /v1/log/keys prints it)")
	case (f.newer != "" || f.proofs != "") && f.logKey == "":
		return keys, usageError("-newer and -proofs need -log-key: the checkpoint key you pinned (GET /v1/log/keys prints it)")
	case f.newer != "" && f.receipt == "":
		return keys, usageError("-newer proves a newer checkpoint against a receipt's: give -receipt too")
	}
	if f.receiptKey != "" {
		if keys.Receipt, err = note.NewVerifier(f.receiptKey); err != nil {
			return keys, usageError(fmt.Sprintf("-receipt-key is not a note verifier key (name+hash+key): %v", err))
		}
	}
	if f.logKey != "" {
		if keys.Log, err = note.NewVerifier(f.logKey); err != nil {
			return keys, usageError(fmt.Sprintf("-log-key is not a note verifier key (name+hash+key): %v", err))
		}
	}
	return keys, nil
}

// readJSONFile decodes the JSON file at path strictly into v.
func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// printVerified prints what verified, for people.
func printVerified(w io.Writer, name string, out verifyResult) {
	sum := out.Summary
	fmt.Fprintf(w, "verified %d events in %d streams from %s\n", sum.Events, len(sum.Streams), name)
	for _, s := range sum.Streams {
		fmt.Fprintf(w, "  %s  seq %d..%d  head %x\n", s.StreamID, s.FirstSeq, s.HeadSeq, s.HeadHash[:])
	}
	if r := out.Receipt; r != nil {
		fmt.Fprintf(w, "receipt verified: task %s %s at seq %d, signed by %s\n", r.TaskID, r.State, r.LastSeq, r.KeyID)
		fmt.Fprintf(w, "  its terminal event is leaf %d of the tree of size %d in the checkpoint of %s\n", r.LeafIndex, r.TreeSize, r.Origin)
		if r.NewerSize > 0 {
			fmt.Fprintf(w, "  the newer checkpoint of size %d extends it: the log only grew\n", r.NewerSize)
		}
	}
	if p := out.Proofs; p != nil {
		fmt.Fprintf(w, "proofs verified: %d events are leaves of the signed tree of size %d; %d lie past it, not covered\n", p.Included, p.Size, p.Uncovered)
	}
}
