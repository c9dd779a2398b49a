// Command hostcalls exercises the clock, geoip and kv host functions: its
// tally hook answers "COUNTRY|CLOCK|COUNT" and counts its calls per tenant
// in the key-value store. With input "spam" it writes keys until the
// store's quota stops it and answers how many it wrote.
package main

import (
	"strconv"

	"github.com/plenum-vote/plenum/sdk"
)

func init() {
	sdk.RegisterRaw(sdk.HookTally, func(in []byte) ([]byte, error) {
		if string(in) == "spam" {
			n := 0
			for ; n < 1_000_000; n++ {
				if err := sdk.KVPut("k"+strconv.Itoa(n), []byte("v")); err != nil {
					break
				}
			}
			return []byte(strconv.Itoa(n)), nil
		}
		cc, _ := sdk.Country(string(in))
		clock := "fixed"
		if sdk.Now() > 1_700_000_000_000_000_000 {
			clock = "real"
		}
		count := 0
		if v, ok := sdk.KVGet("calls"); ok {
			count, _ = strconv.Atoi(string(v))
		}
		count++
		if err := sdk.KVPut("calls", []byte(strconv.Itoa(count))); err != nil {
			return nil, err
		}
		return []byte(cc + "|" + clock + "|" + strconv.Itoa(count)), nil
	})
}

func main() {}
