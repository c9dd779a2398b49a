package sso

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"github.com/crewjam/saml"
)

// Default SAML attribute names, tried in order when the provider's
// settings name none.
var (
	defaultEmailAttributes = []string{"mail", "email", "urn:oid:0.9.2342.19200300.100.1.3", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}
	defaultNameAttributes  = []string{"displayName", "cn", "urn:oid:2.5.4.3", "name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"}
)

// newSAMLKey returns a new service-provider key, PEM-encoded PKCS #8; it
// is stored sealed in place of a client secret.
func newSAMLKey() (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("generate saml key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("encode saml key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// samlKeyPair decodes the stored key and derives its certificate. The
// certificate is self-signed from fixed fields with a deterministic
// signature (RSA PKCS #1 v1.5), so the same key always yields the same
// certificate and the metadata stays stable without storing it.
func samlKeyPair(keyPEM, entityID string) (*rsa.PrivateKey, *x509.Certificate, error) {
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return nil, nil, fmt.Errorf("saml key: not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("saml key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("saml key: not RSA")
	}
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(sum[:16]),
		Subject:      pkix.Name{CommonName: truncate(entityID, 64)},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("saml certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("saml certificate: %w", err)
	}
	return key, cert, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// samlProvider reads the provider and checks that it is an enabled SAML
// provider.
func (s *Service) samlProvider(ctx context.Context, tenantID, name string) (*providerRow, *Provider, error) {
	row, err := s.getRow(ctx, tenantID, name)
	if err != nil {
		return nil, nil, err
	}
	p, err := row.provider()
	if err != nil {
		return nil, nil, err
	}
	if p.Kind != SAML {
		return nil, nil, ErrUnsupported
	}
	return row, p, nil
}

// idpMetadata returns the identity provider's metadata: the stored XML,
// or what its metadata URL serves.
func (s *Service) idpMetadata(ctx context.Context, cfg Config) (*saml.EntityDescriptor, error) {
	raw := []byte(cfg.SAMLMetadataXML)
	if len(raw) == 0 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.SAMLMetadataURL, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: metadata request: %w", ErrUnreachable, err)
		}
		resp, err := s.opts.HTTPClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%w: fetch metadata: %w", ErrUnreachable, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%w: fetch metadata: status %d", ErrUnreachable, resp.StatusCode)
		}
		if raw, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20)); err != nil {
			return nil, fmt.Errorf("%w: read metadata: %w", ErrUnreachable, err)
		}
	}
	ed := new(saml.EntityDescriptor)
	if err := xml.Unmarshal(raw, ed); err != nil || len(ed.IDPSSODescriptors) == 0 {
		return nil, fmt.Errorf("%w: the identity provider's metadata is not usable", ErrUnreachable)
	}
	return ed, nil
}

