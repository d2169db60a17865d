package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/internal/backoff"
)

// listen holds one connection that LISTENs for the sealer's feed heads (to
// wake WaitFeed) and for appends in other processes (to wake the sealer when
// this process leads). It reconnects until ctx ends.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	retry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "event store: listen connection", Logger: s.cfg.Logger, Min: 50 * time.Millisecond, Max: time.Second}
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg, retry)
		if ctx.Err() != nil {
			return
		}
		// Appends may have been committed unnoticed meanwhile.
		s.wakeLocalSealer()
		_ = retry.Failed(ctx, err)
	}
}

// listenOnce listens until its connection fails. Once it listens, it tells
// retry that the connection works (again).
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, retry *backoff.Retry) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	for _, ch := range []string{feedChannel, appendChannel, indexChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	// Anything sealed while no LISTEN was in effect is picked up here.
	head, err := s.q.FeedHead(ctx, conn)
	if err != nil {
		return err
	}
	indexed, err := s.q.ProjectionCheckpointGet(ctx, conn, TenantFeedName)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	retry.Succeeded()
	s.observeHead(head)
	s.indexed.Advance(indexed)
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
		case indexChannel:
			if h, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
				s.indexed.Advance(h)
			}
		case appendChannel:
			if s.leader.Load() {
				s.wakeLocalSealer()
			}
		}
	}
}
