package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
)

const usageAbout = "show your tenant's metered usage: task-minutes, tasks started, SSE streams and the bytes they sent, " +
	"MCP calls and output bytes, over a month (-period YYYY-MM, default this month) or a range of UTC days (-from, -to)"

// runUsage handles "axontask usage".
func runUsage(ctx context.Context, cl *commandLine) error {
	var opts client.UsageOptions
	cl.fs.StringVar(&opts.Period, "period", "", "a month, YYYY-MM (default the current UTC month)")
	cl.fs.StringVar(&opts.From, "from", "", "the first UTC day, YYYY-MM-DD (with -to)")
	cl.fs.StringVar(&opts.To, "to", "", "the last UTC day, YYYY-MM-DD (with -from)")
	days := cl.fs.Bool("days", false, "one row per day with usage")
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	u, err := connectCallAPI(ctx, cl, "usage", func(c *client.Client) (api.Usage, error) {
		return c.Usage(ctx, opts)
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, u)
	}
	s := style{cl.con.colour(cl.con.stdoutTerminal)}
	span := u.From + " to " + u.To
	if u.Period != "" {
		span = u.Period + " (" + span + ")"
	}
	fmt.Fprintf(cl.con.stdout, "usage of %s\n", span)
	header := []string{"DAY", "TASK-MINUTES", "TASKS", "STREAMS", "BYTES STREAMED", "MCP CALLS", "OUTPUT BYTES"}
	tab := table{header: header}
	if *days {
		for _, d := range u.Days {
			tab.rows = append(tab.rows, usageRow(d.Day, d.UsageCounts))
		}
	}
	tab.rows = append(tab.rows, usageRow("total", u.UsageCounts))
	tab.write(cl.con.stdout, s)
	return nil
}

// usageRow is one row of the usage table.
func usageRow(label string, c api.UsageCounts) []cell {
	row := []cell{{text: label}}
	for _, n := range []int64{c.TaskMinutes, c.TasksStarted, c.StreamsOpened, c.BytesStreamed, c.MCPCalls, c.OutputBytes} {
		row = append(row, cell{text: strconv.FormatInt(n, 10)})
	}
	return row
}

const billingAbout = "show your tenant's billing view of a month (-period YYYY-MM, default this month): its plan, " +
	"the usage priced line by line and the estimated invoice; owners only"

// runBilling handles "axontask billing".
func runBilling(ctx context.Context, cl *commandLine) error {
	period := cl.fs.String("period", "", "a month, YYYY-MM (default the current UTC month)")
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	b, err := connectCallAPI(ctx, cl, "billing", func(c *client.Client) (api.Billing, error) {
		return c.Billing(ctx, *period)
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, b)
	}
	fmt.Fprintf(cl.con.stdout, "%s on the %s plan", b.Period, b.Plan)
	if !b.TrialEndsAt.IsZero() {
		fmt.Fprintf(cl.con.stdout, " (the trial ends %s)", b.TrialEndsAt.Format(time.RFC3339))
	}
	fmt.Fprintln(cl.con.stdout)
	tab := table{header: []string{"LINE", "QUANTITY", "INCLUDED", "BILLABLE", "PRICE", "AMOUNT"}}
	for _, l := range b.Lines {
		price := money(l.UnitAmount, b.Estimate.Currency)
		if l.Unit > 1 {
			price += " per " + strconv.FormatInt(l.Unit, 10)
		}
		tab.rows = append(tab.rows, []cell{{text: l.Meter}, {text: strconv.FormatInt(l.Quantity, 10)}, {text: strconv.FormatInt(l.Included, 10)},
			{text: strconv.FormatInt(l.Billable, 10)}, {text: price}, {text: money(l.Amount, b.Estimate.Currency)}})
	}
	tab.rows = append(tab.rows, []cell{{text: "estimate"}, {}, {}, {}, {}, {text: money(b.Estimate.Amount, b.Estimate.Currency)}})
	tab.write(cl.con.stdout, style{cl.con.colour(cl.con.stdoutTerminal)})
	return nil
}

// money renders an amount of minor units with two decimals and the
// currency ("14.21 usd"); every currency the prices take has cents.
func money(minor int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", minor/100, minor%100, currency)
}
