// Package rawtally is the reference plugin call of the benchmarks: the
// simple-majority tally of shared/bench/tally-fixture.json over a tiny
// binary encoding of its own, decoded in place without allocating. It is
// registered with sdk.RegisterRaw, so the same code runs in a wasm guest
// (../main.go) and natively (sdk.CallNative) for the wasm/native ratio.
//
// It is test material, not the platform's tally codec (that is sdk/wire and
// plugins/majority).
//
// Input, all integers little-endian:
//
//	u8 len, poll id | u8 len, rule | u16 quorum | u16 n | n × (u8 len, voter | u8 choice)
//
// where choice is 0 yes, 1 no, 2 abstain. Output (13 bytes):
//
//	u8 decision (0 fail, 1 pass, 2 no quorum) | u32 yes | u32 no | u32 abstain
package rawtally

import (
	"encoding/binary"
	"errors"

	"github.com/plenum-vote/plenum/sdk"
)

// The choices and decisions of the encoding.
const (
	Yes, No, Abstain     = 0, 1, 2
	Fail, Pass, NoQuorum = 0, 1, 2
	outputSize           = 13
	ruleSimpleMajority   = "simple_majority"
)

var (
	errShort  = errors.New("rawtally: truncated input")
	errRule   = errors.New("rawtally: unsupported rule")
	errChoice = errors.New("rawtally: unknown choice")
)

// out is the output buffer, reused by every call: the ABI hands it to the
// host before the next call. A wasm instance runs one call at a time; the
// native benchmark calls serially.
var out [outputSize]byte

// Register installs Tally as the tally hook.
func Register() { sdk.RegisterRaw(sdk.HookTally, Tally) }

// Tally decodes in, counts the votes and encodes the result into a
// package-level buffer.
func Tally(in []byte) ([]byte, error) {
	_, in, ok := str(in) // poll id: not needed to count
	if !ok {
		return nil, errShort
	}
	rule, in, ok := str(in)
	if !ok {
		return nil, errShort
	}
	if string(rule) != ruleSimpleMajority {
		return nil, errRule
	}
	if len(in) < 4 {
		return nil, errShort
	}
	quorum, n := binary.LittleEndian.Uint16(in), int(binary.LittleEndian.Uint16(in[2:]))
	in = in[4:]
	var counts [3]uint32
	for i := 0; i < n; i++ {
		if _, in, ok = str(in); !ok || len(in) < 1 {
			return nil, errShort
		}
		c := in[0]
		if c > Abstain {
			return nil, errChoice
		}
		counts[c]++
		in = in[1:]
	}
	decision := byte(Fail)
	switch {
	case n < int(quorum):
		decision = NoQuorum
	case counts[Yes] > counts[No]:
		decision = Pass
	}
	out[0] = decision
	binary.LittleEndian.PutUint32(out[1:], counts[Yes])
	binary.LittleEndian.PutUint32(out[5:], counts[No])
	binary.LittleEndian.PutUint32(out[9:], counts[Abstain])
	return out[:], nil
}

// str reads a u8-length-prefixed byte string.
func str(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return nil, nil, false
	}
	n := 1 + int(b[0])
	return b[1:n], b[n:], true
}

// Vote is one vote of the host-side encoder.
type Vote struct {
	Voter  string
	Choice byte
}

// Encode is the host side: it encodes a tally input.
func Encode(pollID, rule string, quorum int, votes []Vote) []byte {
	b := make([]byte, 0, 64)
	b = append(b, byte(len(pollID)))
	b = append(b, pollID...)
	b = append(b, byte(len(rule)))
	b = append(b, rule...)
	b = binary.LittleEndian.AppendUint16(b, uint16(quorum))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(votes)))
	for _, v := range votes {
		b = append(b, byte(len(v.Voter)))
		b = append(b, v.Voter...)
		b = append(b, v.Choice)
	}
	return b
}

// Result is a decoded output.
type Result struct {
	Decision         byte
	Yes, No, Abstain uint32
}

// Decode is the host side: it decodes a tally output.
func Decode(b []byte) (Result, error) {
	if len(b) != outputSize {
		return Result{}, errShort
	}
	return Result{b[0], binary.LittleEndian.Uint32(b[1:]), binary.LittleEndian.Uint32(b[5:]), binary.LittleEndian.Uint32(b[9:])}, nil
}

// Fixture is shared/bench/tally-fixture.json's input in this encoding;
// its expected result is Pass, 3 yes, 1 no, 1 abstain.
func Fixture() []byte {
	return Encode("poll-2025-0042", ruleSimpleMajority, 5, []Vote{
		{"u-1001", Yes}, {"u-1002", No}, {"u-1003", Yes}, {"u-1004", Abstain}, {"u-1005", Yes},
	})
}
