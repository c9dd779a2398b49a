package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// platformScope is the key scope and audit chain of platform accounts.
const platformScope = "platform"

// ErrInvalidCredentials is returned by SignIn for an unknown e-mail
// address, a wrong password and a disabled account alike, so that the
// answer tells nothing about which accounts exist.
var ErrInvalidCredentials = errors.New("e-mail or password is wrong")

// ErrNoSession is returned for an unknown, expired or ended session.
var ErrNoSession = errors.New("no such session")

// ErrExists is returned when an account with the e-mail already exists.
var ErrExists = errors.New("account already exists")

// ErrInvalid is wrapped by input validation errors.
var ErrInvalid = errors.New("invalid input")

// RequestMeta says where a request came from, for the audit log and the
// session record. It is personal data and is only stored sealed.
type RequestMeta struct {
	IP, UserAgent, RequestID string
}

// Keys is what identity needs from the keyring (core/crypto's Keyring).
type Keys interface {
	Seal(ctx context.Context, scope string, plaintext, associatedData []byte) ([]byte, error)
	Open(ctx context.Context, scope string, ciphertext, associatedData []byte) ([]byte, error)
	BlindIndex(ctx context.Context, scope, domain string, value []byte) ([]byte, error)
}

// Recorder writes audit events inside the transaction of the change.
type Recorder interface {
	Record(ctx context.Context, tx *store.Tx, ev Event) error
}

// Event is an identity event for the audit log.
type Event struct {
	Actor, Action, Target, Outcome string
	Meta                           RequestMeta
	// Details must hold no personal data.
	Details map[string]string
}

// Operator is a platform operator account.
type Operator struct {
	ID           string
	Email        string
	CreatedAt    time.Time
	LastSignInAt *time.Time
	Disabled     bool
}

// Session is a signed-in operator's server-side session.
type Session struct {
	// ID is a stable handle (hex SHA-256 of the token), never the token.
	ID         string
	OperatorID string
	Email      string
	// CSRFToken guards the session's state-changing forms.
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute expiry.
	ExpiresAt time.Time
}

type operatorRow struct {
	bun.BaseModel `bun:"table:operators"`
	ID            string     `bun:"id,pk"`
	EmailIndex    []byte     `bun:"email_index,notnull"`
	Email         []byte     `bun:"email,notnull"`
	PasswordHash  string     `bun:"password_hash,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
	LastSignInAt  *time.Time `bun:"last_sign_in_at"`
	Disabled      bool       `bun:"disabled,notnull"`
}

type sessionRow struct {
	bun.BaseModel `bun:"table:operator_sessions"`
	ID            string    `bun:"id,pk"`
	OperatorID    string    `bun:"operator_id,notnull"`
	CSRFToken     string    `bun:"csrf_token,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	LastSeenAt    time.Time `bun:"last_seen_at,notnull"`
	ExpiresAt     time.Time `bun:"expires_at,notnull"`
	Client        []byte    `bun:"client"`
}

// OperatorOptions tune Operators.
type OperatorOptions struct {
	// IdleTimeout ends a session unused this long (default 30 minutes).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after sign-in (default 12 hours).
	AbsoluteTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Hasher hashes passwords (default Argon2id with OWASPParams).
	Hasher *PasswordHasher
}

// Operators manages platform operator accounts and their sessions.
type Operators struct {
	db    *store.DB
	keys  Keys
	rec   Recorder
	opts  OperatorOptions
	dummy string // a hash verified for unknown e-mails, to even out timing
}

