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

const verifyUsage = `Usage: axontask verify [-json] [-receipt FILE -receipt-key KEY [-log-key KEY] [-newer FILE]] [-proofs FILE -log-key KEY] [-witness KEY ... [-witness-quorum N]] [EXPORT]

Verifies an export (JSON Lines, see docs/integrity.md) read from EXPORT or standard input:
its hash chains, digests and order. With -receipt it then proves, in this order, that the
receipt is signed by the pinned -receipt-key, that the export holds the receipt's task up to
its terminal event, which the receipt names and whose leaf is included in the receipt's
signed checkpoint (signed by -log-key when given), and, with -newer (from "task receipt
-newer"), that a newer checkpoint signed by -log-key extends the receipt's. With -proofs
(from "export -with-proofs") it proves every exported event the checkpoint covers is a leaf
of its tree. With -witness (repeated, one per witness key pinned), the checkpoints of -newer
and -proofs must also carry valid cosignatures of -witness-quorum of those witnesses (default:
all of them). Keys are note verifier keys (name+hash+key), pinned out of band.
Exit status: 0 verified, 1 verification failed (the first failure is named), 2 usage, 3 unreadable input.
`

// verifyFlags are verify's flags beyond -json.
type verifyFlags struct {
	receipt, receiptKey, logKey, newer, proofs string
	witnesses                                  repeatedFlag
	quorum                                     int
}

func (f *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.receipt, "receipt", "", "a task's receipt (JSON, from task receipt) to prove against the export")
	fs.StringVar(&f.receiptKey, "receipt-key", "", "the pinned receipt verifier key (required with -receipt)")
	fs.StringVar(&f.logKey, "log-key", "", "the pinned checkpoint verifier key (required with -newer and -proofs)")
	fs.StringVar(&f.newer, "newer", "", "a newer checkpoint with its consistency proof (JSON, from task receipt -newer)")
	fs.StringVar(&f.proofs, "proofs", "", "inclusion proofs of the export's events (JSON, from export -with-proofs)")
	fs.Var(&f.witnesses, "witness", "a pinned witness verifier key: the checkpoints of -newer and -proofs must carry its cosignature (repeat for more witnesses)")
	fs.IntVar(&f.quorum, "witness-quorum", 0, "how many of the -witness keys must have cosigned each checkpoint (default: all)")
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
	// ProofsCosignatures counts the pinned witnesses that cosigned the
	// checkpoint of -proofs.
	ProofsCosignatures int `json:"proofs_cosignatures,omitempty"`
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
	// NewerCosignatures counts the pinned witnesses that cosigned it.
	NewerCosignatures int `json:"newer_cosignatures,omitempty"`
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
	keys, err := f.keys()
	if err != nil {
		return out, err
	}
	if f.receipt == "" && f.proofs == "" {
		sum, err := integrity.VerifyExport(in)
		out.Summary = sum
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
		if err != nil {
			return out, err
		}
		out.ProofsCosignatures, err = f.cosigned(proofs.Checkpoint, keys)
		return out, err
	}
	return out, nil
}

// cosigned checks the witnesses' cosignatures on a checkpoint note and
// returns how many verified (0 without -witness).
func (f *verifyFlags) cosigned(checkpoint string, keys verifyKeys) (int, error) {
	if len(keys.Witnesses) == 0 {
		return 0, nil
	}
	return integrity.CheckCosignatures([]byte(checkpoint), keys.Witnesses, f.quorum)
}

// verifyReceipt proves the receipt against the export.
func (f *verifyFlags) verifyReceipt(data []byte, keys verifyKeys, out *verifyResult) error {
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
	rep, err := integrity.VerifyReceiptExport(bytes.NewReader(data), &r, keys.ReceiptKeys, newer)
	out.Summary = rep.Summary
	if err != nil {
		return err
	}
	out.Receipt = &receiptResult{TaskID: r.TaskID, State: string(r.State), LastSeq: r.LastSeq, LeafIndex: r.LeafIndex, KeyID: r.KeyID,
		Origin: rep.Checkpoint.Origin, TreeSize: rep.Checkpoint.Size}
	if rep.Newer != nil {
		out.Receipt.NewerSize = rep.Newer.Size
		out.Receipt.NewerCosignatures, err = f.cosigned(newer.Checkpoint, keys)
	}
	return err
}

// verifyKeys are the keys verify pins.
type verifyKeys struct {
	integrity.ReceiptKeys
	// Witnesses verify the witnesses' cosignatures.
	Witnesses []note.Verifier
}

// keys parses the pinned keys the flags need.
func (f *verifyFlags) keys() (verifyKeys, error) {
	var keys verifyKeys
	var err error
	switch {
	case len(f.witnesses) > 0 && f.newer == "" && f.proofs == "":
		return keys, usageError("-witness checks the cosignatures of the checkpoints of -newer and -proofs: give one of them")
	case f.quorum < 0 || f.quorum > len(f.witnesses):
		return keys, usageError(fmt.Sprintf("-witness-quorum is %d; it counts among the %d -witness keys given", f.quorum, len(f.witnesses)))
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
	for _, k := range f.witnesses {
		v, err := integrity.NewWitnessVerifier(k)
		if err != nil {
			return keys, usageError(fmt.Sprintf("-witness %s: %v", k, err))
		}
		keys.Witnesses = append(keys.Witnesses, v)
	}
	if f.quorum == 0 {
		f.quorum = len(keys.Witnesses)
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
		if r.NewerCosignatures > 0 {
			fmt.Fprintf(w, "  %d pinned witnesses cosigned the newer checkpoint\n", r.NewerCosignatures)
		}
	}
	if p := out.Proofs; p != nil {
		fmt.Fprintf(w, "proofs verified: %d events are leaves of the signed tree of size %d; %d lie past it, not covered\n", p.Included, p.Size, p.Uncovered)
		if out.ProofsCosignatures > 0 {
			fmt.Fprintf(w, "  %d pinned witnesses cosigned that checkpoint\n", out.ProofsCosignatures)
		}
	}
}
