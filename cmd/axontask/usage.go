package main

import (
	"context"
	"fmt"
	"strconv"

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
