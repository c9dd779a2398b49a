-- Access control: tenant roles, role assignments and versioned policies.
-- Built-in roles are defined in code and never stored.
CREATE TABLE access_roles (
	tenant_id TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL,
	permissions TEXT NOT NULL, -- JSON array of permission names
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, name)
);

-- Which user holds which role (built-in or the tenant's own).
CREATE TABLE access_assignments (
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	role TEXT NOT NULL,
	granted_at TIMESTAMP NOT NULL,
	granted_by TEXT NOT NULL,
	PRIMARY KEY (tenant_id, user_id, role)
);
CREATE INDEX access_assignments_role ON access_assignments (tenant_id, role);

-- Policy versions are immutable: a save or a rollback appends version
-- head+1, and the primary key makes concurrent saves of the same version
-- fail.
CREATE TABLE access_policy_versions (
	tenant_id TEXT NOT NULL,
	version INTEGER NOT NULL CHECK (version > 0),
	policy TEXT NOT NULL, -- JSON
	created_at TIMESTAMP NOT NULL,
	created_by TEXT NOT NULL,
	comment TEXT NOT NULL,
	PRIMARY KEY (tenant_id, version)
);
CREATE TRIGGER access_policy_versions_no_update BEFORE UPDATE ON access_policy_versions
BEGIN
	SELECT RAISE(ABORT, 'policy versions are immutable');
END;

-- The current policy version of each tenant.
CREATE TABLE access_policy_head (
	tenant_id TEXT PRIMARY KEY,
	version INTEGER NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	updated_by TEXT NOT NULL
);
