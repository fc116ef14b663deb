package store

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

// The logs kept in daily partitions (migrations/020_log_partitions.sql),
// by table name, with their partition key.
const (
	SignInLog = "signin_logs"
	AuditLog  = "directory_audits"
)

var logTimeColumn = map[string]string{SignInLog: "created_date_time", AuditLog: "activity_date_time"}

// partitionLockTimeout bounds how long partition DDL waits for a lock.
// Dropping a day locks the whole log table (ACCESS EXCLUSIVE on the parent:
// PostgreSQL cannot detach concurrently beside a DEFAULT partition), and
// while the drop waits for in-flight statements, new inserts queue behind
// it: the wait is kept short and a pass that times out is simply retried
// (internal/retention). Creating a day only locks the DEFAULT partition,
// which inserts into dated partitions never touch.
const partitionLockTimeout = "500ms"

// partitionLockKey serialises partition DDL across every server on the
// database (pg_advisory_xact_lock), so two never create or drop the same day
// at once; each operation also checks the catalog under the lock, so doing
// it twice is a no-op.
const partitionLockKey = 0x72707365_72657431 // "rpseret1"

// Partitions manages the log tables' daily partitions.
type Partitions struct{ db *DB }

// Partitions returns the log partition store.
func (db *DB) Partitions() *Partitions { return &Partitions{db: db} }

func partitionName(table string, day time.Time) string {
	return table + "_p" + day.UTC().Format("20060102")
}

var partitionSuffix = regexp.MustCompile(`_p(\d{8})$`)

func checkLog(table string) error {
	if _, ok := logTimeColumn[table]; !ok {
		return fmt.Errorf("store: %q is not a partitioned log table", table)
	}
	return nil
}

// Days lists the UTC days that have a partition of table, oldest first.
// Partitions are recognised by name (table_pYYYYMMDD, as
// log_partition_create makes them); any other partition is not ours and is
// never touched.
func (p *Partitions) Days(ctx context.Context, table string) ([]time.Time, error) {
	if err := checkLog(table); err != nil {
		return nil, err
	}
	rows, err := p.db.Pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass ORDER BY c.relname`, table)
	if err != nil {
		return nil, fmt.Errorf("list %s partitions: %w", table, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list %s partitions: %w", table, err)
	}
	var days []time.Time
	for _, n := range names {
		m := partitionSuffix.FindStringSubmatch(n)
		if m == nil || n != table+"_p"+m[1] {
			continue
		}
		d, err := time.Parse("20060102", m[1])
		if err != nil {
			continue
		}
		days = append(days, d)
	}
	return days, nil
}

// DefaultDays lists the UTC days in [from, to) for which the DEFAULT
// partition of table holds rows: rows that arrived before their day's
// partition existed. The DEFAULT partition is small (empty while partitions
// are made ahead), so this scan is cheap.
func (p *Partitions) DefaultDays(ctx context.Context, table string, from, to time.Time) ([]time.Time, error) {
	if err := checkLog(table); err != nil {
		return nil, err
	}
	col := pgx.Identifier{logTimeColumn[table]}.Sanitize()
	rows, err := p.db.Pool.Query(ctx, `SELECT DISTINCT date_trunc('day', `+col+` AT TIME ZONE 'UTC') FROM `+
		pgx.Identifier{table + "_default"}.Sanitize()+` WHERE `+col+` >= $1 AND `+col+` < $2 ORDER BY 1`, from, to)
	if err != nil {
		return nil, fmt.Errorf("list %s default partition days: %w", table, err)
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("list %s default partition days: %w", table, err)
	}
	for i := range days {
		days[i] = time.Date(days[i].Year(), days[i].Month(), days[i].Day(), 0, 0, 0, 0, time.UTC)
	}
	return days, nil
}

// partitionTx runs fn in a transaction that holds the partition advisory
// lock and waits at most partitionLockTimeout for any table lock.
func (p *Partitions) partitionTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return p.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true), pg_advisory_xact_lock($2)`, partitionLockTimeout, int64(partitionLockKey)); err != nil {
			return err
		}
		return fn(tx)
	})
}

// Create makes table's partition for the UTC day of day, moving into it any
// rows the DEFAULT partition holds for that day. created is false when the
// partition existed already (another server made it).
func (p *Partitions) Create(ctx context.Context, table string, day time.Time) (created bool, moved int64, err error) {
	if err := checkLog(table); err != nil {
		return false, 0, err
	}
	err = p.partitionTx(ctx, func(tx pgx.Tx) error {
		var n *int64
		if err := tx.QueryRow(ctx, `SELECT log_partition_create($1, $2, $3::date)`, table, logTimeColumn[table], day.UTC().Format(time.DateOnly)).Scan(&n); err != nil {
			return err
		}
		if n != nil {
			created, moved = true, *n
		}
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("create partition %s: %w", partitionName(table, day), err)
	}
	return created, moved, nil
}

// Drop removes table's partition for the UTC day of day with its rows.
// dropped is false when there was none (another server dropped it).
func (p *Partitions) Drop(ctx context.Context, table string, day time.Time) (dropped bool, err error) {
	if err := checkLog(table); err != nil {
		return false, err
	}
	name := partitionName(table, day)
	err = p.partitionTx(ctx, func(tx pgx.Tx) error {
		var ours bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = $1::regclass AND c.relname = $2)`, table, name).Scan(&ours); err != nil {
			return err
		}
		if !ours {
			return nil
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{name}.Sanitize()); err != nil {
			return err
		}
		dropped = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("drop partition %s: %w", name, err)
	}
	return dropped, nil
}

// PurgeDefault deletes the rows older than before from table's DEFAULT
// partition (rows whose day never had a partition, or arrived after it was
// dropped): a plain DELETE, cheap because that partition stays small.
func (p *Partitions) PurgeDefault(ctx context.Context, table string, before time.Time) (int64, error) {
	if err := checkLog(table); err != nil {
		return 0, err
	}
	col := pgx.Identifier{logTimeColumn[table]}.Sanitize()
	tag, err := p.db.Pool.Exec(ctx, `DELETE FROM `+pgx.Identifier{table + "_default"}.Sanitize()+` WHERE `+col+` < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge %s default partition: %w", table, err)
	}
	return tag.RowsAffected(), nil
}

// PurgeResolvedAlerts deletes resolved alerts raised before before. Alerts
// are few (one per emergency-access sign-in or forced override), so they
// live in a plain table; an alert nobody resolved is kept however old.
func (p *Partitions) PurgeResolvedAlerts(ctx context.Context, before time.Time) (int64, error) {
	tag, err := p.db.Pool.Exec(ctx, `DELETE FROM security_alerts WHERE created_date_time < $1 AND status = 'resolved'`, before)
	if err != nil {
		return 0, fmt.Errorf("purge resolved alerts: %w", err)
	}
	return tag.RowsAffected(), nil
}