// serviceProvider builds the SAML service provider of p. base is the
// absolute URL of the provider's SAML endpoints, ending in "/saml/".
func (s *Service) serviceProvider(ctx context.Context, row *providerRow, p *Provider, base string, withIDP bool) (*saml.ServiceProvider, error) {
	keyPEM, err := s.clientSecret(ctx, row)
	if err != nil {
		return nil, err
	}
	if keyPEM == "" {
		return nil, fmt.Errorf("saml provider %s has no key", p.Name)
	}
	meta, err := url.Parse(base + "metadata")
	if err != nil {
		return nil, fmt.Errorf("saml metadata url: %w", err)
	}
	acs, err := url.Parse(base + "acs")
	if err != nil {
		return nil, fmt.Errorf("saml acs url: %w", err)
	}
	key, cert, err := samlKeyPair(keyPEM, meta.String())
	if err != nil {
		return nil, err
	}
	sp := &saml.ServiceProvider{EntityID: meta.String(), Key: key, Certificate: cert, HTTPClient: s.opts.HTTPClient,
		MetadataURL: *meta, AcsURL: *acs, AuthnNameIDFormat: saml.PersistentNameIDFormat, AllowIDPInitiated: false}
	if withIDP {
		if sp.IDPMetadata, err = s.idpMetadata(ctx, p.Config); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// SAMLMetadata returns the service-provider metadata XML of the
// tenant's SAML provider name, for its identity provider's
// administrator. base is as for BeginSAML.
func (s *Service) SAMLMetadata(ctx context.Context, tenantID, name, base string) ([]byte, error) {
	row, p, err := s.samlProvider(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	sp, err := s.serviceProvider(ctx, row, p, base, false)
	if err != nil {
		return nil, err
	}
	out, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode saml metadata: %w", err)
	}
	return out, nil
}

// BeginSAML starts a sign-in with the tenant's SAML provider name and
// returns the identity provider's URL (HTTP-Redirect binding) with the
// AuthnRequest and a single-use relay state. base is the absolute URL of
// the provider's SAML endpoints, ending in "/saml/".
func (s *Service) BeginSAML(ctx context.Context, tenantID, name, base, returnTo string) (string, error) {
	row, p, err := s.samlProvider(ctx, tenantID, name)
	if err != nil {
		return "", err
	}
	if !p.Enabled {
		return "", ErrDisabled
	}
	sp, err := s.serviceProvider(ctx, row, p, base, true)
	if err != nil {
		return "", err
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", fmt.Errorf("%w: saml request: %w", ErrUnreachable, err)
	}
	state, err := s.newState(ctx, tenantID, State{Provider: name, Nonce: req.ID, ReturnTo: returnTo})
	if err != nil {
		return "", err
	}
	u, err := req.Redirect(state, sp)
	if err != nil {
		return "", fmt.Errorf("saml redirect: %w", err)
	}
	return u.String(), nil
}

// FinishSAML completes a sign-in at the assertion consumer service: it
// consumes the relay state (once), and checks the response's signature,
// issuer, audience, validity and that it answers the request made by
// BeginSAML. The subject is the NameID; the address comes from the
// configured (or a usual) attribute and must be in an allowed domain.
// Refusals wrap ErrRejected or are ErrState.
func (s *Service) FinishSAML(ctx context.Context, tenantID, name, base, relayState, samlResponse string) (*Identity, error) {
	st, err := s.consumeState(ctx, tenantID, name, relayState)
	if err != nil {
		return nil, err
	}
	row, p, err := s.samlProvider(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	if !p.Enabled {
		return nil, ErrDisabled
	}
	sp, err := s.serviceProvider(ctx, row, p, base, true)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("%w: no readable SAML response", ErrRejected)
	}
	assertion, err := sp.ParseXMLResponse(raw, []string{st.Nonce}, sp.AcsURL)
	if err != nil {
		return nil, fmt.Errorf("%w: SAML response not valid", ErrRejected)
	}
	if assertion.Subject == nil || assertion.Subject.NameID == nil || assertion.Subject.NameID.Value == "" {
		return nil, fmt.Errorf("%w: SAML assertion without subject", ErrRejected)
	}
	attrs := map[string]any{}
	for _, stmt := range assertion.AttributeStatements {
		for _, a := range stmt.Attributes {
			var vals []any
			for _, v := range a.Values {
				vals = append(vals, v.Value)
			}
			for _, key := range []string{a.Name, a.FriendlyName} {
				if key != "" {
					attrs[key] = vals
				}
			}
		}
	}
	email := firstAttribute(attrs, p.Config.EmailAttribute, defaultEmailAttributes)
	if email == "" {
		return nil, fmt.Errorf("%w: the SAML assertion has no e-mail address", ErrRejected)
	}
	if !DomainAllowed(p.Config, email) {
		return nil, fmt.Errorf("%w: e-mail domain not allowed", ErrRejected)
	}
	return &Identity{Provider: name, Subject: assertion.Subject.NameID.Value, Email: email,
		Name: firstAttribute(attrs, p.Config.NameAttribute, defaultNameAttributes), Roles: MapRoles(p.Config, attrs), ReturnTo: st.ReturnTo}, nil
}

// firstAttribute returns the first value of the attribute named, or of
// the first default present when none is named.
func firstAttribute(attrs map[string]any, named string, defaults []string) string {
	names := defaults
	if named != "" {
		names = []string{named}
	}
	for _, n := range names {
		if vs := claimValues(attrs[n]); len(vs) > 0 && vs[0] != "" {
			return vs[0]
		}
	}
	return ""
}
