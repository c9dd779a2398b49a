package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/plenum-vote/plenum/sdk"
)

// config is the operator's configuration: the blocked countries (ISO
// 3166-1 alpha-2) and whether a request whose country is unknown is
// blocked.
type config struct {
	Countries    []string `json:"countries"`
	BlockUnknown bool     `json:"block_unknown"`
}

// The parsed config is kept while the raw bytes stay the same, so JSON is
// decoded once per configuration, not per call.
var (
	lastRaw []byte
	parsed  config
	blocked map[string]bool
	output  sdk.EmbargoOutput
)

func load(raw []byte) error {
	if blocked != nil && bytes.Equal(raw, lastRaw) {
		return nil
	}
	var c config
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	m := make(map[string]bool, len(c.Countries))
	for _, cc := range c.Countries {
		if len(cc) != 2 {
			return fmt.Errorf("config: %q is not a two-letter country code", cc)
		}
		m[cc] = true
	}
	parsed, blocked, lastRaw = c, m, append(lastRaw[:0], raw...)
	return nil
}

func decide(in *sdk.EmbargoInput) (*sdk.EmbargoOutput, error) {
	if err := load(sdk.Config()); err != nil {
		return nil, err
	}
	out := &output
	out.Block, out.Reason = false, ""
	switch {
	case in.Country == "":
		if parsed.BlockUnknown {
			out.Block, out.Reason = true, "country unknown"
		}
	case blocked[in.Country]:
		out.Block, out.Reason = true, "embargoed country "+in.Country
	default:
		for _, c := range in.TenantBlocked {
			if c == in.Country {
				out.Block, out.Reason = true, "country "+in.Country+" blocked by the association"
			}
		}
	}
	return out, nil
}
