-- Tenants: one row per association. Platform-level table (not tenant-owned).
CREATE TABLE tenants (
	id TEXT PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	host TEXT UNIQUE,
	status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
	settings TEXT NOT NULL DEFAULT '{}',
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	deleted_at TIMESTAMP,
	key_destroyed_at TIMESTAMP
);
