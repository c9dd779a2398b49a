package sso

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Identity is who a provider vouched for at the end of a sign-in.
type Identity struct {
	Provider string
	// Subject is the provider's stable identifier of the user.
	Subject string
	// Email was verified by the provider and is in an allowed domain.
	Email string
	Name  string
	// Roles are the tenant roles the provider's claims map to; the
	// tenant may not have all of them.
	Roles []string
	// ReturnTo is the local path the sign-in was started for.
	ReturnTo string
}

// oidcProvider reads the provider and checks that it is an enabled
// OpenID Connect provider.
func (s *Service) oidcProvider(ctx context.Context, tenantID, name string) (*providerRow, *Provider, error) {
	row, err := s.getRow(ctx, tenantID, name)
	if err != nil {
		return nil, nil, err
	}
	p, err := row.provider()
	if err != nil {
		return nil, nil, err
	}
	if !p.Enabled {
		return nil, nil, ErrDisabled
	}
	if p.Kind != OIDC {
		return nil, nil, ErrUnsupported
	}
	return row, p, nil
}

// oauthConfig reads the provider's discovery document and returns the
// OAuth 2 client settings and the ID-token verifier.
func (s *Service) oauthConfig(ctx context.Context, row *providerRow, p *Provider, redirectURL string) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	ctx = oidc.ClientContext(ctx, s.opts.HTTPClient)
	op, err := oidc.NewProvider(ctx, p.Config.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: discover provider %s: %w", ErrUnreachable, p.Name, err)
	}
	secret, err := s.clientSecret(ctx, row)
	if err != nil {
		return nil, nil, err
	}
	scopes := []string{oidc.ScopeOpenID}
	extra := p.Config.Scopes
	if len(extra) == 0 {
		extra = []string{"email", "profile"}
	}
	for _, sc := range extra {
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	cfg := &oauth2.Config{ClientID: p.Config.ClientID, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: redirectURL, Scopes: scopes}
	return cfg, op.Verifier(&oidc.Config{ClientID: p.Config.ClientID}), nil
}

// BeginOIDC starts a sign-in with the tenant's provider name and returns
// the provider's authorization URL to send the browser to, and the state
// value the caller should also bind to the browser (a cookie) and compare
// on return. redirectURL is the callback's absolute URL; returnTo the
// local path to go to afterwards (the caller checks it is local).
func (s *Service) BeginOIDC(ctx context.Context, tenantID, name, redirectURL, returnTo string) (authURL, state string, err error) {
	row, p, err := s.oidcProvider(ctx, tenantID, name)
	if err != nil {
		return "", "", err
	}
	cfg, _, err := s.oauthConfig(ctx, row, p, redirectURL)
	if err != nil {
		return "", "", err
	}
	nonce, err := randomValue()
	if err != nil {
		return "", "", err
	}
	verifier := oauth2.GenerateVerifier()
	state, err = s.newState(ctx, tenantID, State{Provider: name, Nonce: nonce, Verifier: verifier, ReturnTo: returnTo})
	if err != nil {
		return "", "", err
	}
	return cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// FinishOIDC completes a sign-in: it consumes the state (once), exchanges
// the code with the PKCE verifier, verifies the ID token (signature,
// issuer, audience, expiry) and its nonce, and requires a verified e-mail
// address in an allowed domain. Refusals wrap ErrRejected or are
// ErrState; their messages hold nothing the provider sent.
func (s *Service) FinishOIDC(ctx context.Context, tenantID, name, redirectURL, state, code string) (*Identity, error) {
	st, err := s.consumeState(ctx, tenantID, name, state)
	if err != nil {
		return nil, err
	}
	if code == "" || len(code) > 4096 {
		return nil, fmt.Errorf("%w: no authorization code", ErrRejected)
	}
	row, p, err := s.oidcProvider(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	cfg, verifier, err := s.oauthConfig(ctx, row, p, redirectURL)
	if err != nil {
		return nil, err
	}
	hctx := oidc.ClientContext(ctx, s.opts.HTTPClient)
	tok, err := cfg.Exchange(hctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			status := 0
			if re.Response != nil {
				status = re.Response.StatusCode
			}
			return nil, fmt.Errorf("%w: code exchange refused (status %d, error %q)", ErrRejected, status, re.ErrorCode)
		}
		return nil, fmt.Errorf("%w: code exchange with provider %s: %w", ErrUnreachable, name, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no ID token in the token response", ErrRejected)
	}
	idt, err := verifier.Verify(hctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: ID token not valid", ErrRejected)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return nil, fmt.Errorf("%w: ID token nonce does not match", ErrRejected)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: ID token claims unreadable", ErrRejected)
	}
	email, _ := claims["email"].(string)
	if email == "" || !verifiedEmail(claims["email_verified"]) {
		return nil, fmt.Errorf("%w: the provider did not verify the e-mail address", ErrRejected)
	}
	if !DomainAllowed(p.Config, email) {
		return nil, fmt.Errorf("%w: e-mail domain not allowed", ErrRejected)
	}
	if idt.Subject == "" {
		return nil, fmt.Errorf("%w: ID token without subject", ErrRejected)
	}
	fullName, _ := claims["name"].(string)
	return &Identity{Provider: name, Subject: idt.Subject, Email: email, Name: fullName, Roles: MapRoles(p.Config, claims), ReturnTo: st.ReturnTo}, nil
}
