package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/audit"
	"github.com/plenum-vote/plenum/core/voting"
)

// memberExport is what a member downloads of their own data (the right
// to data portability): a documented JSON document.
type memberExport struct {
	Format      string            `json:"format"`
	ExportedAt  time.Time         `json:"exported_at"`
	Association string            `json:"association"`
	Account     exportAccount     `json:"account"`
	Roles       []string          `json:"roles"`
	Sessions    []exportSession   `json:"sessions"`
	Units       []exportUnit      `json:"units"`
	Votes       []voting.CastVote `json:"votes"`
	Proxies     []exportProxy     `json:"proxies"`
	// Activity is the audit events the member caused, as ECS NDJSON
	// lines, personal details included (they are the member's own).
	Activity []json.RawMessage `json:"activity"`
}

type exportAccount struct {
	ID, Email, Name, Status string
	Phone                   string     `json:",omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	LastSignInAt            *time.Time `json:"last_sign_in_at,omitempty"`
}

type exportSession struct {
	Method                string
	IP, UserAgent         string
	CreatedAt, LastSeenAt time.Time
	ExpiresAt             time.Time
}

type exportUnit struct{ Label, Weight string }

type exportProxy struct {
	Unit, Role, Ballot, Meeting string
	Since                       time.Time
}

// accountExport sends the signed-in member their own data as a JSON
// download; the export is audited.
func (s *Server) accountExport(c *fiber.Ctx) error {
	t, u := tenantOf(c), userOf(c)
	ctx := c.UserContext()
	// It holds addresses, phone and sign-in history: a stolen session
	// alone must not be enough to take it.
	if !userSessionOf(c).Recent(time.Now(), reauthWindow) {
		return s.needReauth(c, "/account/export")
	}
	d := memberExport{Format: "plenum-member-export/1", ExportedAt: time.Now().UTC(), Association: t.Name,
		Account: exportAccount{ID: u.ID, Email: u.Email, Name: u.Name, Status: string(u.Status), CreatedAt: u.CreatedAt, LastSignInAt: u.LastSignInAt}}
	if phone, err := s.deps.Users.Phone(ctx, t.ID, u.ID); err == nil {
		d.Account.Phone = phone
	}
	var err error
	if d.Roles, err = s.deps.Access.RolesOf(ctx, t.ID, u.ID); err != nil {
		return err
	}
	sessions, err := s.deps.Users.Sessions(ctx, t.ID, u.ID)
	if err != nil {
		return err
	}
	for _, se := range sessions {
		d.Sessions = append(d.Sessions, exportSession{Method: se.Method, IP: se.IP, UserAgent: se.UserAgent, CreatedAt: se.CreatedAt, LastSeenAt: se.LastSeenAt, ExpiresAt: se.ExpiresAt})
	}
	if s.deps.Units != nil {
		units, err := s.deps.Units.UnitsOf(ctx, t.ID, u.ID)
		if err != nil {
			return err
		}
		labels := map[string]string{}
		for _, un := range units {
			d.Units = append(d.Units, exportUnit{Label: un.Label, Weight: un.Weight.String()})
			labels[un.ID] = un.Label
		}
		if s.deps.Ballots != nil {
			if d.Votes, err = s.deps.Ballots.VotesBy(ctx, t.ID, u.ID); err != nil {
				return err
			}
			proxies, err := s.deps.Ballots.Proxies(ctx, t.ID, u.ID)
			if err != nil {
				return err
			}
			for _, p := range proxies {
				role := "holder"
				if p.Grantor == u.ID {
					role = "grantor"
				}
				d.Proxies = append(d.Proxies, exportProxy{Unit: labels[p.UnitID], Role: role, Ballot: p.BallotID, Meeting: p.Meeting, Since: p.CreatedAt})
			}
		}
	}
	if s.deps.Audit != nil {
		var buf bytes.Buffer
		if _, err := s.deps.Audit.ExportECS(ctx, &buf, audit.ExportOptions{TenantID: t.ID, Actor: "user:" + u.ID, IncludePersonal: true}); err != nil {
			return err
		}
		for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			if len(line) > 0 {
				d.Activity = append(d.Activity, json.RawMessage(line))
			}
		}
		if err := s.recordExport(ctx, t.ID, u.ID, len(d.Activity)); err != nil {
			return err
		}
	}
	body, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode export: %w", err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="my-data-`+t.Slug+`.json"`)
	return c.Send(body)
}

// recordExport audits a member's export of their own data.
func (s *Server) recordExport(ctx context.Context, tenantID, userID string, events int) error {
	return s.deps.Audit.Record(ctx, tenantID, audit.Event{Actor: "user:" + userID, Action: "user.export", Target: "user:" + userID,
		Outcome: audit.Success, Details: map[string]string{"activity_events": fmt.Sprint(events)}})
}
