package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/wiring"
	"github.com/axontask/axontask/secrets"
)

// secretCommands are the subcommands of "axontask secret" (or "secrets"),
// in the order its usage lists them: the first three call the API,
// rotate-key works on the store, for operators.
var secretCommands = []clientCommand{
	{"set", "NAME [-file F] [flags]", "create a tenant secret or replace its value, read from stdin or -file (never from the command line)", runSecretSet},
	{"list", "[flags]", "list your tenant's secrets: names and times, never values", runSecretList},
	{"delete", "NAME [flags]", "delete a tenant secret", runSecretDelete},
	{"rotate-key", "[-database-url URL | -sqlite FILE]", "operators: re-seal every tenant's secrets under SECRETS_KEY, opening old seals with SECRETS_KEY_PREVIOUS (no -url: it works on the store)",
		func(ctx context.Context, cl *commandLine) error {
			return runSecretRotateKey(ctx, cl.args, cl.con.stdout, cl.con.stderr)
		}},
}

func runSecretSet(ctx context.Context, cl *commandLine) error {
	file := cl.fs.String("file", "", "read the value from this file instead of stdin")
	pos, err := cl.parse(1, 1)
	if err != nil {
		return err
	}
	name := pos[0]
	if !domain.ValidSecretName(name) {
		return usageError(fmt.Sprintf("secret set: %q is no secret name: use letters, digits and _, not starting with a digit (FLY_TOKEN)", name))
	}
	value, err := readSecretValue(cl.con, *file)
	if err != nil {
		return err
	}
	s, err := connectCallAPI(ctx, cl, "secret set "+name, func(c *client.Client) (api.Secret, error) {
		return c.SetSecret(ctx, name, value)
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, s)
	}
	verb := "created"
	if s.Rotated {
		verb = "replaced the value of"
	}
	fmt.Fprintf(cl.con.stdout, "%s secret %s; refer to it in a task's args as {\"secret\": %q}\n", verb, s.Name, s.Name)
	return nil
}

// readSecretValue reads a secret's value: from file when given, else from
// the terminal without echo, else all of stdin. One line ending at the end
// is dropped (`echo token | axontask secret set T` sets "token").
func readSecretValue(con *console, file string) (string, error) {
	var b []byte
	var err error
	switch {
	case file != "":
		b, err = readLimited(file, nil)
	case con.readPassword != nil:
		fmt.Fprint(con.stderr, "Value (not echoed): ")
		b, err = con.readPassword()
		fmt.Fprintln(con.stderr)
	default:
		b, err = readLimited("stdin", con.stdin)
	}
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", usageError("secret set: the value is empty; pipe it in (axontask secret set NAME < file) or give -file")
	}
	return s, nil
}

// readLimited reads at most domain.MaxSecretValueLen bytes (and a line
// ending) from r, or from the file name when r is nil; more is an error.
func readLimited(name string, r io.Reader) ([]byte, error) {
	if r == nil {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageError("secret set: " + err.Error())
		}
		defer func() { _ = f.Close() }()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, domain.MaxSecretValueLen+3))
	if err != nil {
		return nil, fmt.Errorf("secret set: read %s: %w", name, err)
	}
	if len(b) > domain.MaxSecretValueLen+2 {
		return nil, usageError(fmt.Sprintf("secret set: the value in %s is longer than %d bytes, the limit", name, domain.MaxSecretValueLen))
	}
	return b, nil
}

func runSecretList(ctx context.Context, cl *commandLine) error {
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	list, err := connectCallAPI(ctx, cl, "secret list", func(c *client.Client) ([]api.Secret, error) {
		return c.ListSecrets(ctx)
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, api.SecretList{Secrets: list})
	}
	if len(list) == 0 {
		fmt.Fprintln(cl.con.stdout, "no secrets; create one with: axontask secret set NAME < file")
		return nil
	}
	s := style{cl.con.colour(cl.con.stdoutTerminal)}
	now := cl.con.now()
	tab := table{header: []string{"NAME", "CREATED", "UPDATED", "LAST USED"}}
	for _, sec := range list {
		lastUsed := "never"
		if !sec.LastUsedAt.IsZero() {
			lastUsed = ago(sec.LastUsedAt.Time, now)
		}
		tab.rows = append(tab.rows, []cell{{text: sec.Name}, {text: ago(sec.CreatedAt.Time, now)}, {text: ago(sec.UpdatedAt.Time, now)}, {text: lastUsed}})
	}
	tab.write(cl.con.stdout, s)
	return nil
}

func runSecretDelete(ctx context.Context, cl *commandLine) error {
	pos, err := cl.parse(1, 1)
	if err != nil {
		return err
	}
	_, err = connectCallAPI(ctx, cl, "secret delete "+pos[0], func(c *client.Client) (struct{}, error) {
		return struct{}{}, c.DeleteSecret(ctx, pos[0])
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, struct {
			Name    string `json:"name"`
			Deleted bool   `json:"deleted"`
		}{pos[0], true})
	}
	fmt.Fprintf(cl.con.stdout, "deleted secret %s\n", pos[0])
	return nil
}

// runSecretRotateKey re-seals every tenant secret's data key under
// SECRETS_KEY, opening those sealed by an earlier key with
// SECRETS_KEY_PREVIOUS.
func runSecretRotateKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("secret rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	keys, err := wiring.Keyring(os.Getenv)
	if err != nil {
		return usageError("secret rotate-key: " + err.Error())
	}
	if keys == nil {
		return usageError("secret rotate-key: set SECRETS_KEY to the new key and SECRETS_KEY_PREVIOUS to the old one(s)")
	}
	s, err := sf.open(ctx, newLogger(stderr))
	if err != nil {
		return fmt.Errorf("secret rotate-key: %w", err)
	}
	defer func() { _ = s.Close() }()
	n, err := secrets.NewVault(s, keys, nil).RotateKey(ctx)
	if errors.Is(err, secrets.ErrUnknownKey) {
		return &exitError{exitFailed, fmt.Errorf("secret rotate-key: re-sealed %d secrets, then: %w", n, err)}
	}
	if err != nil {
		return fmt.Errorf("secret rotate-key: re-sealed %d secrets, then: %w", n, err)
	}
	fmt.Fprintf(stdout, "re-sealed %d secrets under key %s; every secret is now sealed by it, and SECRETS_KEY_PREVIOUS can go\n", n, keys.CurrentID())
	return nil
}
