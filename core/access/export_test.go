package access

import "time"

// SetCacheTTL shortens s's cache lifetime so tests of cross-host
// invalidation run quickly.
func SetCacheTTL(s *Service, d time.Duration) { s.ttl = d }
