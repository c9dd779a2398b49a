// Command embargo-list is Plenum's reference embargo plugin: it blocks
// requests from the countries on the operator's list (its config) and on
// the tenant's own list.
package main

import "github.com/plenum-vote/plenum/sdk"

func init() { sdk.RegisterEmbargo(decide) }

func main() {}
