package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
)

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// runDev runs AxonTask in one process on an embedded SQLite file. Today it
// opens (and migrates) the event store and serves health endpoints; the task
// API joins it as the task path lands.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("AXONTASK_DATA_DIR", ".axontask"), "directory of the embedded store")
	host := fs.String("host", envOr("API_HOST", "127.0.0.1"), "address to listen on (API_HOST)")
	port := fs.String("port", envOr("API_PORT", "8080"), "port to listen on (API_PORT)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	logger := newLogger(stderr)
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("dev: create data dir: %w", err)
	}
	path := filepath.Join(*dataDir, "events.db")
	store, err := sqlite.Open(ctx, path, eventstore.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("dev: open %s: %w", path, err)
	}
	defer func() { _ = store.Close() }()

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", net.JoinHostPort(*host, *port))
	if err != nil {
		return fmt.Errorf("dev: listen: %w (set API_PORT or -port to another port)", err)
	}
	srv := &http.Server{Handler: healthHandler(store), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "AxonTask dev\n  event store: %s\n  listening:   http://%s\n  health:      http://%s/healthz  http://%s/readyz\n",
		path, ln.Addr(), ln.Addr(), ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("dev: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("dev: shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("dev: serve: %w", err)
	}
	fmt.Fprintln(stdout, "stopped")
	return nil
}

// healthHandler serves /healthz (the process is up) and /readyz (the event
// store answers).
func healthHandler(store eventstore.Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		head, err := store.FeedHead(ctx)
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status":"unavailable","reason":"event store does not answer"}`)
			return
		}
		_, _ = fmt.Fprintf(w, `{"status":"ready","feed_head":%d}`, head)
	})
	return mux
}
