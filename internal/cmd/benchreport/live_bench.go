package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testidentity"
)

// live measures worker append → SSE client received with liveClients
// clients, each following a task that emits livePerSecond output events/s,
// once for each count of liveTasks; in a full run 1,000 clients at 20
// events/s on 50 tasks (20 clients each, 1,000 events/s appended) and on
// 500 tasks (2 clients each, 10,000 events/s), through the production
// path: Postgres, the announcer, Redis Streams, the hub, HTTP.
func (b *bench) live(ctx context.Context) ([]row, error) {
	clients, perSecond := b.cfg.liveClients, b.cfg.livePerSecond
	var rows []row
	for _, tasks := range b.cfg.liveTasks {
		lat, afterCommit, sent, span, err := b.liveRun(ctx, tasks, clients/tasks, perSecond)
		if err != nil {
			return nil, err
		}
		asked, achieved := tasks*perSecond, float64(sent)/span.Seconds()
		load := fmt.Sprintf("%d tasks, %.0f events/s appended", tasks, achieved)
		if achieved < 0.9*float64(asked) {
			load = fmt.Sprintf("%d tasks, %d events/s asked, only %.0f/s appended: the store could not take more", tasks, asked, achieved)
		}
		rows = append(rows, row{
			fmt.Sprintf("live delivery: append → SSE client, %d clients × %d events/s (%s)", clients, perSecond, load),
			fmt.Sprintf("from the commit: p50 %s, p99 %s; from before the append: p50 %s, p99 %s",
				percentile(afterCommit, 0.5).Round(10*time.Microsecond), percentile(afterCommit, 0.99).Round(10*time.Microsecond),
				percentile(lat, 0.5).Round(10*time.Microsecond), percentile(lat, 0.99).Round(10*time.Microsecond)),
			"p99 ≤ 11 ms at 1,000 events/s",
			fmt.Sprintf("%d deliveries of %d appended events; the second pair adds the append itself (Postgres commit with fsync, 1 event per append)", len(lat), sent),
		})
	}
	return rows, nil
}

// liveRun returns the delivery latencies from occurred_at (before the
// append) and from the append's commit, the number of events appended, and
// the time the appenders ran (the measured liveSeconds and the warm-up
// before them).
func (b *bench) liveRun(ctx context.Context, tasks, clientsPerTask, perSecond int) (lat, afterCommit []time.Duration, sent int, span time.Duration, err error) {
	warmUp, seconds := b.cfg.liveWarmUp, b.cfg.liveSeconds
	// When each output event committed, by stream and seq: the hook runs
	// right after the commit, before the announcement.
	var committedAt sync.Map // stream id → []atomic.Int64 (unix ns) by seq
	env, err := b.newProdEnv(ctx, fmt.Sprintf("live-%d", tasks), func(_ context.Context, events []domain.Event) {
		if v, ok := committedAt.Load(events[0].StreamID); ok {
			at := v.([]atomic.Int64)
			for _, e := range events {
				if e.Seq < int64(len(at)) {
					at[e.Seq].Store(time.Now().UnixNano())
				}
			}
		}
	})
	if err != nil {
		return nil, nil, 0, 0, err
	}
	defer env.close()
	store := env.store
	runCtx, stop := context.WithCancel(env.ctx) // ends the clients
	defer stop()
	api, err := env.serveAPI(ctx)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	start, tenantID := api.start, api.tenantID

	ids := make([]uuid.UUID, tasks)
	for i := range ids {
		res, err := start.Handle(ctx, commands.StartTask{TenantID: tenantID, Name: "live", Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":1}`), TimeoutS: 3600})
		if err != nil {
			return nil, nil, 0, 0, err
		}
		ids[i] = res.TaskID
		committedAt.Store(res.TaskID.String(), make([]atomic.Int64, perSecond*(seconds+5)))
	}
	client := bearerClient(api.key)
	measureFrom := time.Now().Add(2 * warmUp) // after every client is connected
	// Each client follows its task from the first event: by the end it
	// must have read every event of it, in order.
	clients := make([]liveClient, tasks*clientsPerTask)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make(chan error, len(clients))
	)
	for c := range clients {
		clients[c].task = c / clientsPerTask
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := ids[clients[c].task].String()
			at, _ := committedAt.Load(id)
			got, fromCommit, err := followLatencies(runCtx, client, api.base+"/mcp/tasks/"+id+"/stream", measureFrom, at.([]atomic.Int64), &clients[c].last)
			if err != nil {
				errs <- fmt.Errorf("client %d of task %s: %w", c, id, err)
			}
			mu.Lock()
			lat = append(lat, got...)
			afterCommit = append(afterCommit, fromCommit...)
			mu.Unlock()
		}()
	}
	time.Sleep(warmUp)

	// The appenders: one per task, perSecond events/s each, as a worker
	// appends output (one event per append at this rate).
	var appenders sync.WaitGroup
	appended := make([]int, tasks)
	appendErr := make(chan error, tasks)
	began, end := time.Now(), measureFrom.Add(time.Duration(seconds)*time.Second)
	for i, id := range ids {
		appenders.Add(1)
		go func() {
			defer appenders.Done()
			stream := eventstore.Stream{ID: id.String(), Type: domain.StreamTask, TenantID: tenantID}
			seq := int64(liveStartSeq)
			// Tasks that started at different moments: spread over a period.
			period := time.Second / time.Duration(perSecond)
			time.Sleep(period * time.Duration(i) / time.Duration(tasks))
			tick := time.NewTicker(period)
			defer tick.Stop()
			for now := range tick.C {
				if now.After(end) {
					return
				}
				ev := domain.NewEvent{EventID: uuid.New(), Type: domain.TaskOutputType, Payload: outputPayload(seq), OccurredAt: time.Now()}
				if _, err := store.Append(runCtx, stream, seq, []domain.NewEvent{ev}); err != nil {
					appendErr <- err
					return
				}
				seq++
				appended[i]++
			}
		}()
	}
	appenders.Wait()
	caughtUp := waitCaughtUp(clients, appended, liveCatchUp)
	stop()
	wg.Wait()
	close(errs)
	close(appendErr)
	if err := errors.Join(<-errs, <-appendErr); err != nil {
		return nil, nil, 0, 0, fmt.Errorf("live delivery: %w", err)
	}
	if !caughtUp {
		return nil, nil, 0, 0, fmt.Errorf("live delivery (%d tasks): %w", tasks, missedEvents(clients, ids, appended))
	}
	for _, n := range appended {
		sent += n
	}
	return lat, afterCommit, sent, end.Sub(began), nil
}

