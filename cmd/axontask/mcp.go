package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/mcpserver"
	"github.com/axontask/axontask/oauth"
	meters "github.com/axontask/axontask/usage"
)

// defaultAPIURL is the API that `axontask mcp` talks to without -url or
// AXONTASK_URL: `axontask dev`'s.
const defaultAPIURL = "http://127.0.0.1:8080"

// runMCP serves the MCP tools over stdio (newline-delimited JSON-RPC on
// stdin and stdout) for a desktop client that launches it, talking to the
// API at -url (AXONTASK_URL) with the key AXONTASK_API_KEY (or -key, which
// other users can read in the process list). It logs to stderr only, and
// exits when stdin closes.
func runMCP(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiURL := fs.String("url", envOr("AXONTASK_URL", defaultAPIURL), "URL of the AxonTask API (AXONTASK_URL)")
	key := fs.String("key", "", "API key; prefer the environment variable AXONTASK_API_KEY, which other users cannot see in the process list")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	apiKey := *key
	if apiKey == "" {
		apiKey = os.Getenv("AXONTASK_API_KEY")
	}
	apiKey = strings.TrimSpace(apiKey)
	logger := newLogger(stderr)
	if apiKey == "" {
		logger.Warn("no API key: set AXONTASK_API_KEY (axontask dev prints one); until then every tool answers that the key is missing")
	}
	c, err := client.New(*apiURL, client.WithToken(apiKey), client.WithUserAgent("axontask-mcp"))
	if err != nil {
		return usageError(fmt.Sprintf("-url / AXONTASK_URL or the API key: %v", err))
	}
	server, err := mcpserver.New(mcpserver.Config{ClientFunc: mcpserver.StaticClient(c), Logger: logger})
	if err != nil {
		return err
	}
	logger.Info("mcp: serving on stdio", "api", *apiURL)
	err = server.Run(ctx, mcpserver.Transport(&mcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}}))
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, mcp.ErrConnectionClosed):
		logger.Info("mcp: stdin closed; stopping")
		return nil
	case ctx.Err() != nil:
		return nil
	}
	return fmt.Errorf("mcp: %w", err)
}

// nopWriteCloser is stdout for the stdio transport, which closes its writer
// at the end: the process's stdout stays open.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// withMCP serves the MCP endpoint (Streamable HTTP, mcpserver.Path) beside
// api, and the OAuth server's endpoints (oauthServer) in front of both. Its
// tools call the API itself, at the loopback address of ln, with each
// caller's own bearer credential, which authn checks before any MCP
// processing: an API key, an access token or an OAuth client's token bound
// to /mcp, which the API then takes from the tools (whose requests carry
// the process's secret mark) only. behindProxy turns off the SDK's DNS-rebinding check,
// which refuses a loopback connection whose Host is not a loopback name (a
// reverse proxy's).
func withMCP(api http.Handler, authn mcpserver.Authenticator, oauthServer *oauth.Server, meter *meters.Meter, ln net.Listener, behindProxy bool, logger *slog.Logger) (http.Handler, error) {
	base, err := loopbackURL(ln.Addr())
	if err != nil {
		return nil, err
	}
	var mark [32]byte
	if _, err := rand.Read(mark[:]); err != nil {
		return nil, err
	}
	internal := hex.EncodeToString(mark[:])
	tools, err := mcpserver.BearerClient(base, client.WithHTTPClient(&http.Client{Transport: internalTransport{mark: internal}}))
	if err != nil {
		return nil, err
	}
	// The tools' own requests are not metered again: the tool call is.
	next := api
	api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get(internalHeader); got != "" {
			r.Header.Del(internalHeader)
			if subtle.ConstantTimeCompare([]byte(got), []byte(internal)) == 1 {
				// The token was checked at /mcp against its resource.
				r = r.WithContext(commands.ForResource(meters.Unmetered(r.Context()), ""))
			}
		}
		next.ServeHTTP(w, r)
	})
	server, err := mcpserver.New(mcpserver.Config{ClientFunc: tools, Logger: logger,
		CalledFunc: func(tenantID string) { meter.Tenant(tenantID).MCPCall() }})
	if err != nil {
		return nil, err
	}
	endpoint, err := mcpserver.NewHTTPHandler(server, mcpserver.HTTPConfig{
		Authenticator: authn, DisableLocalhostProtection: behindProxy, Logger: logger,
		ProtectedResourceFunc: func(r *http.Request) (string, string) {
			return oauthServer.Resource(r), oauthServer.ResourceMetadataURL(r)
		},
		Scope: oauth.DefaultScope,
	})
	if err != nil {
		return nil, err
	}
	return oauthServer.Handler(mcpserver.WithEndpoint(api, endpoint)), nil
}

// internalHeader carries, on the MCP tools' requests to this process's own
// API, a secret of the process's, so that the API does not meter them.
const internalHeader = "X-Axontask-Internal"

// internalTransport marks the requests it sends with the process's secret.
type internalTransport struct{ mark string }

func (t internalTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(internalHeader, t.mark)
	return http.DefaultTransport.RoundTrip(r)
}

// loopbackURL returns the URL at which this process reaches its own
// listener: an unspecified address (0.0.0.0, ::) becomes 127.0.0.1.
func loopbackURL(addr net.Addr) (string, error) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "", fmt.Errorf("the listener's address %s is not TCP", addr)
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port)), nil
}
