package store_test

import (
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/store/storetest"
	"github.com/rpserver/rpserver/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func TestDirectoryConformance(t *testing.T) {
	storetest.Directory(t, func(t *testing.T) directory.Store { return testpg.Open(t).Directory() })
}
