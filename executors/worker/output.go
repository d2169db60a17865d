package worker

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/axontask/axontask/domain"
)

// output is the Sink of a running task. Sink calls only queue events; one
// flusher goroutine appends them in batches, when a batch is full or
// FlushInterval after its first event. When more than MaxBufferBytes wait,
// Sink calls block: the store's pace holds the process's output back instead
// of the worker's memory growing. A hold (Runner.Hold) stops the appends for
// a moment, so that a cancel request can be appended in between.
//
// The output limits of the task's plan (domain.TaskLimits) are enforced as
// events are queued, counting from what the task's earlier attempts wrote:
// the event that would go past one is dropped (output past OutputBytes is
// cut to fit), the executor is stopped with errOutputLimit as its cause,
// and the rest of the output is dropped. Nothing past a limit is appended.
type output struct {
	t   *run
	cfg Config

	mu       sync.Mutex
	space    *sync.Cond // signaled when the buffer shrinks or the flusher stops
	pending  []domain.NewEvent
	bytes    int
	offsets  map[domain.OutputStream]int64
	limits   domain.TaskLimits // OutputBytes and OutputEvents apply here
	written  int64             // the task's output bytes, as domain.Task.OutputBytes counts them, queued ones included
	events   int64             // the task's output and progress events, queued ones included
	limited  bool              // a limit was reached: drop further output
	closing  bool
	stopped  bool // the flusher gave up: drop further output
	err      error
	wake     chan struct{} // first event of a batch, or a full batch
	full     chan struct{}
	held     chan struct{} // a hold was asked for: see holdBack
	closingC chan struct{}
	done     chan struct{}
}

func newOutput(t *run, cfg Config) *output {
	o := &output{
		t: t, cfg: cfg,
		offsets:  map[domain.OutputStream]int64{},
		limits:   t.plan.Limits,
		written:  t.task.OutputBytes(),
		events:   t.task.OutputEvents(),
		wake:     make(chan struct{}, 1),
		full:     make(chan struct{}, 1),
		held:     make(chan struct{}, 1),
		closingC: make(chan struct{}),
		done:     make(chan struct{}),
	}
	o.space = sync.NewCond(&o.mu)
	go o.flusher()
	return o
}

// Output implements executors.Sink.
func (o *output) Output(stream domain.OutputStream, data []byte) {
	o.mu.Lock()
	offset := o.offsets[stream]
	o.offsets[stream] += int64(len(data))
	o.mu.Unlock()
	o.queue(&domain.TaskOutput{Data: string(data), Offset: offset, Stream: stream})
}

// Progress implements executors.Sink.
func (o *output) Progress(percent float64, message string) {
	o.queue(&domain.TaskProgress{Message: message, Percent: percent})
}

