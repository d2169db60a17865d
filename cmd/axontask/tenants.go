package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/plans"
)

const tenantsUsage = `usage:
  axontask tenants plans                                          list the plans and their limits (from the environment)
  axontask tenants set-plan [-database-url URL | -sqlite FILE] TENANT_ID PLAN   put a tenant on trial, entry, pro or ent`

// runTenants runs the operator's tenant commands.
func runTenants(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError(tenantsUsage)
	}
	catalog, err := plans.FromEnv(os.Getenv)
	if err != nil {
		return usageError(err.Error())
	}
	switch args[0] {
	case "plans":
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "PLAN\tTASKS/DAY\tCONCURRENCY\tMAX TIMEOUT\tRETENTION")
		for _, p := range catalog.All() {
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%d days\n", p.Name, p.TasksPerDay, p.Concurrency, time.Duration(p.MaxTimeoutS)*time.Second, p.RetentionDays)
		}
		fmt.Fprintln(w, "\nEACH TASK\tMEMORY\tPIDS\tCPUS\tOPEN FILES\tFILE SIZE\tWORKDIR\tEGRESS\tOUTPUT\tOUTPUT EVENTS")
		for _, p := range catalog.All() {
			fmt.Fprintf(w, "%s\t%d MiB\t%d\t%s\t%d\t%d MiB\t%d MiB\t%t\t%d MiB\t%d\n", p.Name, p.MemoryBytes>>20, p.Pids,
				strconv.FormatFloat(float64(p.CPUMilli)/1000, 'f', -1, 64), p.OpenFiles, p.FileSizeBytes>>20, p.WorkDirBytes>>20, p.Egress, p.OutputBytes>>20, p.OutputEvents)
		}
		return w.Flush()
	case "set-plan":
		fs := flag.NewFlagSet("tenants set-plan", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var sf storeFlags
		sf.register(fs)
		if err := parseFlags(fs, args[1:], 2); err != nil {
			return err
		}
		if fs.NArg() != 2 {
			return usageError(tenantsUsage)
		}
		if err := sf.validate(); err != nil {
			return err
		}
		plan, err := domain.ParsePlanName(fs.Arg(1))
		if err != nil {
			return usageError(err.Error())
		}
		logger := newLogger(stderr)
		s, err := sf.open(ctx, logger)
		if err != nil {
			return fmt.Errorf("tenants: %w", err)
		}
		defer func() { _ = s.Close() }()
		// A one-shot process: logged like every command, with no metrics to serve.
		setPlan := commands.Decorate(commands.NewSetPlanHandler(s, nil), logger, nil)
		_, err = setPlan.Handle(ctx, commands.SetPlan{TenantID: fs.Arg(0), Plan: plan, Meta: domain.Metadata{Actor: "operator"}})
		var verr *domain.ValidationError
		switch {
		case errors.Is(err, commands.ErrTenantNotFound), errors.As(err, &verr):
			return usageError(err.Error())
		case err != nil:
			return fmt.Errorf("tenants: %w", err)
		}
		fmt.Fprintf(stdout, "tenant %s is on the %s plan\n", fs.Arg(0), plan)
		return nil
	}
	return usageError(tenantsUsage)
}
