package worker

import (
	"context"
	"sync"
	"time"

	"github.com/axontask/axontask/domain"
)

// output is the Sink of a running task. Sink calls only queue events; one
// flusher goroutine appends them in batches, when a batch is full or
// FlushInterval after its first event. When more than MaxBufferBytes wait,
// Sink calls block: the store's pace holds the process's output back instead
// of the worker's memory growing. A hold (Runner.Hold) stops the appends for
// a moment, so that a cancel request can be appended in between.
type output struct {
	t   *run
	cfg Config

	mu       sync.Mutex
	space    *sync.Cond // signaled when the buffer shrinks or the flusher stops
	pending  []domain.NewEvent
	bytes    int
	offsets  map[domain.OutputStream]int64
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

// queue adds an event, counting its payload's size against MaxBufferBytes.
func (o *output) queue(payload domain.Payload) {
	e, err := o.t.r.w.NewEvent(o.t.to, payload)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.fail(err)
		return
	}
	for o.bytes >= o.cfg.MaxBufferBytes && !o.stopped {
		o.space.Wait()
	}
	if o.stopped || o.closing {
		return // the task ended: output after it has nowhere to go
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

// fail records the first error and stops accepting output. o.mu is held.
func (o *output) fail(err error) {
	if o.err == nil {
		o.err = err
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
			o.mu.Unlock()
			if n == 0 || stopped {
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

// close appends what is still queued and stops the flusher. It returns the
// first error an append met (ErrTaskLost when the task was taken over).
func (o *output) close() error {
	o.mu.Lock()
	o.closing = true
	o.mu.Unlock()
	close(o.closingC)
	<-o.done
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}
