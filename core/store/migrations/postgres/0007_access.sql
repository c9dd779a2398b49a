-- Access control: tenant roles, role assignments and versioned policies.
-- Built-in roles are defined in code and never stored.
CREATE TABLE access_roles (
	tenant_id TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL,
	permissions TEXT NOT NULL, -- JSON array of permission names
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, name)
);
ALTER TABLE access_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON access_roles
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));

-- Which user holds which role (built-in or the tenant's own).
CREATE TABLE access_assignments (
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	role TEXT NOT NULL,
	granted_at TIMESTAMPTZ NOT NULL,
	granted_by TEXT NOT NULL,
	PRIMARY KEY (tenant_id, user_id, role)
);
CREATE INDEX access_assignments_role ON access_assignments (tenant_id, role);
ALTER TABLE access_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON access_assignments
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));

-- Policy versions are immutable: a save or a rollback appends version
-- head+1, and the primary key makes concurrent saves of the same version
-- fail.
CREATE TABLE access_policy_versions (
	tenant_id TEXT NOT NULL,
	version INTEGER NOT NULL CHECK (version > 0),
	policy TEXT NOT NULL, -- JSON, kept byte for byte
	created_at TIMESTAMPTZ NOT NULL,
	created_by TEXT NOT NULL,
	comment TEXT NOT NULL,
	PRIMARY KEY (tenant_id, version)
);
ALTER TABLE access_policy_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_policy_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON access_policy_versions
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
CREATE FUNCTION access_policy_versions_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'policy versions are immutable';
END;
$$;
CREATE TRIGGER access_policy_versions_no_update BEFORE UPDATE ON access_policy_versions
	FOR EACH ROW EXECUTE FUNCTION access_policy_versions_immutable();

-- The current policy version of each tenant.
CREATE TABLE access_policy_head (
	tenant_id TEXT PRIMARY KEY,
	version INTEGER NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	updated_by TEXT NOT NULL
);
ALTER TABLE access_policy_head ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_policy_head FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON access_policy_head
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
