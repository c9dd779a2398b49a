-- Installed plugin modules (platform table). A private plugin, uploaded by
-- a tenant, names its owner and is visible to that tenant only.
CREATE TABLE plugins (
	name TEXT NOT NULL,
	version TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	manifest TEXT NOT NULL,
	module BLOB NOT NULL,
	signed_by TEXT,
	owner_tenant_id TEXT,
	installed_at TIMESTAMP NOT NULL,
	installed_by TEXT NOT NULL,
	PRIMARY KEY (name, version)
);

-- Which plugin decides which hook for a tenant, with the tenant's config.
CREATE TABLE tenant_plugins (
	tenant_id TEXT NOT NULL,
	hook TEXT NOT NULL,
	plugin_name TEXT NOT NULL,
	plugin_version TEXT NOT NULL,
	config TEXT NOT NULL,
	enabled_at TIMESTAMP NOT NULL,
	enabled_by TEXT NOT NULL,
	PRIMARY KEY (tenant_id, hook),
	FOREIGN KEY (plugin_name, plugin_version) REFERENCES plugins (name, version)
);
