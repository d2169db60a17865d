package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// listen holds one connection that LISTENs for the sealer's feed heads (to
// wake WaitFeed) and for appends in other processes (to wake the sealer when
// this process leads). It reconnects until ctx ends.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg)
		if ctx.Err() != nil {
			return
		}
		s.cfg.Logger.Warn("event store: listen connection lost; reconnecting", "err", err, "backoff", backoff)
		// Notifications may have been missed: let waiters re-check.
		s.feedSig.Broadcast()
		s.wakeLocalSealer()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	for _, ch := range []string{feedChannel, appendChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	// Anything sealed before LISTEN took effect is picked up here.
	s.feedSig.Broadcast()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch n.Channel {
		case feedChannel:
			if h, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
				s.observeHead(h)
			}
		case appendChannel:
			if s.leader.Load() {
				s.wakeLocalSealer()
			}
		}
	}
}
