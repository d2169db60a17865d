package testredis

import (
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"
)

// An owned server killed and started again answers on the same URL, empty;
// while killed it refuses.
func TestOwnedServerRestartsEmpty(t *testing.T) {
	t.Parallel()
	s := StartOwned(t)
	opts, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	ctx := t.Context()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("a killed server answered")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err == nil {
		t.Fatal("a second Start of a running server did not fail")
	}
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("after a restart GET k = %v, want redis.Nil (the server comes back empty)", err)
	}
}