// queue adds an event, counting its payload's size against MaxBufferBytes
// and the task's output limits.
func (o *output) queue(payload domain.Payload) {
	e, err := o.t.r.w.NewEvent(o.t.to, payload)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.fail(err)
		return
	}
	if o.limited {
		return // past a limit, output is dropped: it waits for nothing
	}
	for o.bytes >= o.cfg.MaxBufferBytes && !o.stopped {
		o.space.Wait()
	}
	if o.stopped || o.closing {
		return // the task ended: output after it has nowhere to go
	}
	switch lim := o.limits; {
	case lim.OutputEvents > 0 && o.events >= lim.OutputEvents:
		o.reachLimit(fmt.Sprintf("the task wrote %d output and progress events", lim.OutputEvents))
		return
	case lim.OutputBytes > 0 && e.Type == domain.TaskOutputType && o.written+int64(len(e.Payload)) > lim.OutputBytes:
		o.reachLimit("the task's output reached " + size(lim.OutputBytes) + " in its log")
		var ok bool
		if e, ok = o.cut(payload.(*domain.TaskOutput), e, lim.OutputBytes-o.written); !ok {
			return
		}
	}
	o.events++
	if e.Type == domain.TaskOutputType {
		o.written += int64(len(e.Payload))
	}
	o.pending = append(o.pending, e)
	o.bytes += len(e.Payload)
	signal(o.wake)
	if len(o.pending) >= o.cfg.MaxBatchEvents || o.bytes >= o.cfg.FlushBytes {
		signal(o.full)
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// reachLimit stops the executor because the task's output reached a
// limit, which what says, and drops the rest of the output. o.mu is held.
func (o *output) reachLimit(what string) {
	o.limited = true
	o.t.stopExec(fmt.Errorf("%w: %s, %s", errOutputLimit, what, o.t.planLimit()))
}

// cut returns the event of a start of out, whose event e is, that takes at
// most room bytes of payload; false when not one byte fits. The output is
// cut at a rune boundary, so that the text stays valid, and by as many
// bytes as e's payload is over: each byte of output takes at least one byte
// of payload, here and as the store keeps it (canonical JSON escapes no
// more than encoding/json).
func (o *output) cut(out *domain.TaskOutput, e domain.NewEvent, room int64) (domain.NewEvent, bool) {
	keep := len(out.Data) - int(int64(len(e.Payload))-room)
	for keep > 0 && !utf8.RuneStart(out.Data[keep]) {
		keep--
	}
	if keep <= 0 {
		return domain.NewEvent{}, false
	}
	cut, err := o.t.r.w.NewEvent(o.t.to, &domain.TaskOutput{Data: out.Data[:keep], Offset: out.Offset, Stream: out.Stream})
	return cut, err == nil
}

// size renders a number of bytes, in MiB when it is a whole number of them.
func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fail records the first error, stops accepting output and stops the
// executor: what it prints could not be recorded. o.mu is held.
func (o *output) fail(err error) {
	if o.err == nil {
		o.err = err
	}
	if o.t.stopExec != nil {
		o.t.stopExec(errOutputLost)
	}
	o.stopped = true
	o.pending = nil
	o.bytes = 0
	o.space.Broadcast()
}

func (o *output) flusher() {
	defer close(o.done)
	defer func() {
		// Wake any Sink call still waiting for room: nothing will make it.
		o.mu.Lock()
		o.stopped = true
		o.space.Broadcast()
		o.mu.Unlock()
	}()
	ctx := context.Background() // appends finish even while the task is being stopped
	for {
		select {
		case <-o.wake:
		case <-o.closingC:
		}
		// Let a batch gather unless it is full already or the task ended.
		timer := time.NewTimer(o.cfg.FlushInterval)
		select {
		case <-timer.C:
		case <-o.full:
		case <-o.closingC:
		}
		timer.Stop()
		for {
			select {
			case <-o.held:
				o.holdBack(ctx)
			default:
			}
			o.mu.Lock()
			n := min(len(o.pending), o.cfg.MaxBatchEvents)
			batch := o.pending[:n:n]
			closing, stopped := o.closing, o.stopped
			last := closing && n == len(o.pending) && n+endEvents <= o.cfg.MaxBatchEvents
			o.mu.Unlock()
			if n == 0 || stopped || last {
				// The last events are close's to return: they go with the
				// attempt's end, in its append.
				if closing || stopped {
					return
				}
				break
			}
			err := o.t.append(ctx, batch)
			o.mu.Lock()
			if err != nil {
				o.fail(err)
				o.mu.Unlock()
				return
			}
			if o.stopped { // fail() emptied the queue meanwhile
				o.mu.Unlock()
				return
			}
			o.pending = o.pending[n:]
			for _, e := range batch {
				o.bytes -= len(e.Payload)
			}
			o.space.Broadcast()
			o.mu.Unlock()
		}
	}
}

// hold asks the flusher to hold its next append back (see holdBack).
func (o *output) hold() { signal(o.held) }

// holdPollInterval is how often a held flusher reads the task's stream.
const holdPollInterval = 5 * time.Millisecond

// holdBack waits, before an append, until the task's stream shows a
// cancel request (read every holdPollInterval; catchUp then stops the
// executor), the task is lost, the executor has ended, or HoldTimeout has
// passed. It leaves a failed read to the append that follows, which meets
// it again.
func (o *output) holdBack(ctx context.Context) {
	timeout := time.NewTimer(o.cfg.HoldTimeout)
	defer timeout.Stop()
	poll := time.NewTicker(holdPollInterval)
	defer poll.Stop()
	for !o.t.task.CancelRequested() {
		select {
		case <-timeout.C:
			return
		case <-o.closingC:
			return
		case <-poll.C:
		}
		if err := o.t.catchUp(ctx); err != nil {
			return
		}
	}
}

// endEvents is the most events an attempt's end appends
// (task.attempt_failed and task.queued of a retry).
const endEvents = 2

// close stops the flusher once it has appended what is queued, except the
// last events, which it returns: the attempt's end appends them with its
// own events, in one append (a task that ends with little output pending
// costs no append of its own for it). It returns the first error an append
// met (ErrTaskLost when the task was taken over), and then no events.
func (o *output) close() ([]domain.NewEvent, error) {
	o.mu.Lock()
	o.closing = true
	o.mu.Unlock()
	close(o.closingC)
	<-o.done
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return nil, o.err
	}
	tail := o.pending
	o.pending, o.bytes = nil, 0
	return tail, nil
}
