package readapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
)

// TransparencyLog is what readapi needs of the transparency log
// (*translog.Log): its checkpoints, proofs, keys and receipts.
type TransparencyLog interface {
	// Latest returns the latest signed checkpoint.
	Latest(ctx context.Context) (eventstore.MerkleCheckpoint, error)
	// InclusionProof and ConsistencyProof fail with a
	// *domain.ValidationError naming the bad parameter.
	InclusionProof(ctx context.Context, index, size int64) (integrity.InclusionProof, error)
	ConsistencyProof(ctx context.Context, oldSize, newSize int64) (integrity.ConsistencyProof, error)
	// Keys returns the log's public keys.
	Keys() wire.LogKeys
	// SignsReceipts reports whether the log has a receipt key.
	SignsReceipts() bool
	// Receipt signs the receipt of the task whose terminal event is end.
	Receipt(ctx context.Context, end domain.Event) (integrity.Receipt, error)
}

// errNoLog answers the log's routes on a deployment without one.
var errNoLog = fmt.Errorf("%w: this deployment runs no transparency log (its operator has not set LOG_SIGNING_KEY)", errNoRoute)

// logOf returns the configured log, or errNoLog.
func (a *api) logOf() (TransparencyLog, error) {
	if a.cfg.Log == nil {
		return nil, errNoLog
	}
	return a.cfg.Log, nil
}

// anonymousKeys admits anyone to the public keys, within the client
// address's request limit.
func (a *api) anonymousKeys(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	return commands.Principal{}, a.limitAddress(w, r, "keys", a.cfg.RequestLimit)
}

// logKeys answers GET /v1/log/keys and its well-known path: public, for
// anyone within the address's limit.
func (a *api) logKeys(_ http.ResponseWriter, _ *http.Request, _ commands.Principal, _ noBody) (wire.LogKeys, error) {
	l, err := a.logOf()
	if err != nil {
		return wire.LogKeys{}, err
	}
	return l.Keys(), nil
}

// checkpoint answers GET /v1/log/checkpoint with the latest signed
// checkpoint note, as text: the C2SP tlog-checkpoint form that witnesses
// and note libraries read.
func (a *api) checkpoint(w http.ResponseWriter, r *http.Request) {
	note, err := a.latestNote(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.storeDown.Succeeded()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(note)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(note)
}

func (a *api) latestNote(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if _, err := a.caller(w, r, domain.ActionReadTasks); err != nil {
		return nil, err
	}
	l, err := a.logOf()
	if err != nil {
		return nil, err
	}
	cp, err := l.Latest(r.Context())
	return cp.Signed(), err
}

func (a *api) inclusionProof(_ http.ResponseWriter, r *http.Request, _ commands.Principal, _ noBody) (integrity.InclusionProof, error) {
	l, err := a.logOf()
	if err != nil {
		return integrity.InclusionProof{}, err
	}
	q := r.URL.Query()
	index, err := requiredParam(q, "index")
	if err != nil {
		return integrity.InclusionProof{}, err
	}
	size, err := requiredParam(q, "size")
	if err != nil {
		return integrity.InclusionProof{}, err
	}
	return l.InclusionProof(r.Context(), index, size)
}

func (a *api) consistencyProof(_ http.ResponseWriter, r *http.Request, _ commands.Principal, _ noBody) (integrity.ConsistencyProof, error) {
	l, err := a.logOf()
	if err != nil {
		return integrity.ConsistencyProof{}, err
	}
	q := r.URL.Query()
	oldSize, err := requiredParam(q, "old")
	if err != nil {
		return integrity.ConsistencyProof{}, err
	}
	newSize, err := requiredParam(q, "new")
	if err != nil {
		return integrity.ConsistencyProof{}, err
	}
	return l.ConsistencyProof(r.Context(), oldSize, newSize)
}

// receipt answers GET /mcp/tasks/{id}/receipt: to the tenant that owns the
// task (another tenant's task is not found), on a plan with receipts, once
// the task has ended.
func (a *api) receipt(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (integrity.Receipt, error) {
	taskID, err := taskIDParam(r)
	if err != nil {
		return integrity.Receipt{}, err
	}
	l, err := a.logOf()
	if err != nil {
		return integrity.Receipt{}, err
	}
	if !l.SignsReceipts() {
		return integrity.Receipt{}, fmt.Errorf("%w: this deployment issues no receipts (its operator has not set RECEIPT_SIGNING_KEY_ED25519)", errNoRoute)
	}
	ctx := r.Context()
	var task domain.Task
	if err := commands.CatchUpTask(ctx, a.cfg.Store, taskID, p.TenantID, &task); err != nil {
		return integrity.Receipt{}, err
	}
	if a.cfg.ReceiptsFunc != nil {
		allowed, err := a.cfg.ReceiptsFunc(ctx, p.TenantID)
		if err != nil {
			return integrity.Receipt{}, err
		}
		if !allowed {
			return integrity.Receipt{}, fmt.Errorf("%w: your plan does not include signed receipts (pro and ent do); checkpoints and proofs (/v1/log) are open to every plan", commands.ErrForbidden)
		}
	}
	if !task.State().Terminal() {
		return integrity.Receipt{}, &domain.ValidationError{Field: "id", Reason: fmt.Sprintf("the task is %s: a receipt is issued once it has ended", task.State())}
	}
	end, err := a.cfg.Store.ReadStream(ctx, taskID.String(), task.Seq()-1, 1)
	if err != nil {
		return integrity.Receipt{}, err
	}
	if len(end) != 1 {
		return integrity.Receipt{}, fmt.Errorf("task %s: %w", taskID, commands.ErrTaskNotFound)
	}
	ctx, cancel := context.WithTimeout(ctx, receiptWait)
	defer cancel()
	return l.Receipt(ctx, end[0])
}

// receiptWait bounds how long a receipt waits for the feed and the tree to
// take in a task's terminal event (normally milliseconds).
const receiptWait = 10 * time.Second

// requiredParam parses a required non-negative integer query parameter.
func requiredParam(q url.Values, name string) (int64, error) {
	if !q.Has(name) || q.Get(name) == "" {
		return 0, &domain.ValidationError{Field: name, Reason: "is required: a non-negative integer"}
	}
	return nonNegativeParam(name, q.Get(name))
}
