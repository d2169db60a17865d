package mcpserver

// The SDK adapter of MCP tasks: everything the official Go SDK (v1.8.0)
// does not do yet for the tasks utility (2025-11-25) and the
// io.modelcontextprotocol/tasks extension (2026-07-28), in one place, so
// that tasks.go moves onto the SDK's own support by replacing this file.
// What the SDK lacks, and what stands in for it here:
//
//   - tools/call's params have no "task" field: the SDK drops it when it
//     decodes them. liftTask moves it into _meta (metaTaskParam) before
//     the SDK reads the message: over HTTP in the handler (liftTaskBody),
//     over stdio in the connection (Transport).
//   - ServerCapabilities has no "tasks" and Tool no "execution": the
//     initialize and tools/list results are re-encoded with them
//     (wireMiddleware).
//   - custom methods (AddReceivingCustomMethod) get the session and the
//     params, not the request's transport extra (the caller's bearer) nor
//     its _meta (protocol version, per-request capabilities):
//     wireMiddleware hands the whole request to them through the context.
//   - a server cannot send a notification of its own
//     (notifications/tasks/status): the stdio connection (Transport) can,
//     and does. Over stateless Streamable HTTP there is no stream to send
//     one on outside a request anyway.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Names of the MCP tasks protocol.
const (
	// ExtensionTasks is the tasks extension of protocol 2026-07-28.
	ExtensionTasks = "io.modelcontextprotocol/tasks"
	// metaRelatedTask ties a message to its task (2025-11-25).
	metaRelatedTask = "io.modelcontextprotocol/related-task"
	// metaImmediateResponse is a CreateTaskResult's text for the model
	// while the task runs (2025-11-25).
	metaImmediateResponse = "io.modelcontextprotocol/model-immediate-response"
	// metaTaskParam is where liftTask moves tools/call's "task" param.
	metaTaskParam = "dev.axontask/task"
	// protocolExtension is the first revision with the tasks extension.
	protocolExtension = "2026-07-28"

	methodTasksGet    = "tasks/get"
	methodTasksResult = "tasks/result"
	methodTasksList   = "tasks/list"
	methodTasksCancel = "tasks/cancel"
	// notifyTaskStatus is the task status notification of 2025-11-25.
	notifyTaskStatus = "notifications/tasks/status"
	// codeMissingCapability answers a request that needs a capability the
	// client did not declare (2026-07-28).
	codeMissingCapability = -32021
)

// tasksCapability is the server's "tasks" capability (2025-11-25):
// tasks/list, tasks/cancel and task-augmented tools/call.
var tasksCapability = json.RawMessage(`{"list":{},"cancel":{},"requests":{"tools":{"call":{}}}}`)

// taskV1 is a task as 2025-11-25 shows it (Task).
type taskV1 struct {
	TaskID        string `json:"taskId"`
	Status        string `json:"status"`
	StatusMessage string `json:"statusMessage,omitempty"`
	CreatedAt     string `json:"createdAt"`
	LastUpdatedAt string `json:"lastUpdatedAt"`
	// TTL is null: a task is kept as long as its tenant's retention keeps it.
	TTL          *int64 `json:"ttl"`
	PollInterval int64  `json:"pollInterval,omitempty"`
}

// taskV2 is a task as the 2026-07-28 extension shows it (DetailedTask),
// its result inlined once it completed.
type taskV2 struct {
	TaskID         string              `json:"taskId"`
	Status         string              `json:"status"`
	StatusMessage  string              `json:"statusMessage,omitempty"`
	CreatedAt      string              `json:"createdAt"`
	LastUpdatedAt  string              `json:"lastUpdatedAt"`
	TTLMs          *int64              `json:"ttlMs"`
	PollIntervalMs int64               `json:"pollIntervalMs,omitempty"`
	Result         *mcp.CallToolResult `json:"result,omitempty"`
}

// createTaskResultV1 answers a task-augmented tools/call (2025-11-25).
type createTaskResultV1 struct {
	mcp.ResultBase
	Task taskV1 `json:"task"`
}

// taskResultV1 answers tasks/get and tasks/cancel (2025-11-25).
type taskResultV1 struct {
	mcp.ResultBase
	taskV1
}

// listTasksResultV1 answers tasks/list (2025-11-25).
type listTasksResultV1 struct {
	mcp.ResultBase
	Tasks      []taskV1 `json:"tasks"`
	NextCursor string   `json:"nextCursor,omitempty"`
}

// taskResultV2 answers tools/call with a task (ResultType "task") and
// tasks/get ("complete") under the extension.
type taskResultV2 struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
	taskV2
}

// ackResultV2 answers tasks/cancel under the extension.
type ackResultV2 struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
}

// taskIDParams are the params of tasks/get, tasks/result and tasks/cancel.
type taskIDParams struct {
	mcp.ParamsBase
	TaskID string `json:"taskId"`
}

// listTasksParams are the params of tasks/list.
type listTasksParams struct {
	mcp.ParamsBase
	Cursor string `json:"cursor,omitempty"`
}

