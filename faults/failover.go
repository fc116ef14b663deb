package main

import "context"

// scenarioFailover is filled in by failover_pgaf.go.
func (s *suite) scenarioFailover(ctx context.Context) result {
	return result{Name: "PostgreSQL failover", Err: "not built yet"}
}
