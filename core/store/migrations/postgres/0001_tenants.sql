-- Tenants: one row per association. Platform-level table (not tenant-owned).
CREATE TABLE tenants (
	id TEXT PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	host TEXT UNIQUE,
	status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
	settings JSONB NOT NULL DEFAULT '{}',
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	deleted_at TIMESTAMPTZ,
	key_destroyed_at TIMESTAMPTZ
);

-- plenum_tenant_visible is the row-level security predicate shared by every
-- tenant-owned table: a row is visible when the transaction is scoped to its
-- tenant, or when it runs as the platform (system scope). Outside a scoped
-- transaction neither setting is present and nothing is visible.
CREATE FUNCTION plenum_tenant_visible(row_tenant TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
	SELECT row_tenant = current_setting('plenum.tenant_id', true)
		OR current_setting('plenum.system', true) = 'on'
$$;
