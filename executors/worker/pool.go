package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/internal/backoff"
)

// Pool feeds a Runner from the bus: it claims the tasks of TopicTasks work
// messages and runs them, at most Concurrency at once, and passes
// TopicControl cancel and hold messages to the Runner.
type Pool struct {
	runner          *Runner
	workSub, ctlSub message.Subscriber
	concurrency     int
	perSlot         bool
	logger          *slog.Logger
	works           []<-chan *message.Message
	controls        <-chan *message.Message
	// storeDown logs an outage of the store once, not once per claim.
	storeDown *backoff.Retry
}

// NewPool returns a pool of concurrency slots (at least 1) for runner. It
// takes work from workSub (a consumer group, where the bus has them: each
// task goes to one worker) and cancels and holds from ctlSub (fan-out:
// every worker sees every one); an in-process bus can be both.
func NewPool(runner *Runner, workSub, ctlSub message.Subscriber, concurrency int, logger *slog.Logger) *Pool {
	if logger == nil {
		logger = slog.Default()
	}
	return &Pool{runner: runner, workSub: workSub, ctlSub: ctlSub, concurrency: max(1, concurrency), logger: logger,
		storeDown: &backoff.Retry{Dependency: backoff.DependencyStore, What: "worker pool: claim tasks", Logger: logger}}
}

// failed logs a failed call to the store at level error, unless the store
// is out of reach: that is logged once per outage (storeDown).
func (p *Pool) failed(ctx context.Context, msg string, err error, args ...any) {
	if eventstore.Unavailable(err) {
		p.storeDown.Note(ctx, err)
		return
	}
	p.logger.ErrorContext(ctx, msg, append(args, "err", err)...)
}

// DefaultWaitingSweepInterval is how often a pool with free slots looks for
// waiting tasks (see Pool.Run).
const DefaultWaitingSweepInterval = 2 * time.Second

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
// claim. A task its tenant's limit holds back waits (ErrTenantAtLimit);
// when one of the tenant's tasks ends here, the slot goes on with the
// tenant's oldest waiting task, and every DefaultWaitingSweepInterval free slots
// try the oldest waiting tasks of all tenants. A retry that waits for its
// backoff (ErrNotDue) is on the same waiting list, listed from the time it
// is due: a sweep claims it within DefaultWaitingSweepInterval of that.
// Before it takes any work, it has the runner reap what dead attempts left
// behind (Runner.Reap).
func (p *Pool) Run(ctx context.Context) error {
	if p.works == nil {
		return errors.New("worker pool: Run before Subscribe")
	}
	p.runner.Reap(ctx)
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
	sweep := time.NewTicker(DefaultWaitingSweepInterval)
	defer sweep.Stop()
	for {
		var m *message.Message
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-allClosed:
			return ctx.Err()
		case <-sweep.C:
			p.sweepWaiting(ctx, slots, &wg)
			continue
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

// claimAndRun claims w's task, settles m, and runs the task if claimed;
// then, in the same slot, the tenant's tasks that waited for one to end.
func (p *Pool) claimAndRun(ctx context.Context, m *message.Message, w bus.Work) {
	claimed, err := p.runner.Claim(ctx, w.TaskID, w.TenantID)
	switch {
	case err == nil:
		m.Ack()
		p.storeDown.Succeeded()
	case errors.Is(err, ErrNotClaimable), errors.Is(err, ErrTenantAtLimit), errors.Is(err, ErrNotDue):
		m.Ack() // a task held back is remembered as waiting
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
		p.failed(ctx, "worker pool: claim failed; the message will come again", err, "task_id", w.TaskID)
		select { // do not spin on a failing database: hold the slot a while
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
		return
	}
	p.run(ctx, claimed, w.TaskID.String())
	p.startWaiting(ctx, w.TenantID)
}

// run runs a claimed task to its end.
func (p *Pool) run(ctx context.Context, claimed *Claimed, taskID string) {
	err := claimed.Run(ctx)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
	case errors.Is(err, ErrTaskLost):
		p.logger.Warn("worker pool: task taken over while it ran", "task_id", taskID)
	default:
		p.logger.Error("worker pool: task run failed", "task_id", taskID, "err", err)
	}
}

// startWaiting runs the tenant's waiting tasks, oldest first, one after
// another while its limit lets them start: a task that ended freed a slot.
func (p *Pool) startWaiting(ctx context.Context, tenantID string) {
	for ctx.Err() == nil {
		waiting, err := p.runner.Waiting(ctx, tenantID, 1)
		if err != nil || len(waiting) == 0 || !p.claimWaiting(ctx, waiting[0]) {
			return
		}
	}
}

// claimWaiting claims and runs one waiting task. It reports whether the
// caller may go on to the next: false when the tenant is still at its
// limit, or the claim failed.
func (p *Pool) claimWaiting(ctx context.Context, wt eventstore.WaitingTask) bool {
	if wt.Since.After(p.runner.cfg.NowFunc()) {
		// A retry waiting for its backoff, listed from its due time: not yet.
		return false
	}
	id, err := uuid.Parse(wt.TaskID)
	if err == nil {
		var claimed *Claimed
		if claimed, err = p.runner.Claim(ctx, id, wt.TenantID); err == nil {
			p.run(ctx, claimed, wt.TaskID)
			return true
		}
	} else {
		err = ErrNotClaimable // not a task id: never claimable
	}
	switch {
	case errors.Is(err, eventstore.ErrLeaseTaken), errors.Is(err, ErrNotDue):
		// Another worker is claiming it, and forgets it when it starts; if
		// that claim fails, a later sweep tries again. Or its retry backoff
		// lasts, and a later sweep claims it once due.
		return false
	case errors.Is(err, ErrNotClaimable), permanent(err):
		// It started elsewhere, ended, or never can: it waits no more.
		if err := p.runner.Forget(ctx, wt.TaskID); err != nil {
			p.logger.Warn("worker pool: could not forget a waiting task", "task_id", wt.TaskID, "err", err)
			return false
		}
		return true
	case !errors.Is(err, ErrTenantAtLimit) && ctx.Err() == nil:
		p.failed(ctx, "worker pool: claim of a waiting task failed", err, "task_id", wt.TaskID)
	}
	return false
}

// sweepWaiting tries the oldest waiting tasks of every tenant in the free
// slots. It is how a waiting task starts when the task that freed its
// tenant's slot ended on a worker that died, and it also picks up the
// waiting tasks of other workers.
func (p *Pool) sweepWaiting(ctx context.Context, slots chan struct{}, wg *sync.WaitGroup) {
	free := cap(slots) - len(slots)
	if free == 0 {
		return
	}
	waiting, err := p.runner.Waiting(ctx, "", free)
	if err != nil {
		p.failed(ctx, "worker pool: list waiting tasks", err)
		return
	}
	p.storeDown.Succeeded()
	for _, wt := range waiting {
		select {
		case slots <- struct{}{}:
		default:
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if p.claimWaiting(ctx, wt) {
				p.startWaiting(ctx, wt.TenantID)
			}
		}()
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
		switch c.Action {
		case bus.ActionCancel:
			p.runner.Cancel(c.TaskID.String())
		case bus.ActionHold:
			p.runner.Hold(c.TaskID.String())
		}
	}
}
