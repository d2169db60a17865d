package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/client"
)

// Name is the server's name in its implementation info.
const Name = "axontask"

// Defaults and bounds of Config.
const (
	// DefaultProgressInterval is how often a long call sends a progress
	// notification.
	DefaultProgressInterval = 10 * time.Second
	// MaxProgressInterval bounds Config.ProgressInterval: the design promises
	// a notification at least every 15 s.
	MaxProgressInterval = 15 * time.Second
)

// ClientFunc returns the API client of one tool call or resource read.
// extra is the request's transport information: nil over stdio; over
// Streamable HTTP it holds the HTTP request's header, Authorization
// included. Its error is shown to the caller as a tool error.
type ClientFunc func(ctx context.Context, extra *mcp.RequestExtra) (*client.Client, error)

// StaticClient returns a ClientFunc that serves every call with c: the
// stdio server's one client, with the URL and key it was started with.
func StaticClient(c *client.Client) ClientFunc {
	return func(context.Context, *mcp.RequestExtra) (*client.Client, error) { return c, nil }
}

// errNoBearer is BearerClient's error for a request without a credential.
var errNoBearer = errors.New("this request carries no bearer credential: send the header Authorization: Bearer <API key or access token>")

// BearerClient returns a ClientFunc that serves each call with a client of
// the API at baseURL carrying the call's own bearer credential (the
// Authorization header of the HTTP request that brought it), so that the
// API authorizes every call as its caller. opts are added to every client
// (share one client.WithHTTPClient, so that connections are reused). It
// fails when baseURL is unusable.
func BearerClient(baseURL string, opts ...client.Option) (ClientFunc, error) {
	if _, err := client.New(baseURL, opts...); err != nil {
		return nil, err
	}
	// Clipped: every call appends its own token, and must not write into
	// spare capacity that concurrent calls share.
	opts = slices.Clip(append([]client.Option{client.WithUserAgent("axontask-mcp")}, opts...))
	return func(_ context.Context, extra *mcp.RequestExtra) (*client.Client, error) {
		if extra == nil {
			return nil, errNoBearer
		}
		token, ok := bearer(extra.Header)
		if !ok {
			return nil, errNoBearer
		}
		c, err := client.New(baseURL, append(opts, client.WithToken(token))...)
		if err != nil {
			// client.New's errors never repeat the token.
			return nil, fmt.Errorf("the bearer credential is unusable: %w", err)
		}
		return c, nil
	}, nil
}

// bearer returns the credential of an "Authorization: Bearer <token>"
// header.
func bearer(h http.Header) (string, bool) {
	scheme, token, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Config configures the server New returns.
type Config struct {
	// ClientFunc returns the API client of each call; required (StaticClient
	// for stdio, BearerClient for Streamable HTTP).
	ClientFunc ClientFunc
	// ProgressInterval is how often read_task_events, while it waits, and
	// verify_task send a progress notification to a client that gave a
	// progress token (default DefaultProgressInterval; at most
	// MaxProgressInterval).
	ProgressInterval time.Duration
	// Logger receives what the server cannot tell its caller: failures of
	// the API (5xx, unreachable) and of the SDK. It never gets credentials
	// or arguments (default slog.Default()).
	Logger *slog.Logger
	// Version is the server's version in its implementation info (default:
	// the main module's version from the build info).
	Version string
	// TaskPollInterval is the pollInterval an MCP task suggests to its
	// client (default DefaultTaskPollInterval).
	TaskPollInterval time.Duration
	// CalledFunc, when not nil, is told of every tool call that carries a
	// credential checked by NewHTTPHandler, with its tenant: the usage
	// meter's MCP calls. It must not block.
	CalledFunc func(tenantID string)
}

func (c Config) withDefaults() Config {
	if c.ProgressInterval == 0 {
		c.ProgressInterval = DefaultProgressInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.TaskPollInterval == 0 {
		c.TaskPollInterval = DefaultTaskPollInterval
	}
	if c.Version == "" {
		c.Version = "(devel)"
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
			c.Version = info.Main.Version
		}
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.ClientFunc == nil:
		return errors.New("mcpserver config: ClientFunc is nil; use StaticClient or BearerClient")
	case c.ProgressInterval < 0 || c.ProgressInterval > MaxProgressInterval:
		return fmt.Errorf("mcpserver config: ProgressInterval is %s; it must be positive and at most %s", c.ProgressInterval, MaxProgressInterval)
	case c.TaskPollInterval < time.Millisecond:
		return fmt.Errorf("mcpserver config: TaskPollInterval is %s; it must be at least 1ms", c.TaskPollInterval)
	}
	return nil
}

// instructions tell the model how the tools fit together.
const instructions = `AxonTask runs long work (builds, test suites, scripts) as persistent background tasks whose every event is kept in a tamper-evident, hash-chained log.
Start one with start_task; it answers at once with a task_id. Follow it with read_task_events: pass since_seq 0 first, then the next_seq of each answer, until ended is true (the last event is task.succeeded, task.failed, task.canceled or task.timed_out). read_task_events waits up to wait_s seconds for new events, so calling it again right away is fine.
get_task_status tells a task's state; cancel_task stops one; list_tasks lists your tasks, newest first; verify_task checks a task's hash chain; get_task_receipt returns an ended task's signed receipt, which anyone can verify offline; get_usage tells what your tenant has used this month.
Task ids and seqs are the AxonTask API's own: they work unchanged with its HTTP API and with the resource axontask://tasks/{task_id}/events.`

// New returns the AxonTask MCP server: the eight tools, the events
// resource template and MCP tasks (start_task callable as a task; see
// tasks.go), served to any number of sessions on any transport; over stdio,
// wrap the transport in Transport. It
// fails when cfg, with its defaults, cannot work. The server is safe for
// concurrent use.
func New(cfg Config) (*mcp.Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// The tasks extension (2026-07-28) is declared as the SDK declares
	// extensions; the tasks capability of 2025-11-25 by wireMiddleware.
	// The server sends no log messages: no logging capability.
	caps := &mcp.ServerCapabilities{}
	caps.AddExtension(ExtensionTasks, nil)
	s := mcp.NewServer(&mcp.Implementation{Name: Name, Title: "AxonTask", Version: cfg.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Capabilities: caps,
		// The SDK logs every session at info; over stateless HTTP that is
		// every request. Keep its warnings and errors.
		Logger: slog.New(minLevel{cfg.Logger.Handler(), slog.LevelWarn}),
		// Tasks, statuses and events change all the time and belong to one
		// tenant: no client may cache them.
		SetCacheable: func(_ context.Context, _ mcp.Request, c *mcp.Cacheable) {
			c.TTLMs, c.CacheScope = 0, "private"
		},
	})
	t := &tools{cfg: cfg}
	for _, add := range []func(*mcp.Server) error{
		t.addStartTask, t.addGetTaskStatus, t.addReadTaskEvents,
		t.addCancelTask, t.addListTasks, t.addVerifyTask, t.addGetTaskReceipt, t.addGetUsage,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	t.addEventsResource(s)
	if err := addTaskMethods(s, t); err != nil {
		return nil, err
	}
	return s, nil
}

// tools holds what the tool handlers share. It is safe for concurrent use.
type tools struct {
	cfg Config
}

// minLevel is a slog.Handler that drops records below its level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
