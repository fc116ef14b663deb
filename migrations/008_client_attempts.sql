-- Attempts per client (its address) for the failure limiter, shared by every
-- server on the database so the limit holds behind a load balancer. An
-- attempt is reserved (in_flight + 1) before its expensive check and settled
-- after it (in_flight - 1, failures + 1 when it failed); a reservation is
-- granted only while failures + in_flight stay under the limit.
-- UNLOGGED: the table is written on every limited request, and losing it in
-- a crash only forgives recent failures.
CREATE UNLOGGED TABLE client_attempts (
    client_key   text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    failures     integer NOT NULL DEFAULT 0,
    in_flight    integer NOT NULL DEFAULT 0
);
