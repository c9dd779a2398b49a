package server

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/host/web"
)

// bindUnits: the admin pages for units, their weights and owners.
func (s *Server) bindUnits(g fiber.Router) {
	if s.deps.Units == nil {
		return
	}
	s.tenantRoute(g, fiber.MethodGet, "/admin/units", need(access.UnitsManage, "unit"), s.adminUnits)
	s.tenantRoute(g, fiber.MethodPost, "/admin/units", need(access.UnitsManage, "unit"), s.adminAddUnit)
	s.tenantRoute(g, fiber.MethodPost, "/admin/units/import", need(access.UnitsManage, "unit"), s.adminImportUnits)
	s.tenantRoute(g, fiber.MethodGet, "/admin/units.csv", need(access.UnitsManage, "unit"), s.adminExportUnits)
	s.tenantRoute(g, fiber.MethodPost, "/admin/units/:id", need(access.UnitsManage, "unit"), s.adminUnitAction)
}

// unitOwners returns each unit's owners with their addresses.
func (s *Server) unitOwners(c *fiber.Ctx) (map[string][]voting.Owner, map[string]string, error) {
	t := tenantOf(c)
	ctx := c.UserContext()
	ids, err := s.deps.Units.Owners(ctx, t.ID)
	if err != nil {
		return nil, nil, err
	}
	users, err := s.deps.Users.List(ctx, t.ID)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]identity.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	out := map[string][]voting.Owner{}
	emails := map[string]string{}
	for unit, us := range ids {
		for _, id := range us {
			u := byID[id]
			out[unit] = append(out[unit], voting.Owner{Email: u.Email, Name: u.Name})
			emails[u.Email] = id
		}
	}
	return out, emails, nil
}

func (s *Server) renderUnits(c *fiber.Ctx, status int, msg string, imported *web.ImportResult) error {
	units, err := s.deps.Units.List(c.UserContext(), tenantOf(c).ID)
	if err != nil {
		return err
	}
	owners, emails, err := s.unitOwners(c)
	if err != nil {
		return err
	}
	f := s.frame(c)
	f.Error = msg
	d := web.AdminUnitsData{Frame: f, Imported: imported}
	for _, u := range units {
		row := web.UnitRow{ID: u.ID, Label: u.Label, Weight: u.Weight.String()}
		for _, o := range owners[u.ID] {
			row.Owners = append(row.Owners, web.UnitOwner{UserID: emails[o.Email], Email: o.Email})
		}
		d.Units = append(d.Units, row)
	}
	return s.render(c, status, web.PageAdminUnits, d)
}

func (s *Server) adminUnits(c *fiber.Ctx) error { return s.renderUnits(c, fiber.StatusOK, "", nil) }

