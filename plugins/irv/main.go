// Command irv is Plenum's instant-runoff tally plugin: one seat filled by
// ranked ballots, with RCTab's rules for overvotes, skipped ranks,
// duplicates, batch elimination and ties (package plugins/count/irv does
// the counting). Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o irv.wasm .
package main

import (
	"fmt"
	"sync"

	"github.com/plenum-vote/plenum/plugins/count/irv"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// A reactor module runs package initialisers, not main: registration
// happens here.
func init() {
	sdk.RegisterRaw(sdk.HookTally, tally)
	sdk.RegisterValidateBallot(validate)
}

func main() {}

// Buffers reused by every tally call: the ballot's head, the vote being
// decoded, the reader, the writer and the count's grouping tables (so
// that a large count leaves no garbage for the next call to collect). A
// wasm instance runs one call at a time; the mutex serialises calls in
// native builds (tests).
var (
	mu     sync.Mutex
	head   sdk.TallyInput
	vote   sdk.Vote
	rd     wire.Reader
	wr     wire.Writer
	stream irv.Stream
)

// tally is the tally hook. It does not decode the votes into a slice:
// each is added to an irv.Stream as it is read, which groups identical
// ballots at once, so a million votes cost the guest neither the memory
// of a million Vote values nor the collector's work of scanning them.
func tally(b []byte) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	rd.ResetShared(b)
	var s *irv.Stream
	start := func() error {
		s = &stream
		return s.Reset(&head)
	}
	err := head.ReadWireEach(&rd, &vote, func(v *sdk.Vote, ranks []int32) error {
		if s == nil {
			if err := start(); err != nil {
				return err
			}
		}
		return s.AddIndexed(v, ranks)
	})
	if err == nil && s == nil {
		err = start()
	}
	if err != nil {
		return nil, fmt.Errorf("irv: %w", err)
	}
	out, err := s.Result()
	if err != nil {
		return nil, fmt.Errorf("irv: %w", err)
	}
	wr.Reset()
	out.AppendWire(&wr)
	return wr.Bytes(), nil
}
