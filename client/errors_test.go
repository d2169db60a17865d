package client_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/client"
)

// Answers of servers that are not AxonTask, or broken ones: errors without
// a problem document, oversized bodies, streams that are not SSE.
func TestAnswersThatAreNotTheAPIs(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 9<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("since_seq") + r.URL.Path {
		case "/healthz":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>\n  <body>Bad   gateway</body>\n</html>"+strings.Repeat(" more", 100<<10))
		case "/readyz":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"ready","feed_head":`+huge+`}`)
		case "/v1/api-keys":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"api_keys": [`)
		default:
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "hello")
		}
	}))
	defer srv.Close()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Health(t.Context())
	apiErr := apiError(t, err, http.StatusBadGateway)
	if apiErr.Title != "Bad Gateway" || !strings.HasPrefix(apiErr.Detail, "<html> <body>Bad gateway</body> </html> more more") ||
		len(apiErr.Detail) > 400 || errors.Is(err, client.ErrNotFound) {
		t.Fatalf("a proxy's error page: %+v", apiErr)
	}
	if _, err := c.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an answer past 8 MiB: %v", err)
	}
	if _, err := c.ListAPIKeys(t.Context()); err == nil {
		t.Fatal("a truncated answer decoded")
	}
	s := c.Stream(t.Context(), uuid.New(), client.StreamOptions{})
	defer func() { _ = s.Close() }()
	if _, err := s.Next(); !errors.Is(err, client.ErrProtocol) {
		t.Fatalf("a stream that is not SSE: %v", err)
	}
}
