// Package testkit helps Plenum's own tests and plugin authors' tests: it
// opens fresh databases on every supported engine, starts a real host on a
// loopback port, and creates tenants to test against.
//
// Tests that need a service (PostgreSQL, Redis, a browser) skip when it is
// missing, unless PLENUM_TEST_REQUIRE lists it: then they fail, so CI never
// passes by skipping.
package testkit