// liveStartSeq is the seq of a live task's last event before its output:
// task.created, task.queued.
const liveStartSeq = 2

// liveCatchUp bounds how long the clients of a live run may take, after
// the last append, to read their tasks' last events.
const liveCatchUp = 10 * time.Second

// liveClient is one client of a live run: the index of the task it
// follows, and the seq of the last event it read of it.
type liveClient struct {
	task int
	last atomic.Int64
}

// waitCaughtUp waits at most timeout for every client to have read its
// task's last event (liveStartSeq plus what appended counts for the task),
// and reports whether all did.
func waitCaughtUp(clients []liveClient, appended []int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		behind := false
		for c := range clients {
			behind = behind || clients[c].last.Load() < int64(liveStartSeq+appended[clients[c].task])
		}
		if !behind {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// missedEvents returns an error naming the clients that did not read every
// event of their task (ids, appended as waitCaughtUp counts), with the
// events each received and the events its task had: the first few, and
// how many in all.
func missedEvents(clients []liveClient, ids []uuid.UUID, appended []int) error {
	const shown = 5
	var lines []string
	short := 0
	for c := range clients {
		want, got := int64(liveStartSeq+appended[clients[c].task]), clients[c].last.Load()
		if got >= want {
			continue
		}
		if short++; short <= shown {
			lines = append(lines, fmt.Sprintf("client %d of task %s received %d of the task's %d events", c, ids[clients[c].task], got, want))
		}
	}
	return fmt.Errorf("%d of %d clients missed events %s after the last append: %s; a slow client's stream is closed when its queue overflows (readapi.HubConfig), so look for hub overflows or a machine too busy to keep up",
		short, len(clients), liveCatchUp, strings.Join(lines, "; "))
}

// followLatencies reads a task's stream from its first event until ctx
// ends, counting the events read in last, and returns, for each
// task.output frame read after from, how long after its occurred_at and
// after its commit (committedAt by seq, unix ns) it arrived. A stream that
// ends before ctx, or that skips an event, is an error.
func followLatencies(ctx context.Context, client *http.Client, url string, from time.Time, committedAt []atomic.Int64, last *atomic.Int64) (lat, afterCommit []time.Duration, err error) {
	stream, err := openTaskStream(ctx, client, url, last)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = stream.Close() }()
	key := []byte(`"occurred_at":"`)
	for {
		line, err := stream.line()
		if err != nil {
			if ctx.Err() != nil {
				return lat, afterCommit, nil // the run ended
			}
			return nil, nil, fmt.Errorf("the stream ended after event %d, before the run did: %w", last.Load(), err)
		}
		now := time.Now()
		if !bytes.HasPrefix(line, []byte("data: ")) || now.Before(from) {
			continue
		}
		i := bytes.Index(line, key)
		if i < 0 || !bytes.Contains(line, []byte(`"type":"task.output"`)) {
			continue
		}
		rest := line[i+len(key):]
		j := bytes.IndexByte(rest, '"')
		at, err := domain.ParseTime(string(rest[:j]))
		if err != nil {
			return nil, nil, err
		}
		lat = append(lat, now.Sub(at))
		if seq := last.Load(); seq < int64(len(committedAt)) {
			if c := committedAt[seq].Load(); c != 0 {
				afterCommit = append(afterCommit, now.Sub(time.Unix(0, c)))
			}
		}
	}
}

// benchIdentity registers a user on store and returns the identity side,
// the user's tenant and an API key there with every scope.
func benchIdentity(ctx context.Context, store testidentity.Store) (identity *testidentity.Identity, tenantID, key string, err error) {
	if identity, err = testidentity.New(store, nil, nil); err != nil {
		return nil, "", "", err
	}
	tok, key, err := testidentity.Tenant(ctx, identity, "bench-"+uuid.NewString(), "admin")
	return identity, tok.TenantID, key, err
}