// taskRequest is what a task method handler needs of its request: the
// SDK's ServerRequest of any params.
type taskRequest interface {
	mcp.Request
	ProtocolVersion() string
	ClientCapabilities() *mcp.ClientCapabilities
}

// requestKey is the context key of the request wireMiddleware hands to the
// task methods.
type requestKey struct{}

// requestOf returns the request wireMiddleware put in ctx.
func requestOf(ctx context.Context) (taskRequest, bool) {
	r, ok := ctx.Value(requestKey{}).(taskRequest)
	return r, ok
}

// addTaskMethods registers the task methods on s, each served by h with
// its request (see wireMiddleware), and the middleware that declares them.
func addTaskMethods(s *mcp.Server, h taskHandlers) error {
	byID := func(f func(context.Context, taskRequest, string) (mcp.Result, error)) func(context.Context, *mcp.ServerSession, *taskIDParams) (mcp.Result, error) {
		return func(ctx context.Context, _ *mcp.ServerSession, p *taskIDParams) (mcp.Result, error) {
			r, ok := requestOf(ctx)
			if !ok || p == nil {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "params must hold a taskId"}
			}
			return f(ctx, r, p.TaskID)
		}
	}
	for method, f := range map[string]func(context.Context, taskRequest, string) (mcp.Result, error){
		methodTasksGet: h.get, methodTasksResult: h.result, methodTasksCancel: h.cancel,
	} {
		if err := mcp.AddReceivingCustomMethod(s, method, byID(f)); err != nil {
			return err
		}
	}
	err := mcp.AddReceivingCustomMethod(s, methodTasksList, func(ctx context.Context, _ *mcp.ServerSession, p *listTasksParams) (mcp.Result, error) {
		r, ok := requestOf(ctx)
		if !ok {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "tasks/list without its request"}
		}
		cursor := ""
		if p != nil {
			cursor = p.Cursor
		}
		return h.list(ctx, r, cursor)
	})
	if err != nil {
		return err
	}
	s.AddReceivingMiddleware(wireMiddleware(h))
	return nil
}

// taskHandlers serve the task methods and task-augmented tool calls.
type taskHandlers interface {
	get(ctx context.Context, r taskRequest, id string) (mcp.Result, error)
	result(ctx context.Context, r taskRequest, id string) (mcp.Result, error)
	cancel(ctx context.Context, r taskRequest, id string) (mcp.Result, error)
	list(ctx context.Context, r taskRequest, cursor string) (mcp.Result, error)
	// callTool serves tools/call; next runs the plain tool.
	callTool(ctx context.Context, r *mcp.CallToolRequest, next func() (mcp.Result, error)) (mcp.Result, error)
	// taskTools names the tools that may run as tasks.
	taskTools() []string
}

// wireMiddleware declares the tasks capability in initialize and the
// tools' execution.taskSupport in tools/list, hands tools/call to
// h.callTool, and passes the task methods their whole request.
func wireMiddleware(h taskHandlers) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			switch method {
			case "initialize":
				res, err := next(ctx, method, req)
				if ir, ok := res.(*mcp.InitializeResult); ok && err == nil {
					return &initializeResult{ir}, nil
				}
				return res, err
			case "tools/list":
				res, err := next(ctx, method, req)
				if lr, ok := res.(*mcp.ListToolsResult); ok && err == nil {
					return &listToolsResult{lr, h.taskTools()}, nil
				}
				return res, err
			case "tools/call":
				if r, ok := req.(*mcp.CallToolRequest); ok {
					return h.callTool(ctx, r, func() (mcp.Result, error) { return next(ctx, method, req) })
				}
			case methodTasksList:
				// A custom params type panics in the SDK's _meta accessors
				// when the request had no params.
				if r, ok := req.(*mcp.ServerRequest[*listTasksParams]); ok && r.Params == nil {
					r.Params = &listTasksParams{}
				}
				fallthrough
			case methodTasksGet, methodTasksResult, methodTasksCancel:
				if r, ok := req.(taskRequest); ok {
					ctx = context.WithValue(ctx, requestKey{}, r)
				}
			}
			return next(ctx, method, req)
		}
	}
}

// initializeResult is the SDK's initialize result with the "tasks"
// capability.
type initializeResult struct{ *mcp.InitializeResult }

// MarshalJSON encodes the result with capabilities.tasks.
func (r *initializeResult) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(r.InitializeResult)
	if err != nil {
		return nil, err
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, err
	}
	if res["capabilities"], err = setMember(res["capabilities"], "tasks", tasksCapability); err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// listToolsResult is the SDK's tools/list result with
// execution.taskSupport "optional" on the tools that may run as tasks.
type listToolsResult struct {
	*mcp.ListToolsResult
	taskTools []string
}

// MarshalJSON encodes the result with the tools' execution.
func (r *listToolsResult) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(r.ListToolsResult)
	if err != nil {
		return nil, err
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, err
	}
	var tools []json.RawMessage
	if err := json.Unmarshal(res["tools"], &tools); err != nil {
		return nil, err
	}
	for i, raw := range tools {
		var tool struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &tool); err != nil {
			return nil, err
		}
		for _, name := range r.taskTools {
			if name == tool.Name {
				if tools[i], err = setMember(raw, "execution", json.RawMessage(`{"taskSupport":"optional"}`)); err != nil {
					return nil, err
				}
			}
		}
	}
	if res["tools"], err = json.Marshal(tools); err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// setMember returns the JSON object obj (empty when nil) with member name
