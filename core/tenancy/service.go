package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// ErrNotFound is returned when no tenant matches.
var ErrNotFound = errors.New("tenant not found")

// ErrExists is returned when a slug or host name is already taken.
var ErrExists = errors.New("tenant already exists")

// KeyCreator provisions and destroys a tenant's data key inside the
// transaction that creates or deletes the tenant. core/crypto's Keyring
// satisfies it.
type KeyCreator interface {
	CreateKey(ctx context.Context, tx bun.Tx, scope string) error
}

// Recorder writes an audit event inside the transaction of the change it
// records. The host adapts core/audit to it.
type Recorder interface {
	Record(ctx context.Context, tx *store.Tx, c Change) error
}

// Change describes a tenant change for the audit log.
type Change struct {
	Actor  string
	Action string
	Target string
	// Details must hold no personal data.
	Details map[string]string
}

// Service creates, finds, suspends and deletes tenants.
type Service struct {
	db    *store.DB
	keys  KeyCreator
	audit Recorder
	now   func() time.Time
}

// NewService returns a Service. now may be nil for time.Now.
func NewService(db *store.DB, keys KeyCreator, audit Recorder, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, keys: keys, audit: audit, now: now}
}

// CreateRequest names a new tenant.
type CreateRequest struct {
	Slug string
	Name string
	// Host optionally gives the tenant a host name of its own.
	Host string
	// Actor is who asks, for the audit log (e.g. "operator:<id>", "system").
	Actor string
}

// Create validates req and creates the tenant, its data key and the audit
// event in one transaction.
func (s *Service) Create(ctx context.Context, req CreateRequest) (*Tenant, error) {
	req.Slug = strings.TrimSpace(req.Slug)
	req.Name = strings.TrimSpace(req.Name)
	if err := ValidateSlug(req.Slug); err != nil {
		return nil, err
	}
	if err := ValidateName(req.Name); err != nil {
		return nil, err
	}
	var host *string
	if h := strings.ToLower(strings.TrimSpace(req.Host)); h != "" {
		if err := validateHost(h); err != nil {
			return nil, err
		}
		host = &h
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new tenant id: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &Tenant{
		ID: id.String(), Slug: req.Slug, Name: req.Name, Host: host,
		Status: Active, CreatedAt: now, UpdatedAt: now,
	}
	err = s.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: slug %q or its host name is taken", ErrExists, req.Slug)
			}
			return fmt.Errorf("insert tenant: %w", err)
		}
		if err := s.keys.CreateKey(ctx, tx, t.ID); err != nil {
			return fmt.Errorf("create tenant key: %w", err)
		}
		stx, err := s.db.System().Scope(tx, t.ID)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, stx, Change{
			Actor: actorOr(req.Actor), Action: "tenant.create", Target: "tenant:" + t.ID,
			Details: map[string]string{"slug": t.Slug},
		})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Get returns the tenant with id.
func (s *Service) Get(ctx context.Context, id string) (*Tenant, error) {
	return s.one(ctx, "id = ?", id)
}

// BySlug returns the tenant with slug, whatever its status.
func (s *Service) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	if ValidateSlug(slug) != nil {
		return nil, ErrNotFound
	}
	return s.one(ctx, "slug = ?", slug)
}

// ByHost returns the tenant that owns host name host.
func (s *Service) ByHost(ctx context.Context, host string) (*Tenant, error) {
	host = strings.ToLower(host)
	if validateHost(host) != nil {
		return nil, ErrNotFound
	}
	return s.one(ctx, "host = ?", host)
}

func (s *Service) one(ctx context.Context, where string, arg any) (*Tenant, error) {
	t := new(Tenant)
	err := s.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(t).Where(where, arg).Limit(1).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find tenant: %w", err)
	}
	return t, nil
}

// List returns every tenant ordered by slug, including deleted ones when
// withDeleted is set.
func (s *Service) List(ctx context.Context, withDeleted bool) ([]Tenant, error) {
	var ts []Tenant
	err := s.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().Model(&ts).Order("slug")
		if !withDeleted {
			q = q.Where("status <> ?", Deleted)
		}
		return q.Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

// SetStatus suspends or reactivates a tenant. Deleting goes through Delete.
func (s *Service) SetStatus(ctx context.Context, id string, st Status, actor string) (*Tenant, error) {
	if st != Active && st != Suspended {
		return nil, fmt.Errorf("%w: status %q cannot be set directly", ErrInvalid, st)
	}
	return s.update(ctx, id, actor, "tenant."+string(st), func(t *Tenant) error {
		if t.Status == Deleted {
			return fmt.Errorf("%w: tenant %s is deleted", ErrInvalid, t.Slug)
		}
		t.Status = st
		return nil
	})
}

// Delete marks the tenant deleted as of now. Its data stays until the
// retention sweep destroys the tenant's key after the grace period; until
// then nothing is served.
func (s *Service) Delete(ctx context.Context, id, actor string) (*Tenant, error) {
	return s.update(ctx, id, actor, "tenant.delete", func(t *Tenant) error {
		if t.Status == Deleted {
			return fmt.Errorf("%w: tenant %s is already deleted", ErrInvalid, t.Slug)
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		t.Status = Deleted
		t.DeletedAt = &now
		return nil
	})
}

func (s *Service) update(ctx context.Context, id, actor, action string, change func(*Tenant) error) (*Tenant, error) {
	t := new(Tenant)
	err := s.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().Model(t).Where("id = ?", id)
		if s.db.Dialect() == store.Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("find tenant: %w", err)
		}
		if err := change(t); err != nil {
			return err
		}
		t.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		if _, err := tx.NewUpdate().Model(t).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update tenant: %w", err)
		}
		stx, err := s.db.System().Scope(tx, t.ID)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, stx, Change{
			Actor: actorOr(actor), Action: action, Target: "tenant:" + t.ID,
			Details: map[string]string{"slug": t.Slug, "status": string(t.Status)},
		})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func actorOr(a string) string {
	if a == "" {
		return "system"
	}
	return a
}

func validateHost(h string) error {
	if len(h) > 253 || strings.ContainsAny(h, "/:@ \t") || !strings.Contains(h, ".") && h != "localhost" {
		return fmt.Errorf("%w: host name %q is not a plain DNS name", ErrInvalid, h)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%w: host name %q is not a plain DNS name", ErrInvalid, h)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%w: host name %q is not a plain DNS name", ErrInvalid, h)
			}
		}
	}
	return nil
}
