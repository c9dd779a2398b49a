package identity

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
)

// Stage is how far a session has got through sign-in.
type Stage string

const (
	// StageMFA sessions have passed the password and must give a second
	// factor before anything else.
	StageMFA Stage = "mfa"
	// StageEnrol sessions must enrol a second factor the tenant requires
	// before anything else.
	StageEnrol Stage = "enrol"
	// StageFull sessions are signed in.
	StageFull Stage = "full"
)

// UserSession is a tenant user's server-side session.
type UserSession struct {
	// ID is a stable handle (hex SHA-256 of the token), never the token.
	ID        string
	TenantID  string
	UserID    string
	CSRFToken string
	Stage     Stage
	// Method says how the user signed in: "password", "password+totp",
	// "oidc", …
	Method     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// AuthAt is when the user last proved who they are (sign-in or
	// re-authentication); sensitive actions require it to be recent.
	AuthAt time.Time
	// MFAAt is when a second factor was last given, if ever.
	MFAAt *time.Time
}

// Recent reports whether the user proved who they are within d.
func (s *UserSession) Recent(now time.Time, d time.Duration) bool { return now.Sub(s.AuthAt) < d }

// SessionInfo is a session as shown to its user.
type SessionInfo struct {
	UserSession
	IP, UserAgent string
}

type userSessionRow struct {
	bun.BaseModel `bun:"table:user_sessions"`
	store.Owned
	ID          string     `bun:"id,pk"`
	UserID      string     `bun:"user_id,notnull"`
	CSRFToken   string     `bun:"csrf_token,notnull"`
	Stage       Stage      `bun:"stage,notnull"`
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	LastSeenAt  time.Time  `bun:"last_seen_at,notnull"`
	ExpiresAt   time.Time  `bun:"expires_at,notnull"`
	IdleSeconds int        `bun:"idle_seconds,notnull"`
	AuthAt      time.Time  `bun:"auth_at,notnull"`
	MFAAt       *time.Time `bun:"mfa_at"`
	Method      string     `bun:"method,notnull"`
	Client      []byte     `bun:"client"`
}

func (r *userSessionRow) session() *UserSession {
	return &UserSession{ID: r.ID, TenantID: r.TenantID, UserID: r.UserID, CSRFToken: r.CSRFToken, Stage: r.Stage, Method: r.Method,
		CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt, AuthAt: r.AuthAt, MFAAt: r.MFAAt}
}

type deviceRow struct {
	bun.BaseModel `bun:"table:user_devices"`
	store.Owned
	UserID      string    `bun:"user_id,pk"`
	Device      string    `bun:"device,pk"`
	FirstSeenAt time.Time `bun:"first_seen_at,notnull"`
}

func sessionClientAD(tenantID, id string) []byte {
	return []byte("user_sessions.client:" + tenantID + ":" + id)
}

// StartSession opens a session for a user who passed the password (or
// SSO) step. stage says whether a second factor is still owed. A session
// from a device the user has not used before sends them a notice.
func (u *Users) StartSession(ctx context.Context, usr *User, stage Stage, method string, meta RequestMeta) (string, *UserSession, error) {
	settings, err := u.Settings(ctx, usr.TenantID)
	if err != nil {
		return "", nil, err
	}
	now := u.now()
	tok, row, err := u.newSessionRow(ctx, usr.TenantID, usr.ID, stage, method, settings, meta, now, now, nil)
	if err != nil {
		return "", nil, err
	}
	device, err := u.keys.BlindIndex(ctx, usr.TenantID, "user.device", []byte(meta.UserAgent))
	if err != nil {
		return "", nil, err
	}
	dev := hex.EncodeToString(device[:16])
	newDevice := false
	err = u.scoped(ctx, usr.TenantID, true, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.Insert(ctx, row); err != nil {
			return fmt.Errorf("store session: %w", err)
		}
		res, err := tx.NewInsert(&deviceRow{UserID: usr.ID, Device: dev, FirstSeenAt: now}).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("record device: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			// A new device, unless it is the user's very first.
			known, err := tx.Select((*deviceRow)(nil)).Where("user_id = ?", usr.ID).Count(ctx)
			if err != nil {
				return fmt.Errorf("count devices: %w", err)
			}
			newDevice = known > 1
		}
		if stage == StageFull {
			if _, err := tx.Update((*userRow)(nil)).Set("last_sign_in_at = ?", now).Where("id = ?", usr.ID).Exec(ctx); err != nil {
				return fmt.Errorf("update user: %w", err)
			}
		}
		return u.rec.Record(ctx, tx, Event{Actor: "user:" + usr.ID, Action: "user.signin", Target: "user:" + usr.ID, Outcome: "success", Meta: meta,
			Details: map[string]string{"session": row.ID[:16], "method": method, "stage": string(stage)}})
	})
	if err != nil {
		return "", nil, err
	}
	if newDevice {
		u.inform(ctx, Notice{Kind: NoticeNewDevice, TenantID: usr.TenantID, UserID: usr.ID, Email: usr.Email, Name: usr.Name, Meta: meta})
	}
	return tok, row.session(), nil
}

