package postgres

import (
	"testing"

	"github.com/axontask/axontask/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }
