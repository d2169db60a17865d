// Package testpg gives tests a real Postgres: the server named by
// AXONTASK_TEST_DATABASE_URL, or else a throwaway server started from the
// Postgres binaries on this machine (initdb + postgres in a temporary
// directory, stopped when the test binary exits). Each test gets its own
// database, dropped when the test ends.
package testpg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/internal/testproc"
)

// EnvURL names the variable that points tests at an existing Postgres server.
// The URL's user must be allowed to create databases.
const EnvURL = "AXONTASK_TEST_DATABASE_URL"

// Mode chooses how a throwaway server trades durability for speed.
type Mode int

const (
	// Fast turns fsync and synchronous commit off: for functional tests.
	Fast Mode = iota
	// Durable keeps Postgres's defaults (fsync on): for benchmarks whose
	// figures must mean what they would in production.
	Durable
	// CrashSafe turns fsync off but writes each commit to the operating
	// system before acknowledging it (synchronous commit on): a commit
	// survives the server's crash or immediate shutdown, not the machine's.
	// For tests that restart the server (StartOwned); under Fast, an
	// immediate shutdown loses the commits of the last few hundred
	// milliseconds, which no production server configured for durability
	// would.
	CrashSafe
)

// servers are the throwaway servers of this process, one per Mode. They
// are shared by many tests and never restarted; a test that stops or
// restarts Postgres owns a server of its own (StartOwned).
var servers = testproc.Servers[Mode]{Start: func(mode Mode) (string, func(), error) {
	s, err := Start(mode)
	if err != nil {
		return "", nil, err
	}
	return s.adminURL, s.Close, nil
}}

// Server is a throwaway Postgres server owned by this process. Its data
// directory and port stay the same across Stop and Start. Its methods are
// safe for concurrent use.
type Server struct {
	adminURL string
	dir      string   // the data directory, the socket and the log live under it
	postgres []string // the postgres binary and its arguments
	cred     *syscall.Credential

	mu   sync.Mutex
	proc *testproc.Process // nil while stopped
}

// AdminURL returns the URL of the server's maintenance database.
func (s *Server) AdminURL() string { return s.adminURL }

// Main runs the tests of a package and stops any throwaway server afterwards.
// Call it from TestMain: func TestMain(m *testing.M) { testpg.Main(m) }.
func Main(m *testing.M) { servers.Main(m) }

// StopAll stops every throwaway server this process started.
func StopAll() { servers.StopAll() }

// AdminURL returns a URL for the server's maintenance database, starting a
// throwaway server for mode on first use when EnvURL is not set.
func AdminURL(tb testing.TB, mode Mode) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	u, err := servers.URL(mode)
	if err != nil {
		tb.Fatalf("start a throwaway Postgres: %v\n"+
			"Install Postgres (Debian: apt-get install -y postgresql) or set %s to a server where this user may CREATE DATABASE.", err, EnvURL)
	}
	return u
}

// NewDatabase creates an empty database for this test only and returns its
// URL. The database is dropped when the test ends.
func NewDatabase(tb testing.TB, mode Mode) string {
	tb.Helper()
	admin := AdminURL(tb, mode)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dbURL, drop, err := CreateDatabase(ctx, admin)
	if err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Logf("drop test database: %v", err)
		}
	})
	return dbURL
}

// CreateDatabase creates an empty, uniquely named database on the server
// at adminURL and returns its URL and a function that drops it.
func CreateDatabase(ctx context.Context, adminURL string) (string, func() error, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("parse admin url: %w", err)
	}
	name := "axt_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if err := adminExec(ctx, adminURL, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return adminExec(ctx, adminURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

func adminExec(ctx context.Context, adminURL, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(ctx, sql)
	return err
}

// BinDir finds the directory holding initdb and postgres: PATH first, then
// Debian's /usr/lib/postgresql/<version>/bin, newest version first.
func BinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no initdb/postgres binaries on PATH or under /usr/lib/postgresql/*/bin")
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// Start starts a throwaway server from the Postgres binaries on this machine
// (see BinDir). The caller must Close it; the server is also killed if this
// process dies.
func Start(mode Mode) (*Server, error) {
	s, err := initServer(mode)
	if err != nil {
		return nil, err
	}
	if err := s.Start(context.Background()); err != nil {
		_ = os.RemoveAll(s.dir)
		return nil, err
	}
	return s, nil
}

// StartOwned starts a throwaway server that only tb uses, so that tb may
// stop and restart it (the shared servers behind AdminURL must never be).
// It is closed when tb ends.
func StartOwned(tb testing.TB, mode Mode) *Server {
	tb.Helper()
	s, err := Start(mode)
	if err != nil {
		tb.Fatalf("start a throwaway Postgres: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// initServer creates a server's data directory and picks its port.
func initServer(mode Mode) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "axontask-pg-")
	if err != nil {
		return nil, err
	}
	cred, err := credential(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(context.Background(), filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	port, err := testproc.FreePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	postgres := []string{filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=400", "-c", "shared_buffers=128MB"}
	switch mode {
	case Fast:
		postgres = append(postgres, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	case CrashSafe:
		postgres = append(postgres, "-c", "fsync=off", "-c", "full_page_writes=off")
	case Durable:
	}
	return &Server{
		adminURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		dir:      dir,
		postgres: postgres,
		cred:     cred,
	}, nil
}

// Start starts postgres on the server's data directory and port, after a
// crash recovery if it was stopped immediately, and waits until it accepts
// connections (at most 30 s). It fails if the server runs.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("postgres already runs")
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }() // the child has its own copy
	pg := exec.CommandContext(context.Background(), s.postgres[0], s.postgres[1:]...)
	pg.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	pg.Stdout, pg.Stderr = logFile, logFile
	proc, err := testproc.StartProcess(pg)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	err = proc.WaitReady(ctx, 30*time.Second, 50*time.Millisecond, func(ctx context.Context) error {
		return adminExec(ctx, s.adminURL, "SELECT 1")
	})
	if err != nil {
		proc.Stop(syscall.SIGQUIT, 5*time.Second)
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("postgres did not accept connections: %w\n%s", err, log)
	}
	s.proc = proc
	return nil
}

// Stop shuts the server down immediately, as pg_ctl stop -m immediate
// does (SIGQUIT: sessions are cut, no checkpoint is written, and the next
// Start recovers from the WAL), and waits until it has exited. The files
// stay for the next Start. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.Stop(syscall.SIGQUIT, 20*time.Second)
		s.proc = nil
	}
}

// Restart stops the server immediately and starts it again on the same
// data and port (Stop, then Start).
func (s *Server) Restart(ctx context.Context) error {
	s.Stop()
	return s.Start(ctx)
}

// Close shuts the server down (a fast shutdown) and removes its files.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.Stop(syscall.SIGINT, 20*time.Second)
		s.proc = nil
	}
	_ = os.RemoveAll(s.dir)
}

// credential returns the identity Postgres runs as. Postgres refuses to run
// as root, so as root it runs as the "postgres" system user, which must own dir.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, Postgres needs the postgres system user (installed with the postgresql package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}
