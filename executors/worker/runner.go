package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/internal/backoff"
)

// Store is what a Runner and its Pool need of the event store.
type Store interface {
	commands.EventAppender
	commands.StreamReader
	eventstore.LeaseStore
	eventstore.LeaseAppender
	eventstore.WaitingStore
}

// Defaults of Config.
const (
	DefaultFlushInterval  = 20 * time.Millisecond
	DefaultFlushBytes     = 64 << 10
	DefaultMaxBatchEvents = 100
	DefaultMaxBufferBytes = 8 << 20
	DefaultLeaseTTL       = 30 * time.Second
	DefaultRenewInterval  = 10 * time.Second
	DefaultHoldTimeout    = time.Second
)

// Config configures a Runner.
type Config struct {
	// WorkerID names this worker in task.started; required.
	WorkerID string
	// Executors maps each adapter this worker runs to its executor; required.
	Executors map[domain.Adapter]executors.Executor
	// FlushInterval bounds how long output waits before it is appended (default 20 ms).
	FlushInterval time.Duration
	// FlushBytes appends buffered output once it reaches this size (default 64 KiB).
	FlushBytes int
	// MaxBatchEvents bounds the events of one append (default 100).
	MaxBatchEvents int
	// MaxBufferBytes bounds output waiting to be appended; beyond it the
	// executor's Sink calls block until the store catches up (default 8 MiB).
	MaxBufferBytes int
	// LeaseTTL is how long a lease lasts unless renewed (default 30 s): a
	// worker that dies loses its tasks to the watchdog that long after.
	LeaseTTL time.Duration
	// RenewInterval is how often a running task's lease is renewed
	// (default 10 s); it must be well below LeaseTTL.
	RenewInterval time.Duration
	// HoldTimeout bounds how long a hold (Runner.Hold) keeps a task's
	// output back when no cancel request follows it (default 1 s).
	HoldTimeout time.Duration
	// NowFunc is the clock (default time.Now).
	NowFunc func() time.Time
	// Logger receives operational logs (default slog.Default()).
	Logger *slog.Logger
	// PlanFunc returns what a tenant's plan allows its tasks; nil: no
	// limits. A task past its tenant's concurrency stays queued, with a
	// task.waiting event saying why, and starts when one of the tenant's
	// tasks ends (see Pool). A task past an output limit is stopped and
	// fails (see domain.TaskLimits).
	PlanFunc func(ctx context.Context, tenantID string) (TenantPlan, error)
	// SecretsFunc returns the values of a tenant's secrets by name, and
	// records that they were used (secrets.Vault's Resolve). Before a task
	// whose args refer to secrets (domain.SecretReferrer) runs, the worker
	// resolves them with it, hands them to the executor
	// (executors.Task's Secrets) and masks them in the task's output. An
	// error fails the task with its message (a secret that does not exist
	// says so and how to create it), except one of the store being out of
	// reach, which hands the task back. nil: a task that refers to a
	// secret fails, saying that this worker has no secrets.
	SecretsFunc func(ctx context.Context, tenantID string, names []string) (map[string]string, error)
	// ClaimedFunc, when set, is called after each claim this worker won
	// with the task's dispatch latency: from when its attempt was due (its
	// task.queued, or a retry's not_before) to its task.started. It must
	// be quick (a metric: metrics.Registry's ObserveDispatch).
	ClaimedFunc func(latency time.Duration)
}

// TenantPlan is what a tenant's plan allows its tasks.
type TenantPlan struct {
	// Name names the plan in the reasons the worker writes: why a task
	// waits, which limit a task reached.
	Name domain.PlanName
	// Concurrency bounds the tenant's tasks running at once; 0: no limit.
	Concurrency int
	// Limits bound each of the tenant's tasks.
	Limits domain.TaskLimits
}

