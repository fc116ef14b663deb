package procs

import (
	"runtime"
	"testing"
)

func TestDatabaseOnThisMachine(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u:p@127.0.0.1:5432/rpserver":              true,
		"postgres://u@localhost/rpserver?sslmode=disable":     true,
		"postgres://u@[::1]:5433/rpserver":                    true,
		"host=/var/run/postgresql dbname=rpserver":            true,
		"postgres://u@db.example.com/rpserver":                false,
		"postgres://u@10.0.0.5/rpserver":                      false,
		"postgres://u@127.0.0.1,db.example.com/rpserver":      false, // a failover target elsewhere
		"postgres://u@127.0.0.1:5432,127.0.0.2:5433/rpserver": true,
		"postgres://u@%zz/rpserver":                           false, // unparsable: no claim either way
	} {
		if got := DatabaseOnThisMachine(dsn); got != want {
			t.Errorf("DatabaseOnThisMachine(%q) = %v, want %v", dsn, got, want)
		}
	}
}

func TestServer(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	const local, remote = "postgres://u@127.0.0.1/db", "postgres://u@db.example.com/db"
	cases := []struct {
		name    string
		env     string
		flag    int
		dsn     string
		start   int
		want    int
		wantWhy string
	}{
		{"local database leaves it a core", "", 0, local, 2, 1, "one fewer than Go's default: PostgreSQL runs on this machine"},
		{"remote database keeps every core", "", 0, remote, 2, 2, "Go's default"},
		{"never below one", "", 0, local, 1, 1, "Go's default"},
		{"the environment's GOMAXPROCS is kept", "2", 0, local, 2, 2, "GOMAXPROCS"},
		{"an invalid GOMAXPROCS is ignored, as Go ignores it", "abc", 0, local, 2, 1, "one fewer than Go's default: PostgreSQL runs on this machine"},
		{"the flag wins over the environment", "2", 3, local, 2, 3, "-max-procs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", c.env)
			runtime.GOMAXPROCS(c.start)
			n, why := Server(c.flag, c.dsn)
			if n != c.want || why != c.wantWhy || runtime.GOMAXPROCS(0) != c.want {
				t.Errorf("Server = %d (%q), GOMAXPROCS now %d; want %d (%q)", n, why, runtime.GOMAXPROCS(0), c.want, c.wantWhy)
			}
		})
	}
}

func TestGenerator(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	const half = "half of Go's default: the servers it drives run on this machine"
	cases := []struct {
		name    string
		env     string
		flag    int
		start   int
		want    int
		wantWhy string
	}{
		{"two cores: one", "", 0, 2, 1, half},
		{"eight cores: four", "", 0, 8, 4, half},
		{"never below one", "", 0, 1, 1, half},
		{"the environment's GOMAXPROCS is kept", "2", 0, 2, 2, "GOMAXPROCS"},
		{"an invalid GOMAXPROCS is ignored, as Go ignores it", "0", 0, 4, 2, half},
		{"the flag wins over the environment", "2", 3, 2, 3, "-max-procs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", c.env)
			runtime.GOMAXPROCS(c.start)
			n, why := Generator(c.flag)
			if n != c.want || why != c.wantWhy || runtime.GOMAXPROCS(0) != c.want {
				t.Errorf("Generator = %d (%q), GOMAXPROCS now %d; want %d (%q)", n, why, runtime.GOMAXPROCS(0), c.want, c.wantWhy)
			}
		})
	}
}
