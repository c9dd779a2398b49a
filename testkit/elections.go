package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvElectionData names the folder of the real ballot files and published
// results the counting methods are verified against; without it,
// $PLENUM_SHARED/testdata/elections is used. The data is read in place
// and never copied into the repository.
const EnvElectionData = "PLENUM_ELECTION_DATA"

// ElectionData returns the folder of the real election data, skipping t
// when it is missing, or failing it when CI requires the data
// (PLENUM_TEST_REQUIRE=elections).
func ElectionData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvElectionData)
	if dir == "" {
		if s := os.Getenv("PLENUM_SHARED"); s != "" {
			dir = filepath.Join(s, "testdata", "elections")
		}
	}
	if dir == "" {
		Unavailable(t, "elections", "set "+EnvElectionData+" or PLENUM_SHARED")
	}
	if _, err := os.Stat(dir); err != nil {
		Unavailable(t, "elections", err.Error())
	}
	return dir
}