func (c Config) withDefaults() Config {
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.FlushBytes <= 0 {
		c.FlushBytes = DefaultFlushBytes
	}
	if c.MaxBatchEvents <= 0 {
		c.MaxBatchEvents = DefaultMaxBatchEvents
	}
	if c.MaxBufferBytes <= 0 {
		c.MaxBufferBytes = DefaultMaxBufferBytes
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.RenewInterval <= 0 {
		c.RenewInterval = DefaultRenewInterval
	}
	if c.HoldTimeout <= 0 {
		c.HoldTimeout = DefaultHoldTimeout
	}
	if c.NowFunc == nil {
		c.NowFunc = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	if err := domain.ValidateIdentifier("worker_id", c.WorkerID); err != nil {
		return fmt.Errorf("worker config: %w", err)
	}
	if len(c.Executors) == 0 {
		return errors.New("worker config: no executors: give at least one adapter's executor")
	}
	if c.RenewInterval*2 > c.LeaseTTL {
		return fmt.Errorf("worker config: RenewInterval %s must be at most half of LeaseTTL %s, so that one late renewal does not lose the lease", c.RenewInterval, c.LeaseTTL)
	}
	if c.MaxBatchEvents > eventstore.DefaultMaxAppendEvents {
		return fmt.Errorf("worker config: MaxBatchEvents %d is above the store's limit of %d events per append", c.MaxBatchEvents, eventstore.DefaultMaxAppendEvents)
	}
	return nil
}

// Errors a Run ends with when it did not run the task to its end.
var (
	// ErrNotClaimable: the task is not queued (another worker claimed it,
	// or it was canceled or has ended). Drop the work message.
	ErrNotClaimable = domain.ErrNotClaimable
	// ErrTaskLost: while it ran, someone else moved the task on (the
	// watchdog declared the lease lost, or ended it); this worker stopped it
	// and appended nothing more.
	ErrTaskLost = errors.New("task was taken over while it ran")
	// ErrTenantAtLimit: the task's tenant runs as many tasks as its plan
	// allows. The task stays queued and is remembered as waiting: drop the
	// work message.
	ErrTenantAtLimit = errors.New("the tenant runs as many tasks as its plan allows")
	// ErrNotDue: the task's next attempt waits for its retry backoff. The
	// task stays queued and is remembered as waiting until then: drop the
	// work message.
	ErrNotDue = errors.New("the task's next attempt is not due yet")
)

// Causes of an executor's context being canceled.
var (
	errCanceled = errors.New("task canceled")
	errTimedOut = errors.New("task timed out")
	// errOutputLimit is wrapped by a cause that names the limit.
	errOutputLimit = errors.New("output limit reached")
	// errOutputLost: the task's output could not be appended, so the
	// attempt cannot be recorded; it is stopped and handed back.
	errOutputLost = errors.New("the task's output could not be appended")
)

// Runner runs claimed tasks. It is safe for concurrent use: Run may be
// called for many tasks at once.
type Runner struct {
	store Store
	w     commands.Writer
	cfg   Config
	// storeDown paces the retries of appends while the store is out of
	// reach, and logs the outage once; leaseDown logs failing renewals.
	storeDown, leaseDown *backoff.Retry

	mu      sync.Mutex
	running map[string]*handle // tasks claimed here, by id
}

// New returns a Runner that appends to store.
func New(store Store, cfg Config) (*Runner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Runner{
		store: store, w: commands.Writer{Store: store, NowFunc: cfg.NowFunc}, cfg: cfg, running: map[string]*handle{},
		storeDown: &backoff.Retry{Dependency: backoff.DependencyStore, What: "worker: append to the event store", Meanwhile: "running tasks' output waits in their buffers", Logger: cfg.Logger, Max: time.Second},
		leaseDown: &backoff.Retry{Dependency: backoff.DependencyStore, What: "worker: renew leases", Meanwhile: "a task whose lease is about to expire is stopped", Logger: cfg.Logger},
	}, nil
}

// handle lets Cancel reach a task from the moment it is claimed: a cancel
// that arrives before the executor starts is kept and applied when it does.
type handle struct {
	stop     context.CancelCauseFunc // nil until the executor starts
	out      *output                 // nil until the executor starts
	canceled bool
}

// Cancel stops the executor of a task this Runner has claimed, now or as
// soon as it starts; Run then appends task.canceled. It reports whether the
// task is claimed here.
func (r *Runner) Cancel(taskID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.running[taskID]
	if !ok {
		return false
	}
	h.canceled = true
	if h.stop != nil {
		h.stop(errCanceled)
	}
	return true
}

// Hold holds the output of a task this Runner runs back from the store for
// a moment (at most HoldTimeout): the cancel command is about to append a
// cancel request, and a task that prints without pause would otherwise
// keep taking the stream's head from it. The output waits in the buffer
// (MaxBufferBytes) and is appended once the stream shows the cancel request
// or the hold times out. A task that does not run here is left alone.
func (r *Runner) Hold(taskID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.running[taskID]; ok && h.out != nil {
		h.out.hold()
	}
}

// Run claims the task and runs it to its end: Claim, then Claimed.Run.
// It returns nil when the task ended (in any state: a failed task is not an
// error of Run), ErrNotClaimable when there was nothing to claim, and
// ErrTaskLost when the task was taken over while it ran (its lease was lost).
// While the task runs, its lease is renewed every RenewInterval. If ctx ends
// (the worker shuts down) the task is stopped and handed back: task.lease_lost
// and task.queued for the next attempt are appended, and Run returns ctx's
// error.
func (r *Runner) Run(ctx context.Context, taskID uuid.UUID, tenantID string) error {
	c, err := r.Claim(ctx, taskID, tenantID)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}

// Claimed is a task this worker has claimed and holds a lease on. Call Run
// exactly once.
type Claimed struct {
	t     *run
	exec  executors.Executor
	args  any
	lease eventstore.Lease
}

// Claim claims a queued task (task.started at its head; of all workers
// that try, one wins, the others get ErrNotClaimable) and records the
// lease. A bus consumer acknowledges its message after Claim, so a worker
// that dies before claiming leaves the message to be delivered again.
func (r *Runner) Claim(ctx context.Context, taskID uuid.UUID, tenantID string) (*Claimed, error) {
	var task domain.Task
	if err := commands.CatchUpTask(ctx, r.store, taskID, tenantID, &task); err != nil {
		return nil, err
	}
	var notDue *domain.NotDueError
	if _, err := task.DecideClaim(r.cfg.WorkerID, task.Attempt(), r.cfg.NowFunc()); errors.As(err, &notDue) {
		// Its retry backoff lasts: the waiting list's sweeps claim it once
		// due. A row the watchdog made earlier (the work message was lost)
		// moves to the due time, so that it does not stand at the head of
		// the list, in front of tasks that could start, until then.
		if err := r.store.TaskWaitingUnmark(ctx, taskID.String()); err != nil {
			return nil, fmt.Errorf("task %s: mark waiting for its retry: %w", taskID, err)
		}
		if err := r.store.TaskWaitingMark(ctx, taskID.String(), tenantID, notDue.At); err != nil {
			return nil, fmt.Errorf("task %s: mark waiting for its retry: %w", taskID, err)
		}
		return nil, fmt.Errorf("task %s: %w: %w", taskID, ErrNotDue, err)
	} else if err != nil {
		return nil, err
	}
	if task.Adapter() == "" {
		return nil, fmt.Errorf("task %s: its task.created payload is missing (pruned?)", taskID)
	}
	exec, ok := r.cfg.Executors[task.Adapter()]
	if !ok {
		return nil, fmt.Errorf("task %s: adapter %q: %w", taskID, task.Adapter(), executors.ErrUnknownAdapter)
	}
	args, err := domain.ParseArgs(task.Adapter(), task.Args())
	if err != nil {
		return nil, fmt.Errorf("task %s: stored args: %w", taskID, err)
	}
	stream := eventstore.Stream{ID: taskID.String(), Type: domain.StreamTask, TenantID: tenantID}
	t := &run{r: r, stream: stream, task: &task,
		to: commands.Target{Stream: stream, Meta: domain.Metadata{Actor: "worker:" + r.cfg.WorkerID, CorrelationID: stream.ID}}}
	// The lease is the tenant's slot, taken with the claim, in its commit,
	// only while the tenant runs fewer tasks than its plan allows.
	lease := eventstore.Lease{TaskID: t.stream.ID, TenantID: tenantID, WorkerID: r.cfg.WorkerID, Attempt: task.Attempt(), ExpiresAt: r.cfg.NowFunc().Add(r.cfg.LeaseTTL)}
	// Registered before the claim commits, so that a cancel that comes as
	// soon as task.started is visible finds it.
	if !r.claiming(t.stream.ID) {
		return nil, fmt.Errorf("task %s: %w: this worker is claiming or running it already", taskID, ErrNotClaimable)
	}
	if err := r.claimSlot(ctx, t, lease); err != nil {
		r.untrack(t.stream.ID)
		return nil, err
	}
	if r.cfg.ClaimedFunc != nil {
		r.cfg.ClaimedFunc(task.StartedAt().Sub(task.DueAt()))
	}
	if t.waited { // only then can it have a waiting row
		if err := r.store.TaskWaitingUnmark(ctx, t.stream.ID); err != nil {
			r.cfg.Logger.Warn("worker: could not forget a waiting task that started", "task_id", t.stream.ID, "err", err)
		}
	}
	return &Claimed{t: t, exec: exec, args: args, lease: lease}, nil
}

// claimSlot looks up the tenant's plan (t.plan) and claims the task with
// lease, if the tenant runs fewer tasks than the plan allows. A lease left
// by the task's previous attempt (handed back or recovered, not yet
// dropped) is dropped first. A task past the limit is remembered as
// waiting, with a task.waiting event when the reason is new.
func (r *Runner) claimSlot(ctx context.Context, t *run, lease eventstore.Lease) error {
	if r.cfg.PlanFunc != nil {
		var err error
		if t.plan, err = r.cfg.PlanFunc(ctx, lease.TenantID); err != nil {
			return fmt.Errorf("task %s: the tenant's plan: %w", lease.TaskID, err)
		}
	}
	limit := t.plan.Concurrency
	if limit <= 0 {
		limit = math.MaxInt32
	}
	err := t.claim(ctx, lease, limit)
	if errors.Is(err, eventstore.ErrLeaseTaken) && lease.Attempt > 1 {
		if err := r.store.LeaseDrop(ctx, lease.TaskID, lease.Attempt-1); err != nil {
			return err
		}
		err = t.claim(ctx, lease, limit)
	}
	switch {
	case errors.Is(err, eventstore.ErrLeaseTaken):
		// Another worker is claiming this attempt.
		return fmt.Errorf("task %s: %w: %w", lease.TaskID, ErrNotClaimable, eventstore.ErrLeaseTaken)
	case errors.Is(err, eventstore.ErrTenantAtLimit):
		return r.wait(ctx, t, fmt.Sprintf("the %s plan runs at most %d tasks at once and that many are running; this task starts when one of them ends", t.plan.Name, limit))
	}
	return err
}

// wait remembers a task that its tenant's limit holds back and says why in
// its log; it returns ErrTenantAtLimit.
func (r *Runner) wait(ctx context.Context, t *run, reason string) error {
	if err := r.store.TaskWaitingMark(ctx, t.stream.ID, t.stream.TenantID, r.cfg.NowFunc()); err != nil {
		return fmt.Errorf("task %s: mark waiting: %w", t.stream.ID, err)
	}
	// A task that moved on (started, canceled) needs no reason: the
	// decision is empty then.
	_, err := commands.Update(ctx, r.w, t.to, t.task, func(task *domain.Task) ([]domain.Payload, error) { return task.DecideWait(reason) })
	if err != nil && !errors.Is(err, eventstore.ErrConflict) {
		return fmt.Errorf("task %s: append task.waiting: %w", t.stream.ID, err)
	}
	return ErrTenantAtLimit
}

// Waiting returns up to limit tasks that their tenants' limits held back,
// oldest first: of tenantID, or of every tenant when it is empty.
func (r *Runner) Waiting(ctx context.Context, tenantID string, limit int) ([]eventstore.WaitingTask, error) {
	return r.store.TaskWaitingList(ctx, tenantID, limit)
}

// Forget drops a waiting task that can no longer start (it is not queued).
func (r *Runner) Forget(ctx context.Context, taskID string) error {
	return r.store.TaskWaitingUnmark(ctx, taskID)
}

// Run runs the claimed task to its end; see Runner.Run for what it returns.
func (c *Claimed) Run(ctx context.Context) error {
	t, r, lease := c.t, c.t.r, c.lease
	// The attempt's end drops the lease in its own append. The lease is
	// kept when the end could not be written: the watchdog then recovers
	// the task once it expires, rather than the task staying running with
	// nothing to recover it. Otherwise (the task was lost, or its end was
	// decided by someone else) it is dropped here.
	t.end = &ending{Store: r.store, attempt: lease.Attempt}
	keepLease := false
	defer func() {
		if !keepLease && !t.end.dropped {
			_ = r.store.LeaseDrop(context.WithoutCancel(ctx), lease.TaskID, lease.Attempt)
		}
	}()

	values, err := r.resolveSecrets(ctx, t.stream.TenantID, c.args)
	switch {
	case err != nil && (ctx.Err() != nil || eventstore.Unavailable(err)):
		return errors.Join(err, t.handBack(context.WithoutCancel(ctx), "worker "+r.cfg.WorkerID+" could not read the task's secrets"))
	case err != nil:
		// No attempt can run without the secret: a retry policy does not
		// apply.
		err = t.finish(context.WithoutCancel(ctx), domain.RunOutcome{Kind: domain.OutcomeStartFailed, Error: (&executors.StartError{Err: err}).Error(), Permanent: true})
		keepLease = err != nil && !errors.Is(err, ErrTaskLost)
		return err
	}

	execCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	timeout := time.Duration(t.task.TimeoutS()) * time.Second
	execCtx, cancelTimeout := context.WithTimeoutCause(execCtx, timeout, errTimedOut)
	defer cancelTimeout()
	t.stopExec = stop
	claimedAt := t.task.Seq() // read before the output flusher owns t.task
	out := newOutput(t, r.cfg)
	r.started(t.stream.ID, stop, out)
	defer r.untrack(t.stream.ID)

	renewDone := make(chan struct{})
	renewCtx, stopRenew := context.WithCancel(execCtx)
	go func() { defer close(renewDone); t.renew(renewCtx, lease, claimedAt) }()
	defer func() { stopRenew(); <-renewDone }()

	var sink executors.Sink = out
	mask := newMasker(out, values)
	if mask != nil {
		sink = mask
	}
	result, runErr := c.exec.Run(execCtx, executors.Task{ID: t.stream.ID, TenantID: t.stream.TenantID, Adapter: t.task.Adapter(), Args: c.args, Attempt: lease.Attempt, LastFailedAttempt: t.task.LastFailedAttempt(), Limits: t.plan.Limits, Secrets: values}, sink)
	if mask != nil {
		mask.flush()
	}
	tail, flushErr := out.close()
	t.end.tail = tail

	stopRenew()
	<-renewDone
	switch {
	case ctx.Err() != nil && runErr != nil && !t.lost.Load():
		// Shutting down stopped the task: hand it back for another worker.
		// (A task that ended by itself meanwhile is finished below.)
		return errors.Join(ctx.Err(), t.handBack(context.WithoutCancel(ctx), "worker "+r.cfg.WorkerID+" shut down"))
	case t.lost.Load():
		return ErrTaskLost
	case flushErr != nil:
		// Its output is not all in the log: this attempt cannot end well.
		// Another attempt runs the task again.
		if err := t.handBack(context.WithoutCancel(ctx), "worker "+r.cfg.WorkerID+" could not append the task's output"); err != nil {
			keepLease = true
			return errors.Join(flushErr, err)
		}
		return flushErr
	}
	err = t.finish(context.WithoutCancel(ctx), mask.maskOutcome(t.outcome(result, runErr, context.Cause(execCtx))))
	keepLease = err != nil && !errors.Is(err, ErrTaskLost)
	return err
}

// errNoSecrets fails a task that refers to secrets on a worker without
// Config.SecretsFunc.
var errNoSecrets = errors.New("the task refers to tenant secrets, and this worker has none: its operator gives it SECRETS_KEY")

// resolveSecrets returns the values of the secrets args refer to, for the
// tenant; nil when they refer to none.
func (r *Runner) resolveSecrets(ctx context.Context, tenantID string, args any) (map[string]string, error) {
	ref, ok := args.(domain.SecretReferrer)
	if !ok {
		return nil, nil
	}
	names := ref.SecretRefs()
	switch {
	case len(names) == 0:
		return nil, nil
	case r.cfg.SecretsFunc == nil:
		return nil, errNoSecrets
	}
	return r.cfg.SecretsFunc(ctx, tenantID, names)
}

// claiming registers a task this worker is about to claim, so that a cancel
// reaches it from the moment its claim commits; false when this worker is
// claiming or running it already.
func (r *Runner) claiming(taskID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.running[taskID]; ok {
		return false
	}
	r.running[taskID] = &handle{}
	return true
}

// started records the stop function and the output of a claimed task's
// executor and applies a cancel that came before it.
func (r *Runner) started(taskID string, stop context.CancelCauseFunc, out *output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.running[taskID] // registered by claimed, before Run could start
	h.stop, h.out = stop, out
	if h.canceled {
		stop(errCanceled)
	}
}

func (r *Runner) untrack(taskID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, taskID)
}

// run is one claimed task: its stream head as this worker knows it.
type run struct {
	r        *Runner
	stream   eventstore.Stream
	to       commands.Target // where this worker's events of the task go
	task     *domain.Task
	plan     TenantPlan // the tenant's, as the claim found it
	stopExec context.CancelCauseFunc
	lost     atomic.Bool // someone else moved the task on; append nothing more
	// waited: the claim saw a task.waiting, so the task may have a
	// waiting row to forget.
	waited bool
	// end appends the attempt's end; set when the claimed task runs.
	end *ending
}

// claim appends task.started at the queued task's head, taking lease
// (within limit) in the same commit: of all workers that try, exactly one
// succeeds; the others get ErrNotClaimable. A conflict with a task.waiting
// (which leaves the task claimable) is decided again. A refused lease is
// returned as the store's error (eventstore.ErrLeaseTaken,
// ErrTenantAtLimit), and nothing is appended.
func (t *run) claim(ctx context.Context, lease eventstore.Lease, limit int) error {
	attempt := t.task.Attempt()
	w := t.r.w
	w.Store = leaseTaking{Store: t.r.store, lease: lease, limit: limit}
	_, err := commands.Update(ctx, w, t.to, t.task, func(task *domain.Task) ([]domain.Payload, error) {
		// A retry waited for its backoff on the waiting list.
		t.waited = t.waited || task.WaitingReason() != "" || !task.NotBefore().IsZero()
		return task.DecideClaim(t.r.cfg.WorkerID, attempt, t.r.cfg.NowFunc())
	})
	switch {
	case err == nil, errors.Is(err, ErrNotClaimable), errors.Is(err, eventstore.ErrLeaseTaken), errors.Is(err, eventstore.ErrTenantAtLimit):
		return err
	case errors.Is(err, eventstore.ErrConflict):
		// Claims of other workers kept winning the race.
		return ErrNotClaimable
	}
	return fmt.Errorf("task %s: claim: %w", t.stream.ID, err)
}

// leaseTaking appends a claim through the store's AppendLeaseTake: the
// claim's events and the lease commit together. It is a
// commands.StreamStore, so that commands.Update decides and retries the
// claim as any other append.
type leaseTaking struct {
	Store
	lease eventstore.Lease
	limit int
}

func (l leaseTaking) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	return l.AppendLeaseTake(ctx, stream, expectedSeq, events, l.lease, l.limit)
}

