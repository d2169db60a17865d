package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// Start a task and follow its events to the end, verifying the hash chain
// as they arrive. The stream reconnects by itself if the connection drops.
func Example() {
	baseURL, apiKey := startExampleServer() // e.g. "http://127.0.0.1:8080" and the key `axontask dev` prints
	ctx := context.Background()

	c, err := client.New(baseURL, client.WithToken(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	task, err := c.StartTask(ctx, client.StartTaskRequest{
		Name:    "demo",
		Adapter: domain.AdapterMock,
		Args:    map[string]int{"steps": 2, "interval_ms": 10},
		Timeout: time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}

	s := c.Stream(ctx, task.TaskID, client.StreamOptions{Verify: true})
	defer func() { _ = s.Close() }()
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			break // after the terminal event
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Seq, e.Type)
	}
	// Output:
	// 1 task.created
	// 2 task.queued
	// 3 task.started
	// 4 task.output
	// 5 task.progress
	// 6 task.output
	// 7 task.progress
	// 8 task.succeeded
}

// A backlog goes in calls of up to client.MaxBatchTasks tasks, each call
// one request and one commit, all or none; a task's IdempotencyKey makes it
// safe to send a call again.
func ExampleClient_StartTasks() {
	baseURL, apiKey := startExampleServer()
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithToken(apiKey))
	if err != nil {
		log.Fatal(err)
	}

	var batch client.StartTasksRequest
	for i := range 3 {
		batch.Tasks = append(batch.Tasks, client.StartTaskRequest{
			Name:           fmt.Sprintf("item %d", i),
			Adapter:        domain.AdapterMock,
			Args:           map[string]int{"steps": 1, "interval_ms": 1},
			IdempotencyKey: fmt.Sprintf("import-7-item-%d", i),
		})
	}
	started, err := c.StartTasks(ctx, batch)
	if err != nil {
		log.Fatal(err)
	}
	again, err := c.StartTasks(ctx, batch)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(started), again[2].TaskID == started[2].TaskID)

	batch.Tasks[1].Args = map[string]int{"steps": -1}
	batch.Tasks[1].IdempotencyKey = "import-7-item-1-fixed"
	_, err = c.StartTasks(ctx, batch)
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Field)
	}
	// Output:
	// 3 true
	// 400 tasks[1].args.steps
}

// Errors are *client.APIError, parsed from the server's problem document;
// errors.Is tells the common cases apart, and Field names the input at
// fault.
func ExampleAPIError() {
	baseURL, apiKey := startExampleServer()
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithToken(apiKey))
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.StartTask(ctx, client.StartTaskRequest{
		Name:    "demo",
		Adapter: domain.AdapterMock,
		Args:    map[string]any{"steps": "ten"},
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, errors.Is(err, client.ErrInvalidInput), apiErr.Field)
	}

	_, err = c.TaskStatus(ctx, uuid.MustParse("0190d2a4-6c1e-7b3a-9f00-000000000000"))
	fmt.Println(errors.Is(err, client.ErrNotFound))

	anonymous, err := client.New(baseURL)
	if err != nil {
		log.Fatal(err)
	}
	_, err = anonymous.ListTasks(ctx, client.ListTasksOptions{})
	fmt.Println(errors.Is(err, client.ErrUnauthenticated))
	// Output:
	// 400 true args.steps
	// true
	// true
}

// Cancelling a task that has already ended otherwise is a
// *client.TaskFinishedError, which says how it ended.
func ExampleClient_CancelTask() {
	baseURL, apiKey := startExampleServer()
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithToken(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	task, err := c.StartTask(ctx, client.StartTaskRequest{Name: "quick", Adapter: domain.AdapterMock, Args: map[string]int{"steps": 1, "interval_ms": 1}})
	if err != nil {
		log.Fatal(err)
	}
	s := c.Stream(ctx, task.TaskID, client.StreamOptions{})
	defer func() { _ = s.Close() }()
	for err == nil {
		_, err = s.Next()
	}

	err = c.CancelTask(ctx, task.TaskID, "")
	var finished *client.TaskFinishedError
	if errors.As(err, &finished) {
		fmt.Println("already", finished.State, errors.Is(err, client.ErrConflict))
	}
	// Output:
	// already succeeded true
}

// A page of events at a time, for clients that poll instead of streaming.
func ExampleClient_TaskEvents() {
	baseURL, apiKey := startExampleServer()
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithToken(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	task, err := c.StartTask(ctx, client.StartTaskRequest{Name: "poll", Adapter: domain.AdapterMock, Args: map[string]int{"steps": 2, "interval_ms": 1}})
	if err != nil {
		log.Fatal(err)
	}
	var page api.EventPage
	for !page.Ended {
		if page, err = c.TaskEvents(ctx, task.TaskID, client.EventsOptions{SinceSeq: page.NextSeq, Limit: 100}); err != nil {
			log.Fatal(err)
		}
		if len(page.Events) == 0 && !page.Ended {
			time.Sleep(10 * time.Millisecond) // the task is still running
		}
	}
	status, err := c.TaskStatus(ctx, task.TaskID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status.State, status.LastSeq == page.NextSeq)
	// Output:
	// succeeded true
}
