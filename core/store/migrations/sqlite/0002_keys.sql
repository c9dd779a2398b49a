-- Data keys: one record per scope (a tenant id, or "platform"), each keyset
-- encrypted under the master key. NULL keysets and destroyed_at mark a
-- crypto-shredded scope. Platform table.
CREATE TABLE tenant_keys (
	tenant_id TEXT PRIMARY KEY,
	aead_keyset BLOB,
	prf_keyset BLOB,
	created_at TIMESTAMP NOT NULL,
	rotated_at TIMESTAMP,
	destroyed_at TIMESTAMP
);
