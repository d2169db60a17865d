package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// console is what the client commands take from their process: the
// standard streams, the environment, the user's config directory, the
// clock and whether the streams are terminals. Tests build one with fakes.
type console struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// configDir returns the user's configuration directory (where
	// axontask/credentials.json lives).
	configDir func() (string, error)
	now       func() time.Time
	// stdoutTerminal and stderrTerminal say whether the streams are
	// terminals: colour and the status line need them.
	stdoutTerminal, stderrTerminal bool
	// readPassword reads a password from the terminal without echo; nil
	// when stdin is not a terminal (then it is read as a line).
	readPassword func() ([]byte, error)
	// lines reads stdin line by line; made on first use.
	lines *bufio.Reader
}

// newConsole returns the console of this process's streams.
func newConsole(stdin io.Reader, stdout, stderr io.Writer) *console {
	c := &console{
		stdin: stdin, stdout: stdout, stderr: stderr,
		getenv: os.Getenv, configDir: os.UserConfigDir, now: time.Now,
		stdoutTerminal: isTerminal(stdout), stderrTerminal: isTerminal(stderr),
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		c.readPassword = func() ([]byte, error) { return term.ReadPassword(int(f.Fd())) }
	}
	return c
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colour reports whether output to a stream that is (or is not) a
// terminal may be coloured: only on a terminal, never with NO_COLOR set
// (https://no-color.org) or TERM=dumb.
func (c *console) colour(terminal bool) bool {
	return terminal && c.getenv("NO_COLOR") == "" && c.getenv("TERM") != "dumb"
}

// readLine reads one line of stdin without its line ending. At the end of
// stdin, a last line without a newline is returned; no line at all is
// io.EOF.
func (c *console) readLine() (string, error) {
	if c.lines == nil {
		c.lines = bufio.NewReader(c.stdin)
	}
	line, err := c.lines.ReadString('\n')
	if errors.Is(err, io.EOF) && line != "" {
		err = nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// prompt asks for a line on stderr and reads it from stdin.
func (c *console) prompt(question string) (string, error) {
	fmt.Fprint(c.stderr, question)
	return c.readLine()
}

// password reads a password: from the terminal without echo, after a
// prompt on stderr, or else as one line of stdin (for scripts:
// `axontask login -email E < file`).
func (c *console) password() (string, error) {
	if c.readPassword == nil {
		return c.readLine()
	}
	fmt.Fprint(c.stderr, "Password: ")
	b, err := c.readPassword()
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