// set to value.
func setMember(obj json.RawMessage, name string, value json.RawMessage) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(obj) > 0 && !bytes.Equal(obj, []byte("null")) {
		if err := json.Unmarshal(obj, &m); err != nil {
			return nil, err
		}
	}
	m[name] = value
	return json.Marshal(m)
}

// liftTask returns msg with a tools/call's "task" param moved into its
// _meta (metaTaskParam), where the SDK keeps it; any other message
// unchanged.
func liftTask(msg jsonrpc.Message) jsonrpc.Message {
	req, ok := msg.(*jsonrpc.Request)
	if !ok || req.Method != "tools/call" || len(req.Params) == 0 {
		return msg
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(req.Params, &params) != nil {
		return msg // the SDK says what is wrong with them
	}
	task, ok := params["task"]
	if !ok {
		return msg
	}
	meta, err := setMember(params["_meta"], metaTaskParam, task)
	if err != nil {
		return msg
	}
	delete(params, "task")
	params["_meta"] = meta
	b, err := json.Marshal(params)
	if err != nil {
		return msg
	}
	lifted := *req
	lifted.Params = b
	return &lifted
}

// liftTaskBody applies liftTask to the JSON-RPC message in the body of a
// POST, bounded by limit (a larger body goes on unread for the SDK to
// refuse), then serves next.
func liftTaskBody(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			http.Error(w, "read the request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if int64(len(body)) <= limit {
			if msg, err := jsonrpc.DecodeMessage(body); err == nil {
				if lifted := liftTask(msg); lifted != msg {
					if b, err := jsonrpc.EncodeMessage(lifted); err == nil {
						body = b
					}
				}
			}
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		r.ContentLength = -1
		if int64(len(body)) <= limit {
			r.ContentLength = int64(len(body))
		}
		next.ServeHTTP(w, r)
	})
}

// Transport wraps a transport of one long-lived connection (stdio: an
// mcp.IOTransport or mcp.StdioTransport) for MCP tasks: it lifts the
// "task" param of tool calls where the SDK keeps it, and lets the server
// send notifications/tasks/status on the connection.
func Transport(t mcp.Transport) mcp.Transport {
	return &taskTransport{t}
}

type taskTransport struct{ mcp.Transport }

// conns are the connections of Transport by session id, for notifications.
var conns sync.Map // string → *taskConn

func (t *taskTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	tc := &taskConn{Connection: c, id: c.SessionID(), done: make(chan struct{})}
	if tc.id == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		tc.id = "stdio-" + hex.EncodeToString(b[:])
	}
	conns.Store(tc.id, tc)
	return tc, nil
}

// taskConn is a connection of Transport.
type taskConn struct {
	mcp.Connection
	id   string
	once sync.Once
	done chan struct{} // closed by Close
}

func (c *taskConn) SessionID() string { return c.id }

func (c *taskConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if err != nil {
		return nil, err
	}
	return liftTask(msg), nil
}

func (c *taskConn) Close() error {
	c.once.Do(func() {
		conns.Delete(c.id)
		close(c.done)
	})
	return c.Connection.Close()
}

// notify sends a notification on the connection.
func (c *taskConn) notify(ctx context.Context, method string, params any) error {
	b, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return c.Write(ctx, &jsonrpc.Request{Method: method, Params: b})
}

// connOf returns the connection of Transport that serves session, if any.
func connOf(session mcp.Session) (*taskConn, bool) {
	ss, ok := session.(*mcp.ServerSession)
	if !ok {
		return nil, false
	}
	c, ok := conns.Load(ss.ID())
	if !ok {
		return nil, false
	}
	return c.(*taskConn), true
}

// rpcError is a JSON-RPC error of code with a message.
func rpcError(code int64, format string, args ...any) error {
	return &jsonrpc.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// missingExtension answers a task method asked under 2026-07-28 by a
// client that did not declare the extension on its request.
var missingExtension = &jsonrpc.Error{
	Code:    codeMissingCapability,
	Message: "Missing required client capability: declare the extension " + ExtensionTasks + " in the request's _meta io.modelcontextprotocol/clientCapabilities",
	Data:    json.RawMessage(`{"requiredCapabilities":{"extensions":{"` + ExtensionTasks + `":{}}}}`),
}

// taskVersion tells how request r speaks of tasks: the extension
// (2026-07-28 with the extension declared on it), the utility (an older
// revision), or an error when it asks under 2026-07-28 without declaring
// the extension.
func taskVersion(r taskRequest) (extension bool, err error) {
	if r.ProtocolVersion() < protocolExtension {
		return false, nil
	}
	if caps := r.ClientCapabilities(); caps != nil {
		if _, ok := caps.Extensions[ExtensionTasks]; ok {
			return true, nil
		}
	}
	return false, missingExtension
}