// ending appends an attempt's end (its finish, or its hand-back) through
// the store's AppendLeaseDrop: the output still queued (tail), the end's
// events and the release of the attempt's lease commit together.
type ending struct {
	Store
	attempt int
	tail    []domain.NewEvent
	// dropped is set once an append that dropped the lease committed.
	dropped bool
}

func (e *ending) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	stored, err := e.AppendLeaseDrop(ctx, stream, expectedSeq, append(slices.Clip(e.tail), events...), e.attempt)
	if err == nil {
		e.dropped = true
	}
	return stored, err
}

// append appends events at the task's head and applies them. On a conflict
// it reads what someone else appended: a cancel request stops the executor
// (and the append is retried after it); anything that takes the task away
// from this worker marks it lost and fails with ErrTaskLost.
func (t *run) append(ctx context.Context, events []domain.NewEvent) error {
	for {
		if t.lost.Load() {
			return ErrTaskLost
		}
		var stored []domain.Event
		err := t.whileUnavailable(ctx, func() (err error) {
			stored, err = t.r.store.Append(ctx, t.stream, t.task.Seq(), events)
			return err
		})
		if err == nil {
			for _, e := range stored {
				if err := t.task.Apply(e); err != nil {
					return fmt.Errorf("task %s: apply own event: %w", t.stream.ID, err)
				}
			}
			return nil
		}
		if !errors.Is(err, eventstore.ErrConflict) {
			return fmt.Errorf("task %s: append: %w", t.stream.ID, err)
		}
		if err := t.catchUp(ctx); err != nil {
			return err
		}
	}
}