func (u *Users) newSessionRow(ctx context.Context, tenantID, userID string, stage Stage, method string, settings Settings, meta RequestMeta, created, authAt time.Time, mfaAt *time.Time) (string, *userSessionRow, error) {
	tok, err := randomToken(32)
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomToken(32)
	if err != nil {
		return "", nil, err
	}
	id := sessionID(tok)
	client, err := json.Marshal(map[string]string{"ip": meta.IP, "user_agent": meta.UserAgent})
	if err != nil {
		return "", nil, err
	}
	sealed, err := u.keys.Seal(ctx, tenantID, client, sessionClientAD(tenantID, id))
	if err != nil {
		return "", nil, err
	}
	now := u.now()
	idle := time.Duration(settings.IdleTimeout)
	expires := created.Add(time.Duration(settings.AbsoluteTimeout))
	if stage != StageFull {
		// A half-signed-in session gets ten minutes to finish.
		idle = min(idle, 10*time.Minute)
	}
	row := &userSessionRow{ID: id, UserID: userID, CSRFToken: csrf, Stage: stage, CreatedAt: created, LastSeenAt: now,
		ExpiresAt: expires, IdleSeconds: int(idle / time.Second), AuthAt: authAt, MFAAt: mfaAt, Method: method, Client: sealed}
	row.TenantID = tenantID
	return tok, row, nil
}

// Session returns the live session of token in the tenant. It ends
// sessions idle too long or past their absolute expiry, and records
// activity at most once a minute.
func (u *Users) Session(ctx context.Context, tenantID, token string) (*UserSession, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrNoSession
	}
	id := sessionID(token)
	row, ur := new(userSessionRow), new(userRow)
	err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.Select(row).Where("id = ?", id).Scan(ctx); err != nil {
			return err
		}
		return tx.Select(ur).Column("id", "status").Where("id = ?", row.UserID).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	now := u.now()
	idle := time.Duration(row.IdleSeconds) * time.Second
	if ur.Status != Active || !now.Before(row.ExpiresAt) || !now.Before(row.LastSeenAt.Add(idle)) {
		_ = u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Delete((*userSessionRow)(nil)).Where("id = ?", id).Exec(ctx)
			return err
		})
		return nil, ErrNoSession
	}
	if now.Sub(row.LastSeenAt) >= time.Minute {
		err := u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Update((*userSessionRow)(nil)).Set("last_seen_at = ?", now).Where("id = ?", id).Exec(ctx)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
		row.LastSeenAt = now
	}
	return row.session(), nil
}

// Renew replaces the session of token by a new one (new token, new id,
// new CSRF token) at stage, as after a second factor, a
// re-authentication or a change of privilege, so that a token seen
// before the change is worth nothing after it. mfa marks a second factor
// given now; reauth marks the user's identity proven now.
func (u *Users) Renew(ctx context.Context, tenantID, token string, stage Stage, method string, mfa, reauth bool, meta RequestMeta) (string, *UserSession, error) {
	old, err := u.Session(ctx, tenantID, token)
	if err != nil {
		return "", nil, err
	}
	settings, err := u.Settings(ctx, tenantID)
	if err != nil {
		return "", nil, err
	}
	now := u.now()
	authAt, mfaAt := old.AuthAt, old.MFAAt
	if reauth {
		authAt = now
	}
	if mfa {
		mfaAt = &now
	}
	if method == "" {
		method = old.Method
	}
	created := old.CreatedAt
	if old.Stage != StageFull && stage == StageFull {
		created = now // the absolute timeout runs from full sign-in
	}
	tok, row, err := u.newSessionRow(ctx, tenantID, old.UserID, stage, method, settings, meta, created, authAt, mfaAt)
	if err != nil {
		return "", nil, err
	}
	if old.Stage == StageFull && old.ExpiresAt.Before(row.ExpiresAt) {
		// A renewal never extends a session: one shortened (temporary
		// access through a weak factor) stays short.
		row.ExpiresAt = old.ExpiresAt
	}
	err = u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*userSessionRow)(nil)).Where("id = ?", old.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end old session: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNoSession // renewed or ended concurrently
		}
		if err := tx.Insert(ctx, row); err != nil {
			return fmt.Errorf("store session: %w", err)
		}
		if stage == StageFull && old.Stage != StageFull {
			if _, err := tx.Update((*userRow)(nil)).Set("last_sign_in_at = ?", now).Where("id = ?", old.UserID).Exec(ctx); err != nil {
				return fmt.Errorf("update user: %w", err)
			}
		}
		return u.rec.Record(ctx, tx, Event{Actor: "user:" + old.UserID, Action: "session.renew", Target: "user:" + old.UserID, Outcome: "success", Meta: meta,
			Details: map[string]string{"from": old.ID[:16], "to": row.ID[:16], "stage": string(stage), "method": method}})
	})
	if err != nil {
		return "", nil, err
	}
	return tok, row.session(), nil
}

