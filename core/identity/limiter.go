package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// Verdict is a limiter's answer to one sign-in attempt.
type Verdict struct {
	// Allowed is false when the key is locked out.
	Allowed bool
	// Count is the number of attempts counted in the window, this one
	// included.
	Count int
	// LockedUntil is when a locked key opens again.
	LockedUntil time.Time
	// Delay is how long to hold back the answer to a failed attempt.
	Delay time.Duration
}

// Lock is one locked-out key, for the admin's list.
type Lock struct {
	Key         string
	UserID      string
	Failures    int
	Lockouts    int
	LockedUntil time.Time
}

// AttemptLimiter counts sign-in attempts per key (an account or a source
// address) and locks a key out after too many failures. Reserve counts an
// attempt before the password is checked, so parallel attempts cannot get
// past the threshold: the attempt after the threshold is refused however
// many run at once. The database implementation is DBLimiter; the host
// offers a Redis one so that limits hold across several hosts.
type AttemptLimiter interface {
	// Reserve counts one attempt and says whether it may go ahead.
	Reserve(ctx context.Context, tenantID, key, userID string, l Lockout) (Verdict, error)
	// Fail records that a reserved attempt failed; it locks the key when
	// the count reached the threshold. It returns the lock's end, or zero.
	Fail(ctx context.Context, tenantID, key string, count, threshold int, l Lockout) (time.Time, error)
	// Succeed records that a reserved attempt succeeded: an account key is
	// cleared, a source key gets its attempt back.
	Succeed(ctx context.Context, tenantID, key string, clear bool) error
	// Locks lists the tenant's locked account keys.
	Locks(ctx context.Context, tenantID string) ([]Lock, error)
	// Unlock clears the account key of userID.
	Unlock(ctx context.Context, tenantID, userID string) error
}

type attemptRow struct {
	bun.BaseModel `bun:"table:signin_attempts"`
	store.Owned
	Key           string     `bun:"key,pk"`
	Failures      int        `bun:"failures,notnull"`
	WindowStart   time.Time  `bun:"window_start,notnull"`
	LastFailureAt time.Time  `bun:"last_failure_at,notnull"`
	LockedUntil   *time.Time `bun:"locked_until"`
	Lockouts      int        `bun:"lockouts,notnull"`
	UserID        *string    `bun:"user_id"`
}

// DBLimiter keeps attempt counters in the database: one row per key,
// changed by single upserts, so counting is atomic on both engines and a
// check is one indexed read.
type DBLimiter struct {
	db  *store.DB
	now func() time.Time
}

// NewDBLimiter returns a limiter over db. now may be nil.
func NewDBLimiter(db *store.DB, now func() time.Time) *DBLimiter {
	if now == nil {
		now = time.Now
	}
	return &DBLimiter{db: db, now: now}
}

func (l *DBLimiter) clock() time.Time { return l.now().UTC().Truncate(time.Microsecond) }

func (l *DBLimiter) tx(ctx context.Context, tenantID string, fn func(ctx context.Context, tx *store.Tx) error) error {
	sc, err := l.db.Scoped(tenantID)
	if err != nil {
		return err
	}
	return sc.Tx(ctx, fn)
}

// Reserve implements AttemptLimiter. One upsert counts the attempt —
// restarting the window when it has passed and counting nothing while the
// key is locked — and returns the row as it now is.
func (l *DBLimiter) Reserve(ctx context.Context, tenantID, key, userID string, lo Lockout) (Verdict, error) {
	now := l.clock()
	cutoff := now.Add(-time.Duration(lo.Window))
	var v Verdict
	err := l.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		row := &attemptRow{Key: key, Failures: 1, WindowStart: now, LastFailureAt: now}
		if userID != "" {
			row.UserID = &userID
		}
		err := tx.NewInsert(row).
			On("CONFLICT (tenant_id, key) DO UPDATE").
			Set("failures = CASE WHEN ?TableAlias.locked_until IS NOT NULL AND ?TableAlias.locked_until > ? THEN ?TableAlias.failures WHEN ?TableAlias.window_start < ? THEN 1 ELSE ?TableAlias.failures + 1 END", now, cutoff).
			Set("window_start = CASE WHEN ?TableAlias.window_start < ? AND (?TableAlias.locked_until IS NULL OR ?TableAlias.locked_until <= ?) THEN EXCLUDED.window_start ELSE ?TableAlias.window_start END", cutoff, now).
			Set("last_failure_at = EXCLUDED.last_failure_at").
			Set("user_id = COALESCE(EXCLUDED.user_id, ?TableAlias.user_id)").
			Returning("failures, locked_until, lockouts").
			Scan(ctx, &row.Failures, &row.LockedUntil, &row.Lockouts)
		if err != nil {
			return fmt.Errorf("count sign-in attempt: %w", err)
		}
		v.Count = row.Failures
		if row.LockedUntil != nil && row.LockedUntil.After(now) {
			v.LockedUntil = *row.LockedUntil
			return nil
		}
		threshold := thresholdOf(key, lo)
		if row.Failures > threshold {
			// Attempts raced past the threshold before any failure was
			// recorded: lock now and refuse this one.
			until, err := l.lock(ctx, tx, key, row.Lockouts, lo, now)
			if err != nil {
				return err
			}
			v.LockedUntil = until
			return nil
		}
		v.Allowed = true
		v.Delay = DelayFor(row.Failures-1, lo.DelayAfter)
		return nil
	})
	return v, err
}

