package billing

import (
	"math/big"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/plans"
	"github.com/axontask/axontask/projections"
)

// Meter names a line of an estimate. Meter names are part of the API and
// of Stripe's meters' event names: they never change.
type Meter string

// The lines of an estimate: the plan's fixed price, then one per meter.
const (
	MeterPlan          Meter = "plan"
	MeterTaskMinutes   Meter = "task_minutes"
	MeterStreams       Meter = "streams_opened"
	MeterBytesStreamed Meter = "bytes_streamed"
)

// gib is a gibibyte, the unit bytes streamed are priced in.
const gib = 1 << 30

// Line is one line of an estimate.
type Line struct {
	Meter Meter
	// Quantity is what was used (1 for the plan line): task-minutes,
	// streams, bytes.
	Quantity int64
	// Included is the part of Quantity the plan's fixed price includes.
	Included int64
	// Billable is the part beyond it: Quantity - Included, or 0.
	Billable int64
	// UnitAmount is the price of Unit of the meter, in minor units.
	UnitAmount int64
	// Unit is how many of the meter's quantity UnitAmount prices (1,000
	// task-minutes, 1,000 streams, a GiB).
	Unit int64
	// Amount is the line's amount in minor units: UnitAmount × Billable /
	// Unit, a started minor unit counting as one.
	Amount int64
}

// Estimate is the invoice a month of usage would get.
type Estimate struct {
	Plan     domain.PlanName
	Currency string
	Lines    []Line
	// Amount is the sum of the lines' amounts.
	Amount int64
}

// Price returns the estimate of usage u on plan p, in currency: the plan's
// fixed price, and each meter beyond what the plan includes at its
// overage price. It is pure.
func Price(p plans.Plan, currency string, u projections.UsageCounts) Estimate {
	e := Estimate{Plan: p.Name, Currency: currency, Lines: []Line{
		{Meter: MeterPlan, Quantity: 1, Included: 0, Billable: 1, UnitAmount: p.Price.Monthly, Unit: 1, Amount: p.Price.Monthly},
		meterLine(MeterTaskMinutes, u.TaskMinutes(), p.Price.Included.TaskMinutes, p.Price.Overage.TaskMinutes, 1_000),
		meterLine(MeterStreams, u.StreamsOpened, p.Price.Included.Streams, p.Price.Overage.Streams, 1_000),
		meterLine(MeterBytesStreamed, u.BytesStreamed, p.Price.Included.GiBStreamed*gib, p.Price.Overage.GiBStreamed, gib),
	}}
	for _, l := range e.Lines {
		e.Amount += l.Amount
	}
	return e
}

// meterLine prices quantity of a meter of which the plan includes
// included, at unitAmount per unit beyond it.
func meterLine(m Meter, quantity, included, unitAmount, unit int64) Line {
	l := Line{Meter: m, Quantity: quantity, Included: min(quantity, included), UnitAmount: unitAmount, Unit: unit}
	l.Billable = quantity - l.Included
	// ceil(billable × unitAmount / unit), in big integers: a billable
	// count of bytes times a price overflows int64 long before either does.
	n := new(big.Int).Mul(big.NewInt(l.Billable), big.NewInt(unitAmount))
	n.Add(n, big.NewInt(unit-1))
	n.Quo(n, big.NewInt(unit))
	if n.IsInt64() {
		l.Amount = n.Int64()
	} else {
		l.Amount = 1<<63 - 1
	}
	return l
}
