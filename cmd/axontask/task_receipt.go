package main

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/integrity"
)

// runTaskReceipt prints an ended task's signed receipt as JSON, for
// "axontask verify -receipt"; with -newer FILE it also writes the log's
// latest checkpoint and its consistency proof from the receipt's
// checkpoint to FILE (for "verify -newer").
func runTaskReceipt(ctx context.Context, cl *commandLine) error {
	newerPath := cl.fs.String("newer", "", "also write the latest checkpoint and its consistency proof from the receipt's to this file")
	id, err := cl.parseTask()
	if err != nil {
		return err
	}
	r, err := cl.cf.connect(ctx, cl.con)
	if err != nil {
		return err
	}
	receipt, err := callAPI(ctx, r, "task receipt "+id.String(), func(c *client.Client) (integrity.Receipt, error) {
		return c.TaskReceipt(ctx, id)
	})
	if err != nil {
		return err
	}
	if *newerPath != "" {
		if err := writeNewer(ctx, r, &receipt, *newerPath); err != nil {
			return err
		}
	}
	return writeJSON(cl.con.stdout, receipt)
}

// writeNewer writes the newer checkpoint of receipt's log to path.
func writeNewer(ctx context.Context, r *remote, receipt *integrity.Receipt, path string) error {
	text, err := integrity.CheckpointText([]byte(receipt.Checkpoint))
	if err != nil {
		return fmt.Errorf("the receipt's checkpoint: %w", err)
	}
	cp, err := integrity.ParseCheckpoint(text)
	if err != nil {
		return fmt.Errorf("the receipt's checkpoint: %w", err)
	}
	newer, err := callAPI(ctx, r, "log checkpoint", func(c *client.Client) (integrity.Newer, error) {
		return c.NewerCheckpoint(ctx, cp.Size)
	})
	if err != nil {
		return err
	}
	return writeJSONFile(path, newer)
}
