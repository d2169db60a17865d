package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axontask/axontask/api"
)

// fanOut measures what an idle SSE stream costs an API process: it starts
// `axontask dev` as a process of its own, opens fanOutStreams streams
// (10,000 in a full run) on fanOutTasks running tasks (100) that stay
// silent, and reads the process's resident memory before, 2 s after the
// streams opened, and fanOutSettle later.
func (b *bench) fanOut(ctx context.Context) ([]row, error) {
	streams, tasks, settle := b.cfg.fanOutStreams, b.cfg.fanOutTasks, b.cfg.fanOutSettle
	dir, err := os.MkdirTemp("", "axontask-fanout-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "axontask")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/axontask/axontask/cmd/axontask").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build axontask: %w: %s", err, out)
	}
	cmd := exec.CommandContext(ctx, bin, "dev", "-port", "0", "-data-dir", filepath.Join(dir, "data"))
	// One API key opens every stream: lift its rate limit out of the way.
	cmd.Env = append(os.Environ(), "RATE_LIMIT_PER_MINUTE=1000000")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base, key, err := devBanner(stdout)
	if err != nil {
		return nil, err
	}

	ids := make([]string, tasks)
	for i := range ids {
		// Queued or running for the whole measurement (5 min), silent for a minute at a time.
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp/start_task", strings.NewReader(`{"name":"idle","adapter":"mock","args":{"steps":5,"interval_ms":60000},"timeout_s":900}`))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		var st api.StartedTask
		err = json.NewDecoder(resp.Body).Decode(&st)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		ids[i] = st.TaskID.String()
	}
	time.Sleep(time.Second) // the tasks start
	client := bearerClient(key)
	// A stream is open once it has read its task's stored events: up to the
	// task's last seq read here, before any stream opens. The tasks are
	// silent meanwhile (a step a minute), so that is the seq each stream
	// starts at.
	stored := make([]int64, tasks)
	for i, id := range ids {
		if stored[i], err = taskLastSeq(ctx, client, base, id); err != nil {
			return nil, err
		}
	}
	before, err := rss(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var opened atomic.Int64
	var closed sync.WaitGroup
	errs := make(chan error, streams)
	for i := range streams {
		closed.Add(1)
		go func() {
			defer closed.Done()
			id := ids[i%tasks]
			if err := holdStream(runCtx, client, base+"/mcp/tasks/"+id+"/stream", stored[i%tasks], func() { opened.Add(1) }); err != nil {
				errs <- fmt.Errorf("stream %d of task %s: %w", i, id, err)
			}
		}()
		if i%500 == 499 {
			time.Sleep(50 * time.Millisecond) // do not overrun the listen backlog
		}
	}
	for deadline := time.Now().Add(fanOutOpen); opened.Load() < int64(streams); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-errs:
			return nil, fmt.Errorf("fan-out: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("fan-out: only %d of %d streams had read their task's stored events %s after the last one was opened; the dev process may be too slow or out of file descriptors (ulimit -n)", opened.Load(), streams, fanOutOpen)
		}
	}
	time.Sleep(2 * time.Second)
	opening, err := rss(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	// The runtime returns what the burst of opening used (handler stacks,
	// garbage) once a collection has run: Go forces one every two minutes
	// in an idle process. Idle here means pings every 15 s only.
	time.Sleep(settle)
	settled, err := rss(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	select {
	case err := <-errs:
		return nil, fmt.Errorf("fan-out: a stream ended while idle: %w", err)
	default:
	}
	stop()
	closed.Wait()
	perStream := func(after int64) float64 { return float64(after-before) / float64(streams) / 1024 }
	return []row{{
		fmt.Sprintf("fan-out: %d idle SSE streams on one `axontask dev` process (%d tasks)", streams, tasks),
		fmt.Sprintf("%.1f KiB per stream after %s idle; %.1f KiB 2 s after opening", perStream(settled), settle, perStream(opening)),
		"≤ 16 KiB per idle stream",
		fmt.Sprintf("resident memory %d MiB before, %d MiB 2 s after the streams opened, %d MiB %s later; every stream still open", before>>20, opening>>20, settled>>20, settle),
	}}, nil
}

// fanOutOpen bounds how long the streams may take to open and read their
// tasks' stored events.
const fanOutOpen = 60 * time.Second

// devBanner reads the dev process's banner up to its URL and API key.
func devBanner(stdout io.Reader) (base, key string, err error) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "listening:"); ok {
			base = strings.TrimSpace(rest)
		}
		if rest, ok := strings.CutPrefix(line, "API key:"); ok && base != "" {
			go func() {
				for sc.Scan() { // keep the pipe drained
				}
			}()
			return base, strings.TrimSpace(rest), nil
		}
	}
	return "", "", fmt.Errorf("axontask dev printed no URL and API key: %w", sc.Err())
}

// bearerClient is a client for many concurrent streams that authenticates
// every request with key.
func bearerClient(key string) *http.Client {
	return &http.Client{Transport: bearerTransport{key: key,
		next: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}}
}

// bearerTransport sets the Authorization header of every request.
type bearerTransport struct {
	key  string
	next http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

// holdStream opens a task's stream, calls opened once it has read the
// task's events up to seq stored, and reads until ctx ends; a stream that
// ends before, or skips an event, is an error.
func holdStream(ctx context.Context, client *http.Client, url string, stored int64, opened func()) error {
	var last atomic.Int64
	stream, err := openTaskStream(ctx, client, url, &last)
	if err != nil {
		return err
	}
	defer func() { _ = stream.Close() }()
	for ready := false; ; {
		if _, err := stream.line(); err != nil {
			if ctx.Err() != nil && ready {
				return nil
			}
			return fmt.Errorf("the stream ended after event %d of the %d stored: %w", last.Load(), stored, err)
		}
		if !ready && last.Load() >= stored {
			ready = true
			opened()
		}
	}
}

// taskLastSeq returns the seq of the last event of task id, from its
// status at base.
func taskLastSeq(ctx context.Context, client *http.Client, base, id string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/mcp/tasks/"+id+"/status", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status of task %s: status %d", id, resp.StatusCode)
	}
	var t api.Task
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return 0, fmt.Errorf("status of task %s: %w", id, err)
	}
	return t.LastSeq, nil
}

// rss returns a process's resident memory in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
