// Command mail-basic is Plenum's reference inbound-mail scanner: it weighs
// the host's SPF, DKIM and DMARC results, display-name spoofing of the
// association's own name and domains, Reply-To mismatches, links whose
// text names another domain than their target, and dangerous attachments.
package main

import "github.com/plenum-vote/plenum/sdk"

func init() { sdk.RegisterScanMessage(scan) }

func main() {}