// thresholdOf returns the failure threshold that applies to key.
func thresholdOf(key string, lo Lockout) int {
	if len(key) > 3 && key[:3] == "ip:" {
		return lo.IPThreshold
	}
	return lo.AccountThreshold
}

// delayFor returns the delay after failures earlier failures: none up to
// after, then 250 ms doubling to at most 4 s.
func DelayFor(failures, after int) time.Duration {
	if failures < after || after <= 0 {
		return 0
	}
	d := 250 * time.Millisecond << min(failures-after, 4)
	return min(d, 4*time.Second)
}

// lockFor returns the length of a key's next lockout: LockFor doubled for
// each earlier lockout, at most MaxLockFor.
func lockFor(lockouts int, lo Lockout) time.Duration {
	d := time.Duration(lo.LockFor)
	for range min(lockouts, 20) {
		d *= 2
		if d >= time.Duration(lo.MaxLockFor) {
			return time.Duration(lo.MaxLockFor)
		}
	}
	return min(d, time.Duration(lo.MaxLockFor))
}

func (l *DBLimiter) lock(ctx context.Context, tx *store.Tx, key string, lockouts int, lo Lockout, now time.Time) (time.Time, error) {
	until := now.Add(lockFor(lockouts, lo))
	_, err := tx.Update((*attemptRow)(nil)).
		Set("locked_until = ?", until).
		Set("lockouts = lockouts + 1").
		Set("failures = 0").
		Set("window_start = ?", now).
		Where("key = ?", key).
		Where("(locked_until IS NULL OR locked_until <= ?)", now).
		Exec(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("lock sign-in key: %w", err)
	}
	return until, nil
}

// Fail implements AttemptLimiter.
func (l *DBLimiter) Fail(ctx context.Context, tenantID, key string, count, threshold int, lo Lockout) (time.Time, error) {
	if count < threshold {
		return time.Time{}, nil
	}
	now := l.clock()
	var until time.Time
	err := l.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		row := new(attemptRow)
		err := tx.Select(row).Where("key = ?", key).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read sign-in key: %w", err)
		}
		if row.LockedUntil != nil && row.LockedUntil.After(now) {
			until = *row.LockedUntil
			return nil
		}
		until, err = l.lock(ctx, tx, key, row.Lockouts, lo, now)
		return err
	})
	return until, err
}

// Succeed implements AttemptLimiter.
func (l *DBLimiter) Succeed(ctx context.Context, tenantID, key string, clear bool) error {
	return l.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if clear {
			_, err = tx.Delete((*attemptRow)(nil)).Where("key = ?", key).Exec(ctx)
		} else {
			_, err = tx.Update((*attemptRow)(nil)).Set("failures = failures - 1").Where("key = ?", key).Where("failures > 0").Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("clear sign-in key: %w", err)
		}
		return nil
	})
}

// Locks implements AttemptLimiter.
func (l *DBLimiter) Locks(ctx context.Context, tenantID string) ([]Lock, error) {
	now := l.clock()
	var rows []attemptRow
	sc, err := l.db.Scoped(tenantID)
	if err != nil {
		return nil, err
	}
	err = sc.ReadTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&rows).Where("locked_until > ?", now).Where("user_id IS NOT NULL").OrderExpr("locked_until DESC").Limit(500).Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list locked accounts: %w", err)
	}
	out := make([]Lock, 0, len(rows))
	for _, r := range rows {
		out = append(out, Lock{Key: r.Key, UserID: *r.UserID, Failures: r.Failures, Lockouts: r.Lockouts, LockedUntil: *r.LockedUntil})
	}
	return out, nil
}

// Unlock implements AttemptLimiter.
func (l *DBLimiter) Unlock(ctx context.Context, tenantID, userID string) error {
	return l.tx(ctx, tenantID, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Delete((*attemptRow)(nil)).Where("user_id = ?", userID).Where("key LIKE 'account:%'").Exec(ctx); err != nil {
			return fmt.Errorf("unlock account: %w", err)
		}
		return nil
	})
}
