// Package storetest holds conformance suites: the behaviour every
// implementation of an aggregate's Store interface must show (not-found and
// conflict classes, paging, cascades, atomicity). internal/store runs them
// against real PostgreSQL; any other implementation must pass them too.
package storetest
