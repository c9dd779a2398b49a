// Package crypto is Plenum's keyring: envelope encryption of personal data
// at rest, blind indexes for looking encrypted values up, key rotation and
// crypto-shredding.
//
// # Key hierarchy
//
// A master key, kept outside the database (a file with 0600 permissions, or
// the base64 value of PLENUM_MASTER_KEY), wraps one record of data keys per
// scope in the platform table tenant_keys. A scope is a tenant id, or
// PlatformScope for the platform's own data (operator accounts, platform
// audit events). A record holds
//
//   - an AES-256-GCM keyset that seals fields (Keyring.Seal, Keyring.Open);
//   - an HMAC-SHA256 PRF keyset that computes blind indexes for equality
//     look-ups of sealed values (Keyring.BlindIndex).
//
// Each keyset is wrapped with associated data naming its purpose and scope
// ("plenum/aead/{scope}", "plenum/prf/{scope}"), so a wrapped record copied
// to another scope or column does not open. Callers bind field ciphertexts
// to their place the same way: associated data naming table, column and row.
//
// Destroying a record (Keyring.Destroy) makes everything sealed with it
// unreadable, in the live database and in backups taken afterwards. Backups
// taken before still hold the wrapped record: see Keyring.Destroy.
//
// # Why Tink
//
// The primitives come from Google's Tink (tink-crypto/tink-go) rather than
// hand-written AES-GCM:
//
//   - Tink's TINK output prefix puts the id of the key that sealed a value in
//     front of every ciphertext, so a keyset can gain a new primary key
//     (rotation) while older ciphertexts keep opening, without a key-id
//     column or re-encryption;
//   - its AEAD and PRF primitives are reviewed, generate their own random
//     nonces and expose no unsafe options (no caller-chosen nonce to reuse);
//   - wrapping a keyset under another AEAD, with associated data, is one
//     call (keyset.Handle.WriteWithAssociatedData), and the master key is
//     itself a Tink AEAD keyset, so it rotates the same way as data keys.
//
// # Notes
//
// Unwrapped keys are cached in memory per scope for Options.CacheTTL
// (default 5 minutes). A key destroyed by another host therefore stops
// working on this one within that time; on the host that destroys it, at
// once. A Destroy whose transaction later rolls back still leaves the scope
// unusable on that host until the cache entry expires: the cache fails
// closed.
package crypto