// catchUp applies the events others appended and reacts to them.
func (t *run) catchUp(ctx context.Context) error {
	if err := commands.Load(ctx, t.r.store, t.stream, t.task); err != nil {
		return err
	}
	if !t.task.HeldBy(t.r.cfg.WorkerID) {
		t.lose()
		return ErrTaskLost
	}
	if t.task.CancelRequested() && t.stopExec != nil {
		t.stopExec(errCanceled)
	}
	return nil
}

// renew renews the lease every RenewInterval until ctx ends; a lease that
// is gone (the watchdog took the task back) makes the task lost. A lease
// that cannot be renewed (the store is out of reach) stops the task one
// RenewInterval before it expires, so that its processes are dead before
// the watchdog may start its next attempt elsewhere. Each time it also
// looks for a cancel request in the task's stream after seq seen, so a
// cancel whose bus message was lost still stops a task that appends
// nothing.
func (t *run) renew(ctx context.Context, lease eventstore.Lease, seen int64) {
	ticker := time.NewTicker(t.r.cfg.RenewInterval)
	defer ticker.Stop()
	expires := lease.ExpiresAt
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		next := t.r.cfg.NowFunc().Add(t.r.cfg.LeaseTTL)
		ok, err := t.r.store.LeaseRenew(ctx, lease.TaskID, lease.WorkerID, lease.Attempt, next)
		if err == nil {
			t.r.leaseDown.Succeeded()
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !t.r.cfg.NowFunc().Before(expires.Add(-t.r.cfg.RenewInterval)):
			t.r.cfg.Logger.Error("worker: the lease could not be renewed and is about to expire; stopping the task, so that it never runs beside the next attempt", "task_id", lease.TaskID, "expires_at", expires, "err", err)
			t.lose()
			return
		case err != nil: // the ticker paces the retries
			t.r.leaseDown.Note(ctx, err)
		case err == nil && !ok:
			t.r.cfg.Logger.Warn("worker: lease taken back; stopping the task", "task_id", lease.TaskID)
			t.lose()
			return
		case err == nil:
			expires = next
		}
		seen = t.cancelRequestedSince(ctx, seen)
	}
}

