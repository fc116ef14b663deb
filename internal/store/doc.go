// Package store holds the PostgreSQL (pgx) implementations of every
// aggregate's Store interface, the schema migration runner, and the
// translation of PostgreSQL errors into apperr classes. No SQL lives outside
// this package.
//
// Each Store is checked by a conformance suite (package storetest) run here
// against a real PostgreSQL.
package store
