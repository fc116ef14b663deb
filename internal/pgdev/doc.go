// Package pgdev starts a throwaway PostgreSQL server from the installed server
// binaries (initdb, pg_ctl, postgres), in a data folder of its own, listening on
// a free loopback port.
//
// It exists so that `rpserver serve` works on a fresh machine with no
// DATABASE_URL, and so that tests run against a real PostgreSQL instead of a
// mock. PostgreSQL refuses to run as root, so when the current process is root
// the cluster is created and run as the `postgres` system user and the data
// folder is handed to that user.
package pgdev
