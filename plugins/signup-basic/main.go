// Command signup-basic is Plenum's reference sign-up risk plugin: it
// weighs disposable and mail-less domains and sign-up velocity, and
// answers allow, challenge (an e-mail code) or block.
package main

import "github.com/plenum-vote/plenum/sdk"

func init() { sdk.RegisterSignupRisk(assess) }

func main() {}
