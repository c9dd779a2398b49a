-- Data keys: one record per scope (a tenant id, or "platform"), each keyset
-- encrypted under the master key. NULL keysets and destroyed_at mark a
-- crypto-shredded scope. Platform table.
CREATE TABLE tenant_keys (
	tenant_id TEXT PRIMARY KEY,
	aead_keyset BYTEA,
	prf_keyset BYTEA,
	created_at TIMESTAMPTZ NOT NULL,
	rotated_at TIMESTAMPTZ,
	destroyed_at TIMESTAMPTZ
);
