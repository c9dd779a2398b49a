-- Single sign-on providers of a tenant (core/identity/sso): OpenID
-- Connect or SAML. config holds the provider's public settings as JSON
-- (issuer, client id, scopes, role claim and mapping, allowed e-mail
-- domains, SAML metadata, attribute names); the client secret is sealed
-- with the tenant key.
CREATE TABLE sso_providers (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	name TEXT NOT NULL CHECK (name ~ '^[a-z0-9-]{2,32}$'),
	kind TEXT NOT NULL CHECK (kind IN ('oidc', 'saml')),
	display_name TEXT NOT NULL,
	config TEXT NOT NULL,
	client_secret BYTEA,
	enabled BOOLEAN NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, name)
);

-- Outstanding OpenID Connect sign-ins: single use, ten minutes. The id is
-- the SHA-256 of the state value in the URL; the PKCE verifier is sealed.
CREATE TABLE sso_states (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	id TEXT NOT NULL,
	provider TEXT NOT NULL,
	nonce TEXT NOT NULL,
	pkce_verifier BYTEA NOT NULL,
	return_to TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sso_states_expiry ON sso_states (tenant_id, expires_at);

ALTER TABLE sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_providers
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
ALTER TABLE sso_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_states FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_states
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
