package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
)

// Pool feeds a Runner from the bus: it claims the tasks of TopicTasks work
// messages and runs them, at most Concurrency at once, and passes
// TopicControl cancel messages to the Runner.
type Pool struct {
	runner          *Runner
	workSub, ctlSub message.Subscriber
	concurrency     int
	perSlot         bool
	logger          *slog.Logger
	works           []<-chan *message.Message
	controls        <-chan *message.Message
}

// NewPool returns a pool of concurrency slots (at least 1) for runner. It
// takes work from workSub (a consumer group, where the bus has them: each
// task goes to one worker) and cancels from ctlSub (fan-out: every worker
// sees every cancel); an in-process bus can be both.
func NewPool(runner *Runner, workSub, ctlSub message.Subscriber, concurrency int, logger *slog.Logger) *Pool {
	if logger == nil {
		logger = slog.Default()
	}
	return &Pool{runner: runner, workSub: workSub, ctlSub: ctlSub, concurrency: max(1, concurrency), logger: logger}
}

// SubscribePerSlot makes Subscribe subscribe to the work topic once per
// slot, so that every slot can have a claim in flight; call it before
// Subscribe. It is for a consumer-group subscriber such as Redis Streams',
// which holds back the next message of a subscription until the current
// one is acknowledged (and a work message is acknowledged after its
// claim). Never use it with a subscriber that delivers every message to
// every subscription, such as a GoChannel: each task would be claimed once
// per slot.
func (p *Pool) SubscribePerSlot() *Pool {
	p.perSlot = true
	return p
}

// Subscribe subscribes to the pool's topics until ctx ends. Call it before
// anything publishes that the pool must see (an in-process bus drops
// messages nobody subscribes to yet), then Run.
func (p *Pool) Subscribe(ctx context.Context) error {
	subscriptions := 1
	if p.perSlot {
		subscriptions = p.concurrency
	}
	for range subscriptions {
		work, err := p.workSub.Subscribe(ctx, bus.TopicTasks)
		if err != nil {
			return fmt.Errorf("subscribe to %s: %w", bus.TopicTasks, err)
		}
		p.works = append(p.works, work)
	}
	controls, err := p.ctlSub.Subscribe(ctx, bus.TopicControl)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", bus.TopicControl, err)
	}
	p.controls = controls
	return nil
}

// Run consumes what Subscribe subscribed to until ctx ends, then waits for
// the tasks it started to stop (a shutdown leaves them to the watchdog; see
// Runner.Run). Each work message takes a slot, is claimed in it, and is
// acknowledged after the claim: a worker that dies in between leaves the
// message to be delivered again, and a second delivery costs one failed
// claim.
func (p *Pool) Run(ctx context.Context) error {
	if p.works == nil {
		return errors.New("worker pool: Run before Subscribe")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { defer wg.Done(); p.control(ctx, p.controls) }()
	// The subscriptions, merged; closed once every one has closed.
	work := make(chan *message.Message)
	var readers sync.WaitGroup
	for _, ch := range p.works {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case m, ok := <-ch:
					if !ok {
						return
					}
					select {
					case work <- m:
					case <-ctx.Done():
						m.Nack()
						return
					}
				}
			}
		}()
	}
	allClosed := make(chan struct{})
	go func() { readers.Wait(); close(allClosed) }()
	defer func() { <-allClosed }()

	slots := make(chan struct{}, p.concurrency)
	for {
		var m *message.Message
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-allClosed:
			return ctx.Err()
		case m = <-work:
		}
		w, err := bus.DecodeWork(m)
		if err != nil {
			m.Ack() // redelivering it would not make it readable
			p.logger.Error("worker pool: drop malformed work message", "err", err)
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			m.Nack()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			p.claimAndRun(ctx, m, w)
		}()
	}
}

// claimAndRun claims w's task, settles m, and runs the task if claimed.
func (p *Pool) claimAndRun(ctx context.Context, m *message.Message, w bus.Work) {
	claimed, err := p.runner.Claim(ctx, w.TaskID, w.TenantID)
	switch {
	case err == nil:
		m.Ack()
	case errors.Is(err, ErrNotClaimable):
		m.Ack()
		return
	case permanent(err):
		// Delivering it again cannot help: drop it, loudly.
		m.Ack()
		p.logger.Error("worker pool: dropped work that cannot run here", "task_id", w.TaskID, "err", err)
		return
	default:
		m.Nack()
		if ctx.Err() != nil {
			return
		}
		p.logger.Error("worker pool: claim failed; the message will come again", "task_id", w.TaskID, "err", err)
		select { // do not spin on a failing database: hold the slot a while
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
		return
	}
	err = claimed.Run(ctx)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
	case errors.Is(err, ErrTaskLost):
		p.logger.Warn("worker pool: task taken over while it ran", "task_id", w.TaskID)
	default:
		p.logger.Error("worker pool: task run failed", "task_id", w.TaskID, "err", err)
	}
}

// permanent reports claim errors that no redelivery can cure: the task
// does not exist, or names an adapter or arguments this worker cannot run.
func permanent(err error) bool {
	var verr *domain.ValidationError
	return errors.Is(err, commands.ErrTaskNotFound) || errors.Is(err, executors.ErrUnknownAdapter) || errors.As(err, &verr)
}

func (p *Pool) control(ctx context.Context, msgs <-chan *message.Message) {
	for {
		var m *message.Message
		var ok bool
		select {
		case <-ctx.Done():
			return
		case m, ok = <-msgs:
			if !ok {
				return
			}
		}
		c, err := bus.DecodeControl(m)
		m.Ack()
		if err != nil {
			p.logger.Error("worker pool: drop malformed control message", "err", err)
			continue
		}
		if c.Action == bus.ActionCancel {
			p.runner.Cancel(c.TaskID.String())
		}
	}
}
