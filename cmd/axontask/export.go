package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/axontask/axontask/domain"
)

const exportPage = 1000

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	stream := fs.String("stream", "", "export one stream (e.g. a task id) instead of the global feed")
	from := fs.Int64("from", 0, "first feed position to export (the feed only)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
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
	var buf []byte
	total := 0
	for {
		page, err := read(cursor)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for i := range page {
			if buf, err = page[i].AppendJSON(buf[:0]); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			buf = append(buf, '\n')
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("export: write: %w", err)
			}
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
	fmt.Fprintf(stderr, "exported %d events\n", total)
	return nil
}
