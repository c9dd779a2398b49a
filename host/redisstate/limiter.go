// Package redisstate keeps state that several hosts must share in Redis:
// the sign-in attempt counters of core/identity, so that a lockout holds
// whichever host an attacker's requests reach.
//
// Every change is one Lua script, which Redis runs atomically: counting
// an attempt, checking its threshold and locking the key cannot
// interleave with another host's attempt on the same key. A check is one
// round trip.
package redisstate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plenum-vote/plenum/core/identity"
)

// reserveScript counts one attempt on KEYS[1]; KEYS[2] is the tenant's
// sorted set of locked account keys. ARGV: now, window start cutoff,
// threshold, first lock length, longest lock length (all ms), user id,
// key TTL (ms). It answers {allowed, count, locked_until}.
const reserveScript = `
local k, locks = KEYS[1], KEYS[2]
local now, cutoff, threshold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local base, maxl, user, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local h = redis.call('HMGET', k, 'failures', 'window_start', 'locked_until', 'lockouts', 'user_id')
local failures, ws = tonumber(h[1]) or 0, tonumber(h[2]) or now
local lu, lockouts = tonumber(h[3]) or 0, tonumber(h[4]) or 0
if user == '' and h[5] then user = h[5] end
if lu > now then return {0, failures, lu} end
if ws < cutoff then failures = 0; ws = now end
failures = failures + 1
if failures > threshold then
  local d = base
  for i = 1, math.min(lockouts, 20) do d = d * 2 end
  if d > maxl then d = maxl end
  lu = now + d
  redis.call('HSET', k, 'failures', 0, 'window_start', now, 'locked_until', lu, 'lockouts', lockouts + 1, 'user_id', user)
  redis.call('PEXPIRE', k, d + ttl)
  if user ~= '' then redis.call('ZADD', locks, lu, k .. '|' .. user) end
  return {0, failures, lu}
end
redis.call('HSET', k, 'failures', failures, 'window_start', ws, 'lockouts', lockouts, 'user_id', user)
redis.call('PEXPIRE', k, ttl)
return {1, failures, 0}
`

// failScript locks KEYS[1] after a failure that reached the threshold,
// unless it is locked already. ARGV: now, first and longest lock length
// (ms), key TTL (ms). It answers the lock's end.
const failScript = `
local k, locks = KEYS[1], KEYS[2]
local now, base, maxl, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local h = redis.call('HMGET', k, 'locked_until', 'lockouts', 'user_id')
local lu, lockouts, user = tonumber(h[1]) or 0, tonumber(h[2]) or 0, h[3] or ''
if lu > now then return lu end
local d = base
for i = 1, math.min(lockouts, 20) do d = d * 2 end
if d > maxl then d = maxl end
lu = now + d
redis.call('HSET', k, 'failures', 0, 'window_start', now, 'locked_until', lu, 'lockouts', lockouts + 1)
redis.call('PEXPIRE', k, d + ttl)
if user ~= '' then redis.call('ZADD', locks, lu, k .. '|' .. user) end
return lu
`

// succeedScript clears KEYS[1] (ARGV[1] == "1") or gives one attempt back.
const succeedScript = `
if ARGV[1] == '1' then return redis.call('DEL', KEYS[1]) end
local f = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
if f > 0 then redis.call('HINCRBY', KEYS[1], 'failures', -1) end
return 0
`

// Limiter implements identity.AttemptLimiter over Redis.
type Limiter struct {
	rdb     redis.UniversalClient
	prefix  string
	now     func() time.Time
	reserve *redis.Script
	fail    *redis.Script
	succeed *redis.Script
}

// NewLimiter returns a limiter keeping its keys under prefix (e.g.
// "plenum:") in rdb. now may be nil.
func NewLimiter(rdb redis.UniversalClient, prefix string, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{rdb: rdb, prefix: prefix, now: now,
		reserve: redis.NewScript(reserveScript), fail: redis.NewScript(failScript), succeed: redis.NewScript(succeedScript)}
}

var _ identity.AttemptLimiter = (*Limiter)(nil)

func (l *Limiter) key(tenantID, key string) string {
	return l.prefix + "signin:{" + tenantID + "}:" + key
}

