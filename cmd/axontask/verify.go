package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/axontask/axontask/integrity"
)

func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: axontask verify [-json] [FILE]\n\nVerifies an export (JSON Lines, see docs/integrity.md) read from FILE or standard input.\nExit status: 0 verified, 1 verification failed, 2 usage, 3 unreadable input.")
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
	summary, err := integrity.VerifyExport(in)
	var verr *integrity.VerifyError
	failed := errors.As(err, &verr) || errors.Is(err, integrity.ErrNoEvents)
	if *asJSON {
		out := struct {
			Verified bool                   `json:"verified"`
			Error    string                 `json:"error,omitempty"`
			Failure  *integrity.VerifyError `json:"failure,omitempty"`
			Summary  integrity.Summary      `json:"summary"`
		}{Verified: err == nil, Failure: verr, Summary: summary}
		if err != nil {
			out.Error = err.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(out); encErr != nil {
			return fmt.Errorf("verify: %w", encErr)
		}
	} else if err == nil {
		fmt.Fprintf(stdout, "verified %d events in %d streams from %s\n", summary.Events, len(summary.Streams), name)
		for _, s := range summary.Streams {
			fmt.Fprintf(stdout, "  %s  seq %d..%d  head %x\n", s.StreamID, s.FirstSeq, s.HeadSeq, s.HeadHash[:])
		}
	}
	switch {
	case err == nil:
		return nil
	case failed:
		return &exitError{exitFailed, fmt.Errorf("verify %s: %w (%d events before it verified)", name, err, summary.Events)}
	default:
		return &exitError{exitInternal, fmt.Errorf("verify %s: %w", name, err)}
	}
}