// cancelRequestedSince reads the task's events after seq and stops the
// executor if one is a cancel request. It returns the last seq read.
func (t *run) cancelRequestedSince(ctx context.Context, seq int64) int64 {
	for {
		page, err := t.r.store.ReadStream(ctx, t.stream.ID, seq, 100)
		if err != nil || len(page) == 0 {
			return seq
		}
		for _, e := range page {
			if e.Type == domain.TaskCancelRequestedType && t.stopExec != nil {
				t.stopExec(errCanceled)
			}
		}
		seq = page[len(page)-1].Seq
	}
}

// endWriter is the writer of the attempt's end: through t.end, which
// appends the output still queued with it and drops the lease.
func (t *run) endWriter() commands.Writer {
	w := t.r.w
	w.Store = t.end
	return w
}

// handBack returns a task this worker holds to the queue: task.lease_lost,
// then task.queued for the next attempt.
func (t *run) handBack(ctx context.Context, reason string) error {
	_, err := commands.Update(ctx, t.endWriter(), t.to, t.task, func(task *domain.Task) ([]domain.Payload, error) {
		return task.DecideHandBack(t.r.cfg.WorkerID, reason)
	})
	if err != nil && !errors.Is(err, domain.ErrAttemptOver) {
		return fmt.Errorf("task %s: hand back: %w", t.stream.ID, err)
	}
	return nil
}

