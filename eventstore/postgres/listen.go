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
	const minBackoff = 50 * time.Millisecond
	backoff := minBackoff
	for ctx.Err() == nil {
		connected, err := s.listenOnce(ctx, cfg)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = minBackoff
		}
		s.cfg.Logger.Warn("event store: listen connection lost; reconnecting", "err", err, "backoff", backoff)
		// Appends may have been committed unnoticed meanwhile.
		s.wakeLocalSealer()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce listens until its connection fails; connected reports whether
// it got as far as listening.
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return false, err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	for _, ch := range []string{feedChannel, appendChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return false, err
		}
	}
	// Anything sealed while no LISTEN was in effect is picked up here.
	head, err := s.q.FeedHead(ctx, conn)
	if err != nil {
		return true, err
	}
	s.observeHead(head)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
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
