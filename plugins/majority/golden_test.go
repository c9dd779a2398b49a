package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/testkit/plugin"
)

// The tally examples in schemas/examples are this plugin's golden files:
// each input must give exactly the example output.
func TestGoldenExamples(t *testing.T) {
	plugin.Golden(t, filepath.Join("..", "..", "schemas", "examples", "tally"), func(b []byte) (any, error) {
		var in sdk.TallyInput
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return tally(&in)
	})
}
