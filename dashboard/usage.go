package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// usagePage is the data of the usage template: a month's usage as one
// chart per counter, and, for the owners, the month's billing estimate
// and (when billing is on) the Stripe links.
type usagePage struct {
	Usage  api.Usage
	Charts []chart
	// Billing is the month's estimate, nil for those who may not see it
	// or when the server keeps no billing views.
	Billing *api.Billing
	// Stripe is whether Stripe Checkout and the portal are offered; Plans
	// the plans Checkout subscribes to.
	Stripe bool
	Plans  []domain.PlanName
	// StripeURL is the Stripe page just opened for the owner to go to.
	StripeURL string
	Error     string
}

// title implements titled.
func (usagePage) title() string { return "Usage and billing" }

// checkoutPlans are the plans Stripe Checkout may subscribe to.
var checkoutPlans = []domain.PlanName{domain.PlanEntry, domain.PlanPro, domain.PlanEnt}

// usagePage shows a month's usage (?period=2026-12, default this month).
func (d *dashboard) usagePage(w http.ResponseWriter, r *http.Request) {
	d.showUsage(w, r, http.StatusOK, usagePage{})
}

// showUsage renders the usage page p with the month's usage and billing.
func (d *dashboard) showUsage(w http.ResponseWriter, r *http.Request, status int, p usagePage) {
	st := state(r)
	period := r.URL.Query().Get("period")
	u, err := st.c.Usage(r.Context(), client.UsageOptions{Period: period})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if p.Charts, err = usageCharts(u); err != nil {
		d.fail(w, r, err)
		return
	}
	p.Usage = u
	if st.s.Role.Can(domain.ActionManageBilling) {
		b, err := st.c.Billing(r.Context(), period)
		switch {
		case err == nil:
			p.Billing = &b
		case !errors.Is(err, client.ErrNotFound): // not found: the server keeps no billing views
			d.fail(w, r, err)
			return
		}
		p.Stripe, p.Plans = d.stripe, checkoutPlans
	}
	d.render(w, r, status, "usage", p)
}

// checkout opens a Stripe Checkout Session for the plan of the form and
// shows its link (a form may post to this site only, so the page links to
// Stripe rather than redirecting there).
func (d *dashboard) checkout(w http.ResponseWriter, r *http.Request) {
	d.stripeSession(w, r, func(c *client.Client) (api.BillingSession, error) {
		return c.BillingCheckout(r.Context(), r.PostFormValue("plan"))
	})
}

// portal opens a Stripe Customer Portal session and shows its link.
func (d *dashboard) portal(w http.ResponseWriter, r *http.Request) {
	d.stripeSession(w, r, func(c *client.Client) (api.BillingSession, error) { return c.BillingPortal(r.Context()) })
}

