package readapi_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// A client whose connection drops at random points, many times, and that
// resumes each time with Last-Event-ID, sees exactly the task's events:
// none lost, none twice, a chain that verifies.
func TestResumeAfterRandomDrops(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		resp := b.do(t, "POST", "/mcp/start_task", tenantA, `{"name":"t","adapter":"mock","args":{"steps":40,"interval_ms":3,"output_lines_per_step":2},"timeout_s":60}`)
		st := decode[started](t, resp, http.StatusCreated)
		b.run(t, st.TaskID)

		rng := rand.New(rand.NewPCG(uint64(uuid.MustParse(st.TaskID).ID()), 1))
		var got []domain.Event
		drops := 0
		for attempt := 0; attempt < 1000; attempt++ {
			var last int64
			if len(got) > 0 {
				last = got[len(got)-1].Seq
			}
			ctx, cancel := context.WithCancel(t.Context())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url+st.StreamURL, nil)
			req.Header.Set("Authorization", "Bearer "+b.keys[tenantA])
			req.Header.Set("Last-Event-ID", strconv.FormatInt(last, 10))
			r, err := b.client.Do(req)
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			stream := openSSE(t, reply{r})
			budget := 1 + rng.IntN(8) // events to read before the connection "drops"
			ended := false
			for budget > 0 {
				f, ok := stream.next()
				if !ok {
					ended = true
					break
				}
				if f.comment {
					continue
				}
				got = append(got, stream.event(f))
				budget--
			}
			_ = r.Body.Close()
			cancel()
			if ended || (len(got) > 0 && got[len(got)-1].Type.Terminal()) {
				break
			}
			drops++
		}
		checkSeqs(t, got, 1)
		if err := integrity.Verify(got); err != nil {
			t.Fatalf("the resumed stream's chain: %v", err)
		}
		if drops < 10 {
			t.Fatalf("only %d drops; the test did not exercise resumption", drops)
		}
		// EventSource reconnects after every close: resuming after the
		// terminal event answers 204, which makes it stop.
		end := b.do(t, "GET", st.StreamURL, tenantA, "", "Last-Event-ID", strconv.FormatInt(got[len(got)-1].Seq, 10))
		if body, _ := io.ReadAll(end.Body); end.StatusCode != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("resuming after the end answered %d with %q, want 204 and nothing", end.StatusCode, body)
		}
	})
}