// SignOut ends the session of token. Ending an unknown session is not an
// error.
func (u *Users) SignOut(ctx context.Context, tenantID, token string, meta RequestMeta) error {
	if token == "" || len(token) > 128 {
		return nil
	}
	id := sessionID(token)
	return u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		row := new(userSessionRow)
		err := tx.Select(row).Where("id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read session: %w", err)
		}
		if _, err := tx.Delete((*userSessionRow)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return u.rec.Record(ctx, tx, Event{Actor: "user:" + row.UserID, Action: "user.signout", Target: "user:" + row.UserID, Outcome: "success", Meta: meta})
	})
}

// Sessions lists a user's live sessions, newest first, with where they
// came from.
func (u *Users) Sessions(ctx context.Context, tenantID, userID string) ([]SessionInfo, error) {
	var rows []userSessionRow
	now := u.now()
	err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select(&rows).Where("user_id = ?", userID).Where("expires_at > ?", now).OrderExpr("created_at DESC").Limit(200).Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]SessionInfo, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if !now.Before(r.LastSeenAt.Add(time.Duration(r.IdleSeconds) * time.Second)) {
			continue
		}
		info := SessionInfo{UserSession: *r.session()}
		if b, err := u.keys.Open(ctx, tenantID, r.Client, sessionClientAD(tenantID, r.ID)); err == nil {
			var c map[string]string
			if json.Unmarshal(b, &c) == nil {
				info.IP, info.UserAgent = c["ip"], c["user_agent"]
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// SessionCounts returns how many live sessions each user of the tenant
// has, in one query.
func (u *Users) SessionCounts(ctx context.Context, tenantID string) (map[string]int, error) {
	var rows []struct {
		UserID      string    `bun:"user_id"`
		LastSeenAt  time.Time `bun:"last_seen_at"`
		IdleSeconds int       `bun:"idle_seconds"`
	}
	now := u.now()
	err := u.scoped(ctx, tenantID, false, func(ctx context.Context, tx *store.Tx) error {
		return tx.Select((*userSessionRow)(nil)).Column("user_id", "last_seen_at", "idle_seconds").Where("expires_at > ?", now).Scan(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("count sessions: %w", err)
	}
	out := make(map[string]int)
	for _, r := range rows {
		if now.Before(r.LastSeenAt.Add(time.Duration(r.IdleSeconds) * time.Second)) {
			out[r.UserID]++
		}
	}
	return out, nil
}

// RevokeSession ends one session of userID, named by its id.
func (u *Users) RevokeSession(ctx context.Context, tenantID, userID, sessionID, actor string, meta RequestMeta) error {
	return u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*userSessionRow)(nil)).Where("id = ?", sessionID).Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNoSession
		}
		return u.rec.Record(ctx, tx, Event{Actor: actor, Action: "session.revoke", Target: "user:" + userID, Outcome: "success", Meta: meta,
			Details: map[string]string{"session": shortID(sessionID)}})
	})
}

// RevokeAll ends every session of userID except keep (which may be "").
func (u *Users) RevokeAll(ctx context.Context, tenantID, userID, keep, actor string, meta RequestMeta) (int, error) {
	var n int64
	err := u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Delete((*userSessionRow)(nil)).Where("user_id = ?", userID).Where("id <> ?", keep).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		return u.rec.Record(ctx, tx, Event{Actor: actor, Action: "session.revoke_all", Target: "user:" + userID, Outcome: "success", Meta: meta,
			Details: map[string]string{"count": fmt.Sprint(n)}})
	})
	return int(n), err
}

func shortID(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:8])
}

// Shorten ends the session by until at the latest: access granted
// through a weak factor (an SMS code) is temporary.
func (u *Users) Shorten(ctx context.Context, tenantID, sessionID string, until time.Time) error {
	return u.scoped(ctx, tenantID, true, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Update((*userSessionRow)(nil)).Set("expires_at = ?", until.UTC().Truncate(time.Microsecond)).
			Where("id = ?", sessionID).Where("expires_at > ?", until).Exec(ctx)
		if err != nil {
			return fmt.Errorf("shorten session: %w", err)
		}
		return nil
	})
}
