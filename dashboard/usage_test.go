package dashboard

import (
	"testing"

	"github.com/axontask/axontask/api"
)

// Every day of the range gets a bar, a day without usage a zero; the
// tallest day fills the plot and the others scale to it; task-minutes
// round a started minute up.
func TestUsageCharts(t *testing.T) {
	t.Parallel()
	u := api.Usage{From: "2026-11-29", To: "2026-12-02", UsageCounts: api.UsageCounts{TasksStarted: 6, TaskRunMS: 90_001},
		Days: []api.UsageDay{
			{Day: "2026-11-30", UsageCounts: api.UsageCounts{TasksStarted: 2, TaskRunMS: 1}},
			{Day: "2026-12-02", UsageCounts: api.UsageCounts{TasksStarted: 4, TaskRunMS: 90_000}},
		}}
	charts, err := usageCharts(u)
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != len(counters) {
		t.Fatalf("%d charts", len(charts))
	}
	tasks, minutes := charts[0], charts[1]
	if len(tasks.Bars) != 4 || tasks.From != "2026-11-29" || tasks.To != "2026-12-02" || tasks.Total != "6" || tasks.Max != "4" {
		t.Fatalf("tasks chart %+v", tasks)
	}
	plot := chartHeight - chartTop - chartBottom
	for i, want := range []float64{0, plot / 2, 0, plot} {
		if b := tasks.Bars[i]; b.Height != want || b.Y+b.Height != tasks.Baseline() {
			t.Errorf("bar %d (%s) is %v high from %v, want %v on the baseline", i, b.Day, b.Height, b.Y, want)
		}
	}
	if minutes.Total != "2" || minutes.Bars[1].Value != "1" || minutes.Bars[3].Value != "2" {
		t.Errorf("task-minutes %s in all, %s and %s on the days", minutes.Total, minutes.Bars[1].Value, minutes.Bars[3].Value)
	}
	if _, err := usageCharts(api.Usage{From: "December", To: "2026-12-02"}); err == nil {
		t.Error("a usage without a day to start from was charted")
	}
}

func TestNumberFormats(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ got, want string }{
		{count(0), "0"}, {count(999), "999"}, {count(1000), "1,000"}, {count(-1234567), "-1,234,567"},
		{bytesOf(512), "512 B"}, {bytesOf(1536), "1.5 KiB"}, {bytesOf(5 << 30), "5.0 GiB"},
		{money(1999, "usd"), "19.99 USD"}, {money(-5, "eur"), "-0.05 EUR"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
