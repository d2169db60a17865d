package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// defaultKeyScopes are the scopes of a key created without -scope: what an
// agent needs to run tasks.
var defaultKeyScopes = []domain.Scope{domain.ScopeTasksRead, domain.ScopeTasksWrite}

func joinScopes(scopes []domain.Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ",")
}

func runKeysCreate(ctx context.Context, cl *commandLine) error {
	name := cl.fs.String("name", "", "the key's name, to recognize it (required)")
	var scopes []domain.Scope
	cl.fs.Func("scope", "a scope of the key: tasks:read, tasks:write or admin (repeatable, or comma-separated; default tasks:read,tasks:write)", func(v string) error {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				scopes = append(scopes, domain.Scope(s))
			}
		}
		return nil
	})
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usageError("keys create: give the key a name with -name, like -name 'ci agent'")
	}
	if len(scopes) == 0 {
		scopes = defaultKeyScopes
	}
	key, err := connectCallAPI(ctx, cl, "keys create", func(c *client.Client) (api.Key, error) {
		return c.CreateAPIKey(ctx, *name, scopes)
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, key)
	}
	// The key alone on stdout, so that KEY=$(axontask keys create …) works;
	// what it is on stderr.
	fmt.Fprintln(cl.con.stdout, key.Key)
	fmt.Fprintf(cl.con.stderr, "axontask: created API key %s %q (prefix %s, scopes %s); it is shown this once: store it as a secret\n",
		key.ID, key.Name, key.Prefix, joinScopes(key.Scopes))
	return nil
}

func runKeysList(ctx context.Context, cl *commandLine) error {
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	keys, err := connectCallAPI(ctx, cl, "keys list", func(c *client.Client) ([]api.Key, error) {
		return c.ListAPIKeys(ctx)
	})
	if err != nil {
		return err
	}
	// Newest first, as task list.
	slices.SortStableFunc(keys, func(a, b api.Key) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt.Time), strings.Compare(a.ID, b.ID))
	})
	if cl.cf.json {
		return writeJSON(cl.con.stdout, api.KeyList{APIKeys: keys})
	}
	if len(keys) == 0 {
		fmt.Fprintln(cl.con.stdout, "no API keys; create one with: axontask keys create -name NAME")
		return nil
	}
	s := style{cl.con.colour(cl.con.stdoutTerminal)}
	now := cl.con.now()
	tab := table{header: []string{"ID", "NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED"}}
	for _, k := range keys {
		lastUsed := "never"
		if !k.LastUsedAt.IsZero() {
			lastUsed = ago(k.LastUsedAt.Time, now)
		}
		tab.rows = append(tab.rows, []cell{
			{text: k.ID}, {text: truncate(k.Name, 40)}, {text: k.Prefix}, {text: joinScopes(k.Scopes)},
			{text: ago(k.CreatedAt.Time, now)}, {text: lastUsed},
		})
	}
	tab.write(cl.con.stdout, s)
	return nil
}

func runKeysRevoke(ctx context.Context, cl *commandLine) error {
	pos, err := cl.parse(1, 1)
	if err != nil {
		return err
	}
	_, err = connectCallAPI(ctx, cl, "keys revoke "+pos[0], func(c *client.Client) (struct{}, error) {
		return struct{}{}, c.RevokeAPIKey(ctx, pos[0])
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, struct {
			ID      string `json:"id"`
			Revoked bool   `json:"revoked"`
		}{pos[0], true})
	}
	fmt.Fprintf(cl.con.stdout, "revoked API key %s\n", pos[0])
	return nil
}