// stripeSession opens a Stripe session with open and shows the usage page
// with its link, or with the API's explanation.
func (d *dashboard) stripeSession(w http.ResponseWriter, r *http.Request, open func(*client.Client) (api.BillingSession, error)) {
	s, err := open(state(r).c)
	if err != nil && statusOf(err) == http.StatusBadRequest {
		d.showUsage(w, r, http.StatusBadRequest, usagePage{Error: problemMessage(err)})
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.showUsage(w, r, http.StatusOK, usagePage{StripeURL: s.URL})
}

// chart is a per-day bar chart of one usage counter, drawn as SVG by the
// usage template.
type chart struct {
	// ID names the chart's elements; Title says what it counts.
	ID, Title string
	// Total is the counter's total over the days, written out.
	Total string
	// Max is the tallest bar's value, written out (the scale's top).
	Max string
	// From and To are the first and the last day.
	From, To string
	Bars     []bar
}

// bar is one day of a chart, in the SVG's coordinates.
type bar struct {
	X, Y, Height float64
	Day, Value   string
}

// The charts' geometry, in SVG units.
const (
	chartWidth   = 620.0
	chartHeight  = 160.0
	chartLeft    = 60.0 // room for the scale
	chartTop     = 10.0
	chartBottom  = 20.0 // room for the days
	barGap       = 2.0
	maxChartDays = 366
)

// Width, Height, Left and Baseline are the SVG's size, the x of the plot's
// left edge and the y of its zero line, for the template.
func (chart) Width() float64    { return chartWidth }
func (chart) Height() float64   { return chartHeight }
func (chart) Left() float64     { return chartLeft }
func (chart) Baseline() float64 { return chartHeight - chartBottom }

// BarWidth is the width of each bar of c.
func (c chart) BarWidth() float64 {
	if len(c.Bars) == 0 {
		return 0
	}
	return (chartWidth-chartLeft)/float64(len(c.Bars)) - barGap
}

// counter is one usage counter the page charts.
type counter struct {
	id, title string
	value     func(api.UsageCounts) int64
	format    func(int64) string
}

// counters are the charted usage counters, in the page's order.
var counters = []counter{
	{"tasks", "Tasks started", func(u api.UsageCounts) int64 { return u.TasksStarted }, count},
	{"minutes", "Task-minutes", func(u api.UsageCounts) int64 { return (u.TaskRunMS + 59_999) / 60_000 }, count},
	{"streams", "Streams opened", func(u api.UsageCounts) int64 { return u.StreamsOpened }, count},
	{"streamed", "Bytes streamed", func(u api.UsageCounts) int64 { return u.BytesStreamed }, bytesOf},
	{"mcp", "MCP calls", func(u api.UsageCounts) int64 { return u.MCPCalls }, count},
	{"output", "Output bytes", func(u api.UsageCounts) int64 { return u.OutputBytes }, bytesOf},
}

// usageCharts draws one chart per counter of u, a bar for every day from
// u.From to u.To (a day without usage is a zero).
func usageCharts(u api.Usage) ([]chart, error) {
	from, err := time.Parse(time.DateOnly, u.From)
	if err != nil {
		return nil, fmt.Errorf("usage from %q: %w", u.From, err)
	}
	to, err := time.Parse(time.DateOnly, u.To)
	if err != nil {
		return nil, fmt.Errorf("usage to %q: %w", u.To, err)
	}
	byDay := map[string]api.UsageCounts{}
	for _, d := range u.Days {
		byDay[d.Day] = d.UsageCounts
	}
	var days []string
	for d := from; !d.After(to) && len(days) < maxChartDays; d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format(time.DateOnly))
	}
	charts := make([]chart, 0, len(counters))
	for _, k := range counters {
		charts = append(charts, drawChart(k, days, byDay, k.value(u.UsageCounts)))
	}
	return charts, nil
}

// drawChart draws counter k over days.
func drawChart(k counter, days []string, byDay map[string]api.UsageCounts, total int64) chart {
	c := chart{ID: k.id, Title: k.title, Total: k.format(total), From: days[0], To: days[len(days)-1]}
	top := int64(0)
	for _, d := range days {
		top = max(top, k.value(byDay[d]))
	}
	c.Max = k.format(top)
	plot := chartHeight - chartTop - chartBottom
	step := (chartWidth - chartLeft) / float64(len(days))
	for i, d := range days {
		v := k.value(byDay[d])
		h := 0.0
		if top > 0 {
			h = plot * float64(v) / float64(top)
		}
		c.Bars = append(c.Bars, bar{X: chartLeft + float64(i)*step, Y: chartTop + plot - h, Height: h, Day: d, Value: k.format(v)})
	}
	return c
}

// count writes a count with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// bytesOf writes a number of bytes in binary units.
func bytesOf(n int64) string {
	const unit = 1024
	if n < unit {
		return count(n) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// money writes an amount in minor units (hundredths) of currency.
func money(amount int64, currency string) string {
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, amount/100, amount%100, strings.ToUpper(currency))
}