func (l *Limiter) locksKey(tenantID string) string {
	return l.prefix + "signin:{" + tenantID + "}:locks"
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

func (l *Limiter) ttl(lo identity.Lockout) int64 {
	return ms(time.Duration(lo.Window)) + 60_000
}

// Reserve implements identity.AttemptLimiter.
func (l *Limiter) Reserve(ctx context.Context, tenantID, key, userID string, lo identity.Lockout) (identity.Verdict, error) {
	now := l.now()
	threshold := lo.AccountThreshold
	if strings.HasPrefix(key, "ip:") {
		threshold = lo.IPThreshold
	}
	res, err := l.reserve.Run(ctx, l.rdb, []string{l.key(tenantID, key), l.locksKey(tenantID)},
		now.UnixMilli(), now.Add(-time.Duration(lo.Window)).UnixMilli(), threshold,
		ms(time.Duration(lo.LockFor)), ms(time.Duration(lo.MaxLockFor)), userID, l.ttl(lo)).Int64Slice()
	if err != nil {
		return identity.Verdict{}, fmt.Errorf("redis: count sign-in attempt: %w", err)
	}
	v := identity.Verdict{Allowed: res[0] == 1, Count: int(res[1])}
	if res[2] > 0 {
		v.LockedUntil = time.UnixMilli(res[2]).UTC()
	}
	if v.Allowed {
		v.Delay = identity.DelayFor(v.Count-1, lo.DelayAfter)
	}
	return v, nil
}

// Fail implements identity.AttemptLimiter.
func (l *Limiter) Fail(ctx context.Context, tenantID, key string, count, threshold int, lo identity.Lockout) (time.Time, error) {
	if count < threshold {
		return time.Time{}, nil
	}
	until, err := l.fail.Run(ctx, l.rdb, []string{l.key(tenantID, key), l.locksKey(tenantID)},
		l.now().UnixMilli(), ms(time.Duration(lo.LockFor)), ms(time.Duration(lo.MaxLockFor)), l.ttl(lo)).Int64()
	if err != nil {
		return time.Time{}, fmt.Errorf("redis: lock sign-in key: %w", err)
	}
	return time.UnixMilli(until).UTC(), nil
}

// Succeed implements identity.AttemptLimiter.
func (l *Limiter) Succeed(ctx context.Context, tenantID, key string, clear bool) error {
	arg := "0"
	if clear {
		arg = "1"
	}
	if err := l.succeed.Run(ctx, l.rdb, []string{l.key(tenantID, key)}, arg).Err(); err != nil && err != redis.Nil {
		return fmt.Errorf("redis: clear sign-in key: %w", err)
	}
	return nil
}

// Locks implements identity.AttemptLimiter. Ended locks are dropped from
// the tenant's set on the way.
func (l *Limiter) Locks(ctx context.Context, tenantID string) ([]identity.Lock, error) {
	now := l.now().UnixMilli()
	lk := l.locksKey(tenantID)
	if err := l.rdb.ZRemRangeByScore(ctx, lk, "-inf", strconv.FormatInt(now, 10)).Err(); err != nil {
		return nil, fmt.Errorf("redis: prune locks: %w", err)
	}
	zs, err := l.rdb.ZRangeByScoreWithScores(ctx, lk, &redis.ZRangeBy{Min: "(" + strconv.FormatInt(now, 10), Max: "+inf", Count: 500}).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: list locks: %w", err)
	}
	out := make([]identity.Lock, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		i := strings.LastIndexByte(m, '|')
		if i < 0 {
			continue
		}
		full, user := m[:i], m[i+1:]
		key := full[strings.LastIndexByte(full, '}')+2:]
		out = append(out, identity.Lock{Key: key, UserID: user, LockedUntil: time.UnixMilli(int64(z.Score)).UTC()})
	}
	return out, nil
}

// Unlock implements identity.AttemptLimiter.
func (l *Limiter) Unlock(ctx context.Context, tenantID, userID string) error {
	lk := l.locksKey(tenantID)
	members, err := l.rdb.ZRange(ctx, lk, 0, -1).Result()
	if err != nil {
		return fmt.Errorf("redis: list locks: %w", err)
	}
	for _, m := range members {
		i := strings.LastIndexByte(m, '|')
		if i < 0 || m[i+1:] != userID {
			continue
		}
		pipe := l.rdb.TxPipeline()
		pipe.Del(ctx, m[:i])
		pipe.ZRem(ctx, lk, m)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("redis: unlock: %w", err)
		}
	}
	return nil
}