func unitError(err error) (string, bool) {
	switch {
	case errors.Is(err, voting.ErrExists):
		return "A unit with this label exists.", true
	case errors.Is(err, voting.ErrNotFound):
		return "No such unit.", true
	case errors.Is(err, voting.ErrInvalid):
		return errText(errors.New(trimPrefix(err.Error(), voting.ErrInvalid.Error()+": "))), true
	}
	return "", false
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func (s *Server) adminAddUnit(c *fiber.Ctx) error {
	label, weight := c.FormValue("label"), c.FormValue("weight")
	if len(label) > 400 || len(weight) > 100 {
		return s.renderUnits(c, fiber.StatusUnprocessableEntity, "A field is too long.", nil)
	}
	w, err := voting.ParseWeight(weight)
	if err == nil {
		_, err = s.deps.Units.Create(c.UserContext(), tenantOf(c).ID, actorOf(c), label, w)
	}
	if msg, ok := unitError(err); ok {
		return s.renderUnits(c, fiber.StatusUnprocessableEntity, msg, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/t/"+tenantOf(c).Slug+"/admin/units?done=unit", fiber.StatusSeeOther)
}

func (s *Server) adminUnitAction(c *fiber.Ctx) error {
	t := tenantOf(c)
	ctx := c.UserContext()
	id := c.Params("id")
	if len(id) > 64 {
		return fiber.ErrNotFound
	}
	var err error
	switch c.FormValue("op") {
	case "delete":
		err = s.deps.Units.Delete(ctx, t.ID, actorOf(c), id)
	case "update":
		var w voting.Weight
		if w, err = voting.ParseWeight(c.FormValue("weight")); err == nil {
			err = s.deps.Units.Update(ctx, t.ID, actorOf(c), id, c.FormValue("label"), w)
		}
	case "remove-owner":
		err = s.deps.Units.RemoveOwner(ctx, t.ID, actorOf(c), id, c.FormValue("user"))
	default:
		return errorf(fiber.StatusBadRequest, "Unknown action.")
	}
	if errors.Is(err, voting.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if msg, ok := unitError(err); ok {
		return s.renderUnits(c, fiber.StatusUnprocessableEntity, msg, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/units?done=unit", fiber.StatusSeeOther)
}

// adminImportUnits creates the units of a file (or updates their weight),
// invites owners who have no account yet as members, and records the
// ownerships. Problems are reported per line.
func (s *Server) adminImportUnits(c *fiber.Ctx) error {
	t := tenantOf(c)
	ctx := c.UserContext()
	fh, err := c.FormFile("csv")
	if err != nil {
		return s.renderUnits(c, fiber.StatusUnprocessableEntity, "Choose a CSV file to import.", nil)
	}
	if fh.Size > voting.MaxUnitBytes {
		return s.renderUnits(c, fiber.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d MiB.", voting.MaxUnitBytes>>20), nil)
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	rows, problems, err := voting.ParseUnitsCSV(f)
	if msg, ok := unitError(err); ok {
		return s.renderUnits(c, fiber.StatusUnprocessableEntity, msg, nil)
	}
	if err != nil {
		return err
	}
	existing, err := s.deps.Units.List(ctx, t.ID)
	if err != nil {
		return err
	}
	byLabel := map[string]voting.Unit{}
	for _, u := range existing {
		byLabel[u.Label] = u
	}
	_, emails, err := s.unitOwners(c)
	if err != nil {
		return err
	}
	users, err := s.deps.Users.List(ctx, t.ID)
	if err != nil {
		return err
	}
	for _, u := range users {
		emails[u.Email] = u.ID
	}
	res := &web.ImportResult{Errors: problems, Skipped: len(problems)}
	for _, r := range rows {
		u, ok := byLabel[r.Label]
		if ok {
			if u.Weight.String() != r.Weight.String() {
				err = s.deps.Units.Update(ctx, t.ID, actorOf(c), u.ID, r.Label, r.Weight)
			}
		} else {
			var nu *voting.Unit
			if nu, err = s.deps.Units.Create(ctx, t.ID, actorOf(c), r.Label, r.Weight); err == nil {
				u = *nu
			}
		}
		if err != nil {
			return err
		}
		res.Invited++
		for _, o := range r.Owners {
			id, known := emails[o.Email]
			if !known {
				var err error
				if id, err = s.invite(c, o.Email, o.Name, access.RoleMember); err != nil && id == "" {
					msg, ok := userError(err)
					if !ok {
						return err
					}
					res.Errors = append(res.Errors, fmt.Sprintf("line %d: %s", r.Line, msg))
					continue
				}
				emails[o.Email] = id
			}
			if err := s.deps.Units.AddOwner(ctx, t.ID, actorOf(c), u.ID, id); err != nil {
				return err
			}
		}
	}
	return s.renderUnits(c, fiber.StatusOK, "", res)
}

func (s *Server) adminExportUnits(c *fiber.Ctx) error {
	units, err := s.deps.Units.List(c.UserContext(), tenantOf(c).ID)
	if err != nil {
		return err
	}
	owners, _, err := s.unitOwners(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := voting.WriteUnitsCSV(&buf, units, owners); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="units.csv"`)
	return c.Send(buf.Bytes())
}