// whileUnavailable runs op, and again while it fails because the store is
// out of reach (a restart of Postgres): at most LeaseTTL, which the lease
// would not outlive, and never once the task is lost. An append retried so
// is safe: events already stored at the same seq are not stored twice (see
// eventstore.Store.Append), and a task taken back meanwhile conflicts.
func (t *run) whileUnavailable(ctx context.Context, op func() error) error {
	var deadline time.Time
	for {
		err := op()
		if !eventstore.Unavailable(err) {
			if err == nil {
				t.r.storeDown.Succeeded()
			}
			return err
		}
		if deadline.IsZero() {
			deadline = t.r.cfg.NowFunc().Add(t.r.cfg.LeaseTTL)
		}
		if t.lost.Load() || !t.r.cfg.NowFunc().Before(deadline) {
			return err
		}
		if t.r.storeDown.Failed(ctx, err) != nil {
			return err
		}
	}
}

func (t *run) lose() {
	t.lost.Store(true)
	if t.stopExec != nil {
		t.stopExec(ErrTaskLost)
	}
}

// outcome says how the task's executor ended, for the domain to decide
// the task's end: its result, its error, and why its context was canceled.
// Output cut at its limit fails the task even if the process then exited
// by itself.
func (t *run) outcome(res executors.Result, runErr, cause error) domain.RunOutcome {
	var startErr *executors.StartError
	var limitErr *executors.LimitError
	switch {
	case errors.Is(cause, errOutputLimit):
		return domain.RunOutcome{Kind: domain.OutcomeLimitReached, Error: cause.Error()}
	case runErr == nil:
		return domain.RunOutcome{Kind: domain.OutcomeExited, ExitCode: res.ExitCode, Summary: res.Summary}
	case errors.Is(cause, errTimedOut):
		return domain.RunOutcome{Kind: domain.OutcomeTimedOut}
	case errors.Is(cause, errCanceled):
		return domain.RunOutcome{Kind: domain.OutcomeCanceled}
	case errors.As(runErr, &startErr):
		return domain.RunOutcome{Kind: domain.OutcomeStartFailed, Error: startErr.Error(), Permanent: startErr.Permanent}
	case errors.As(runErr, &limitErr):
		return domain.RunOutcome{Kind: domain.OutcomeLimitReached, Error: limitErr.Error() + ", " + t.planLimit()}
	default:
		return domain.RunOutcome{Kind: domain.OutcomeExecutorFailed, Error: runErr.Error()}
	}
}

// planLimit ends the reason of a limit reached: whose limit it is, and how
// to raise it.
func (t *run) planLimit() string {
	return fmt.Sprintf("a limit of the %s plan; a plan with a higher limit raises it", t.plan.Name)
}

// finish appends the event that ends the task, as the domain decides from
// how its executor ended. A task taken over meanwhile is ErrTaskLost.
func (t *run) finish(ctx context.Context, o domain.RunOutcome) error {
	err := t.whileUnavailable(ctx, func() error {
		_, err := commands.Update(ctx, t.endWriter(), t.to, t.task, func(task *domain.Task) ([]domain.Payload, error) {
			return task.DecideFinish(t.r.cfg.WorkerID, o, t.r.cfg.NowFunc())
		})
		return err
	})
	if errors.Is(err, domain.ErrAttemptOver) {
		return ErrTaskLost
	}
	return err
}
