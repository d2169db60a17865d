package testdocker_test

import (
	"testing"

	"github.com/axontask/axontask/internal/testdocker"
)

func TestMain(m *testing.M) { testdocker.Main(m) }

func TestImage(t *testing.T) {
	c := testdocker.Client(t)
	img, err := c.ImageInspect(t.Context(), testdocker.Image)
	if err != nil {
		t.Fatal(err)
	}
	if img.Config != nil && img.Config.User != "" {
		t.Errorf("the test image has USER %q", img.Config.User)
	}
}
