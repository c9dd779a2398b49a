package testkit

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvRedis names the environment variable holding the address of a Redis
// server for tests (default 127.0.0.1:6379 when redis is required).
const EnvRedis = "PLENUM_TEST_REDIS"

// Redis returns a client of the test Redis server and a key prefix unique
// to t, whose keys are deleted when t ends. It skips t when no server
// answers, or fails it when PLENUM_TEST_REQUIRE lists redis.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := os.Getenv(EnvRedis)
	if addr == "" {
		if !Required("redis") {
			t.Skip("redis unavailable: set " + EnvRedis + "=host:port")
		}
		addr = "127.0.0.1:6379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		Unavailable(t, "redis", err.Error())
	}
	prefix := "plenum-test:" + randomHex(t, 8) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}
