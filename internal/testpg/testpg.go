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
)

// servers are the throwaway servers of this process, one per Mode.
var servers = testproc.Servers[Mode]{Start: func(mode Mode) (string, func(), error) {
	s, err := Start(mode)
	if err != nil {
		return "", nil, err
	}
	return s.adminURL, s.Stop, nil
}}

// Server is a throwaway Postgres server owned by this process.
type Server struct {
	adminURL string
	cmd      *exec.Cmd
	dir      string
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
// (see BinDir). The caller must Stop it; the server is also killed if this
// process dies.
func Start(mode Mode) (*Server, error) {
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
	args := []string{"-D", data, "-k", dir, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=400", "-c", "shared_buffers=128MB"}
	if mode == Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	pg := exec.CommandContext(context.Background(), filepath.Join(bin, "postgres"), args...)
	// Pdeathsig stops the server even if the test binary is killed.
	pg.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	logFile, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	pg.Stdout, pg.Stderr = logFile, logFile
	if err := pg.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &Server{
		adminURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		cmd:      pg,
		dir:      dir,
	}
	err = testproc.WaitReady(30*time.Second, 50*time.Millisecond, func(ctx context.Context) error {
		return adminExec(ctx, s.adminURL, "SELECT 1")
	})
	if err != nil {
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
		return nil, fmt.Errorf("postgres did not accept connections within 30s: %w\n%s", err, log)
	}
	return s, nil
}

// Stop shuts the server down and removes its files.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
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
