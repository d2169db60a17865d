package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ParseText reads a scrape of /metrics (the Prometheus text format) from
// r and returns it as a Gatherer, for ReadHistogram and ReadCounter: how
// another process's metrics are read.
func ParseText(r io.Reader) (prometheus.Gatherer, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	families := make([]*dto.MetricFamily, 0, len(byName))
	for _, mf := range byName {
		families = append(families, mf)
	}
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return families, nil }), nil
}

// Histogram is a histogram's state at one gather, summed over its label
// values: read one with ReadHistogram, subtract an earlier one with Sub to
// look at what happened in between.
type Histogram struct {
	// Count is how many values were observed; Sum their sum.
	Count uint64
	Sum   float64
	// buckets are the cumulative counts by upper bound, in ascending
	// order, +Inf excluded.
	buckets []bucket
}

type bucket struct {
	upper float64
	count uint64
}

// Quantile estimates the q-quantile (0 < q < 1) of the observed values,
// as Prometheus's histogram_quantile does: by linear interpolation inside
// the bucket it falls in (from 0 in the first bucket); a quantile above
// the highest bound is that bound. NaN when nothing was observed.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 || q < 0 || q > 1 {
		return math.NaN()
	}
	rank := q * float64(h.Count)
	lower, below := 0.0, uint64(0)
	for _, b := range h.buckets {
		if float64(b.count) >= rank {
			if b.count == below {
				return b.upper
			}
			return lower + (b.upper-lower)*(rank-float64(below))/float64(b.count-below)
		}
		lower, below = b.upper, b.count
	}
	return lower
}

// Sub returns what was observed after earlier, an earlier read of the
// same histogram.
func (h Histogram) Sub(earlier Histogram) Histogram {
	out := Histogram{Count: h.Count - earlier.Count, Sum: h.Sum - earlier.Sum, buckets: make([]bucket, len(h.buckets))}
	for i, b := range h.buckets {
		out.buckets[i] = b
		if i < len(earlier.buckets) {
			out.buckets[i].count -= earlier.buckets[i].count
		}
	}
	return out
}

// ReadHistogram gathers g and returns the histogram called name (such as
// DispatchLatency), summed over its label values. It fails when g has no
// histogram of that name.
func ReadHistogram(g prometheus.Gatherer, name string) (Histogram, error) {
	mf, err := gatherOne(g, name, dto.MetricType_HISTOGRAM)
	if err != nil {
		return Histogram{}, err
	}
	var h Histogram
	sums := make(map[float64]uint64)
	for _, m := range mf.GetMetric() {
		hm := m.GetHistogram()
		h.Count += hm.GetSampleCount()
		h.Sum += hm.GetSampleSum()
		for _, b := range hm.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), +1) {
				sums[b.GetUpperBound()] += b.GetCumulativeCount()
			}
		}
	}
	for upper, count := range sums {
		h.buckets = append(h.buckets, bucket{upper: upper, count: count})
	}
	sort.Slice(h.buckets, func(i, j int) bool { return h.buckets[i].upper < h.buckets[j].upper })
	return h, nil
}

// ReadCounter gathers g and returns the counter called name (such as
// Commits), summed over its label values. It fails when g has no counter
// of that name (a counter with labels has none until something is counted
// in it).
func ReadCounter(g prometheus.Gatherer, name string) (float64, error) {
	mf, err := gatherOne(g, name, dto.MetricType_COUNTER)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, m := range mf.GetMetric() {
		total += m.GetCounter().GetValue()
	}
	return total, nil
}

// gatherOne gathers g and returns its family called name, of type typ.
func gatherOne(g prometheus.Gatherer, name string, typ dto.MetricType) (*dto.MetricFamily, error) {
	families, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		if mf.GetType() != typ {
			return nil, fmt.Errorf("metric %s is a %s, not a %s", name, mf.GetType(), typ)
		}
		return mf, nil
	}
	return nil, fmt.Errorf("no metric %s", name)
}
