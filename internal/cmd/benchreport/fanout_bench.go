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
	"time"

	"github.com/axontask/axontask/api"
)

// fanOut measures what an idle SSE stream costs an API process: it starts
// `axontask dev` as a process of its own, opens 10,000 streams on 100
// running tasks that stay silent, and reads the process's resident memory
// before and after.
func (b *bench) fanOut(ctx context.Context) ([]row, error) {
	const streams, tasks = 10_000, 100
	dir, err := os.MkdirTemp("", "axontask-fanout-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "axontask")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/axontask").CombinedOutput(); err != nil {
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
	before, err := rss(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}

	client := bearerClient(key)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var opened, closed sync.WaitGroup
	errs := make(chan error, streams)
	for i := range streams {
		opened.Add(1)
		closed.Add(1)
		go func() {
			defer closed.Done()
			once := sync.OnceFunc(opened.Done)
			defer once()
			if err := holdStream(runCtx, client, base+"/mcp/tasks/"+ids[i%tasks]+"/stream", once); err != nil && runCtx.Err() == nil {
				errs <- err
			}
		}()
		if i%500 == 499 {
			time.Sleep(50 * time.Millisecond) // do not overrun the listen backlog
		}
	}
	opened.Wait()
	select {
	case err := <-errs:
		return nil, fmt.Errorf("fan-out: %w", err)
	default:
	}
	time.Sleep(2 * time.Second)
	opening, err := rss(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	// The runtime returns what the burst of opening used (handler stacks,
	// garbage) once a collection has run: Go forces one every two minutes
	// in an idle process. Idle here means pings every 15 s only.
	time.Sleep(fanOutSettle)
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
	perStream := func(after int64) float64 { return float64(after-before) / streams / 1024 }
	return []row{{
		fmt.Sprintf("fan-out: %d idle SSE streams on one `axontask dev` process (%d tasks)", streams, tasks),
		fmt.Sprintf("%.1f KiB per stream after %s idle; %.1f KiB 2 s after opening", perStream(settled), fanOutSettle, perStream(opening)),
		"≤ 16 KiB per idle stream",
		fmt.Sprintf("resident memory %d MiB before, %d MiB 2 s after the streams opened, %d MiB %s later; every stream still open", before>>20, opening>>20, settled>>20, fanOutSettle),
	}}, nil
}

// fanOutSettle is how long the fan-out waits with its streams idle before
// it measures again: past the runtime's forced collection (every 2 min).
const fanOutSettle = 150 * time.Second

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

// holdStream opens a stream, calls opened once its first event arrived,
// and reads until ctx ends; a stream that ends before is an error.
func holdStream(ctx context.Context, client *http.Client, url string, opened func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("stream: status %d", resp.StatusCode)
	}
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("stream ended while idle: %w", err)
		}
		if strings.HasPrefix(line, "id: ") {
			opened()
		}
	}
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