// NewOperators returns the operator account service.
func NewOperators(db *store.DB, keys Keys, rec Recorder, opts OperatorOptions) *Operators {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.AbsoluteTimeout <= 0 {
		opts.AbsoluteTimeout = 12 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hasher == nil {
		opts.Hasher = NewPasswordHasher(OWASPParams())
	}
	dummy, _ := opts.Hasher.Hash("plenum-dummy-password-for-timing")
	return &Operators{db: db, keys: keys, rec: rec, opts: opts, dummy: dummy}
}

func (o *Operators) now() time.Time { return o.opts.Now().UTC().Truncate(time.Microsecond) }

// normalizeEmail lower-cases and trims an address and checks it is one
// plain address of at most 254 bytes.
func normalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if len(e) == 0 || len(e) > 254 {
		return "", fmt.Errorf("%w: e-mail address must have 1 to 254 characters", ErrInvalid)
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		// The address itself stays out of the error: errors get logged.
		return "", fmt.Errorf("%w: not a plain e-mail address", ErrInvalid)
	}
	return e, nil
}

func (o *Operators) emailIndex(ctx context.Context, email string) ([]byte, error) {
	return o.keys.BlindIndex(ctx, platformScope, "operator.email", []byte(email))
}

func emailAD(id string) []byte { return []byte("operators.email:" + id) }

func (o *Operators) audit(ctx context.Context, tx bun.Tx, ev Event) error {
	stx, err := o.db.System().Scope(tx, platformScope)
	if err != nil {
		return err
	}
	return o.rec.Record(ctx, stx, ev)
}

// Create adds an operator account. actor names who asks, for the audit log.
func (o *Operators) Create(ctx context.Context, email, password, actor string) (*Operator, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := CheckOperatorPassword(password); err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("operator id: %w", err)
	}
	hash, err := o.opts.Hasher.Hash(password)
	if err != nil {
		return nil, err
	}
	idx, err := o.emailIndex(ctx, email)
	if err != nil {
		return nil, err
	}
	sealed, err := o.keys.Seal(ctx, platformScope, []byte(email), emailAD(id.String()))
	if err != nil {
		return nil, err
	}
	now := o.now()
	row := &operatorRow{ID: id.String(), EmailIndex: idx, Email: sealed, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = o.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("insert operator: %w", err)
		}
		return o.audit(ctx, tx, Event{Actor: actorOr(actor), Action: "operator.create", Target: "operator:" + row.ID, Outcome: "success"})
	})
	if err != nil {
		return nil, err
	}
	return &Operator{ID: row.ID, Email: email, CreatedAt: now}, nil
}

// Count returns the number of operator accounts.
func (o *Operators) Count(ctx context.Context) (int, error) {
	var n int
	err := o.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c, err := tx.NewSelect().Model((*operatorRow)(nil)).Count(ctx)
		n = int(c)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count operators: %w", err)
	}
	return n, nil
}

// SignIn checks an operator's e-mail and password and starts a session,
// returning the token for the browser's cookie. Every failure is
// ErrInvalidCredentials and takes about as long as a success.
func (o *Operators) SignIn(ctx context.Context, email, password string, meta RequestMeta) (string, *Session, error) {
	row := new(operatorRow)
	found := false
	if e, err := normalizeEmail(email); err == nil && len(password) <= 4*128 {
		idx, err := o.emailIndex(ctx, e)
		if err != nil {
			return "", nil, err
		}
		err = o.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewSelect().Model(row).Where("email_index = ?", idx).Scan(ctx)
		})
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, sql.ErrNoRows):
			return "", nil, fmt.Errorf("find operator: %w", err)
		}
	}
	hash := o.dummy
	if found {
		hash = row.PasswordHash
	}
	ok, rehash, err := o.opts.Hasher.Verify(hash, password)
	if err != nil && found {
		return "", nil, fmt.Errorf("operator %s: %w", row.ID, err)
	}
	if !found || !ok || row.Disabled {
		target := "operator:unknown"
		if found {
			target = "operator:" + row.ID
		}
		err := o.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return o.audit(ctx, tx, Event{Actor: "anonymous", Action: "operator.signin", Target: target, Outcome: "failure", Meta: meta})
		})
		if err != nil {
			return "", nil, err
		}
		return "", nil, ErrInvalidCredentials
	}
	emailPT, err := o.keys.Open(ctx, platformScope, row.Email, emailAD(row.ID))
	if err != nil {
		return "", nil, fmt.Errorf("open operator e-mail: %w", err)
	}
	token, sess, srow, err := o.newSession(ctx, row.ID, meta)
	if err != nil {
		return "", nil, err
	}
	sess.Email = string(emailPT)
	now := o.now()
	err = o.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(srow).Exec(ctx); err != nil {
			return fmt.Errorf("store session: %w", err)
		}
		q := tx.NewUpdate().Model(row).Set("last_sign_in_at = ?", now).Set("updated_at = ?", now)
		if rehash {
			if h, err := o.opts.Hasher.Hash(password); err == nil {
				q = q.Set("password_hash = ?", h)
			}
		}
		if _, err := q.WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update operator: %w", err)
		}
		return o.audit(ctx, tx, Event{Actor: "operator:" + row.ID, Action: "operator.signin", Target: "operator:" + row.ID, Outcome: "success", Meta: meta,
			Details: map[string]string{"session": sess.ID[:16]}})
	})
	if err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

