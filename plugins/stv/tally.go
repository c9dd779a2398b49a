package main

import (
	"fmt"
	"sync"

	"github.com/plenum-vote/plenum/plugins/count/stv"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// Rule is the counting method this plugin answers for; an empty rule is
// taken to mean it too.
const Rule = "stv"

// Buffers reused by every tally call: the ballot's head, the vote being
// decoded, the reader and the writer. A wasm instance runs one call at a
// time; the mutex serialises calls in native builds (tests).
var (
	mu   sync.Mutex
	head sdk.TallyInput
	vote sdk.Vote
	rd   wire.Reader
	wr   wire.Writer
)

// tally is the tally hook. It does not decode the votes into a slice:
// each is added to an stv.Stream as it is read, which groups identical
// ballots at once, so a large election costs the guest the memory of its
// distinct ballots only.
func tally(b []byte) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	rd.ResetShared(b)
	var s *stv.Stream
	err := head.ReadWireEach(&rd, &vote, func(v *sdk.Vote, _ []int32) error {
		if s == nil {
			var err error
			if s, err = start(&head); err != nil {
				return err
			}
		}
		return s.Add(v)
	})
	if err == nil && s == nil {
		s, err = start(&head)
	}
	if err != nil {
		return nil, fmt.Errorf("stv plugin: %w", err)
	}
	out, err := s.Result()
	if err != nil {
		return nil, fmt.Errorf("stv plugin: %w", err)
	}
	wr.Reset()
	out.AppendWire(&wr)
	return wr.Bytes(), nil
}

// start checks that the ballot is an STV election and starts its count.
func start(in *sdk.TallyInput) (*stv.Stream, error) {
	if in.Rule != Rule && in.Rule != "" {
		return nil, fmt.Errorf("unknown rule %q: this plugin counts %q", in.Rule, Rule)
	}
	if in.Kind != sdk.KindElection {
		return nil, fmt.Errorf("ballot %q is not an election", in.BallotID)
	}
	return stv.NewStream(in)
}
