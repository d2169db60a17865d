package postgres

import (
	"testing"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, opts eventstore.Options) eventstore.Store {
		s, _ := openStore(t, Config{Options: opts})
		return s
	})
}
