// Command retention-default is Plenum's reference retention plugin. It
// implements the platform's promises: a deleted workspace's data is gone
// within 30 days; a workspace inactive for 180 days is deleted after its
// owners were warned 30 and 7 days before; backups older than 30 days are
// deleted. Ballots, votes and audit events are kept for the statutory years
// the tenant configures; a legal hold keeps anything.
package main

import "github.com/plenum-vote/plenum/sdk"

func init() { sdk.RegisterRetention(sweep) }

func main() {}