func (o *Operators) newSession(ctx context.Context, operatorID string, meta RequestMeta) (string, *Session, *sessionRow, error) {
	tok, err := randomToken(32)
	if err != nil {
		return "", nil, nil, err
	}
	csrf, err := randomToken(32)
	if err != nil {
		return "", nil, nil, err
	}
	id := sessionID(tok)
	client, err := json.Marshal(map[string]string{"ip": meta.IP, "user_agent": meta.UserAgent})
	if err != nil {
		return "", nil, nil, err
	}
	sealed, err := o.keys.Seal(ctx, platformScope, client, []byte("operator_sessions.client:"+id))
	if err != nil {
		return "", nil, nil, err
	}
	now := o.now()
	row := &sessionRow{ID: id, OperatorID: operatorID, CSRFToken: csrf, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(o.opts.AbsoluteTimeout), Client: sealed}
	return tok, &Session{ID: id, OperatorID: operatorID, CSRFToken: csrf, CreatedAt: now, LastSeenAt: now, ExpiresAt: row.ExpiresAt}, row, nil
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Session returns the live session of token. It ends sessions idle longer
// than IdleTimeout or older than AbsoluteTimeout, and records activity at
// most once a minute.
func (o *Operators) Session(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrNoSession
	}
	id := sessionID(token)
	row := new(sessionRow)
	op := new(operatorRow)
	err := o.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
			return err
		}
		return tx.NewSelect().Model(op).Where("id = ?", row.OperatorID).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	now := o.now()
	if op.Disabled || !now.Before(row.ExpiresAt) || !now.Before(row.LastSeenAt.Add(o.opts.IdleTimeout)) {
		_ = o.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewDelete().Model(row).WherePK().Exec(ctx)
			return err
		})
		return nil, ErrNoSession
	}
	if now.Sub(row.LastSeenAt) >= time.Minute {
		err := o.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewUpdate().Model(row).Set("last_seen_at = ?", now).WherePK().Exec(ctx)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
		row.LastSeenAt = now
	}
	email, err := o.keys.Open(ctx, platformScope, op.Email, emailAD(op.ID))
	if err != nil {
		return nil, fmt.Errorf("open operator e-mail: %w", err)
	}
	return &Session{ID: row.ID, OperatorID: row.OperatorID, Email: string(email), CSRFToken: row.CSRFToken,
		CreatedAt: row.CreatedAt, LastSeenAt: row.LastSeenAt, ExpiresAt: row.ExpiresAt}, nil
}

// SignOut ends the session of token. Ending an unknown session is not an
// error.
func (o *Operators) SignOut(ctx context.Context, token string, meta RequestMeta) error {
	if token == "" || len(token) > 128 {
		return nil
	}
	id := sessionID(token)
	return o.db.System().Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(sessionRow)
		err := tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read session: %w", err)
		}
		if _, err := tx.NewDelete().Model(row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return o.audit(ctx, tx, Event{Actor: "operator:" + row.OperatorID, Action: "operator.signout", Target: "operator:" + row.OperatorID, Outcome: "success", Meta: meta})
	})
}

func actorOr(a string) string {
	if a == "" {
		return "system"
	}
	return a
}
