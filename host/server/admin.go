package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/plenum-vote/plenum/core/access"
	"github.com/plenum-vote/plenum/core/identity"
	"github.com/plenum-vote/plenum/host/web"
)

// bindAdmin: the tenant admin pages for users, roles, the CEL policy and
// security settings. Each route names its permission.
func (s *Server) bindAdmin(g fiber.Router) {
	s.tenantRoute(g, fiber.MethodGet, "/admin", need(access.UsersRead, "user"), func(c *fiber.Ctx) error {
		return c.Redirect("/t/"+tenantOf(c).Slug+"/admin/users", fiber.StatusSeeOther)
	})
	s.tenantRoute(g, fiber.MethodGet, "/admin/users", need(access.UsersRead, "user"), s.adminUsers)
	s.tenantRoute(g, fiber.MethodPost, "/admin/users/invite", need(access.UsersManage, "user"), s.adminInvite)
	s.tenantRoute(g, fiber.MethodPost, "/admin/users/import", need(access.UsersManage, "user"), s.adminImport)
	s.tenantRoute(g, fiber.MethodPost, "/admin/users/:id", need(access.UsersManage, "user"), s.adminUserAction)
	s.tenantRoute(g, fiber.MethodPost, "/admin/users/:id/roles", need(access.RolesManage, "user"), s.adminUserRoles)
	s.tenantRoute(g, fiber.MethodGet, "/admin/roles", need(access.UsersRead, "role"), s.adminRoles)
	s.tenantRoute(g, fiber.MethodPost, "/admin/roles", need(access.RolesManage, "role"), s.adminSaveRole)
	s.tenantRoute(g, fiber.MethodGet, "/admin/policy", need(access.UsersRead, "policy"), s.adminPolicy)
	s.tenantRoute(g, fiber.MethodPost, "/admin/policy", need(access.PoliciesManage, "policy"), s.adminSavePolicy)
	s.tenantRoute(g, fiber.MethodPost, "/admin/policy/check", need(access.PoliciesManage, "policy"), s.adminCheckPolicy)
	s.tenantRoute(g, fiber.MethodPost, "/admin/policy/explain", need(access.UsersRead, "policy"), s.adminExplain)
	s.tenantRoute(g, fiber.MethodPost, "/admin/policy/rollback", need(access.PoliciesManage, "policy"), s.adminRollback)
	s.tenantRoute(g, fiber.MethodGet, "/admin/security", need(access.UsersRead, "settings"), s.adminSecurity)
	s.tenantRoute(g, fiber.MethodPost, "/admin/security", need(access.SettingsManage, "settings"), s.adminSaveSecurity)
}

func actorOf(c *fiber.Ctx) string { return "user:" + userOf(c).ID }

func (s *Server) adminUsersData(c *fiber.Ctx, msg string, imported *web.ImportResult) (web.AdminUsersData, error) {
	t := tenantOf(c)
	ctx := c.UserContext()
	users, err := s.deps.Users.List(ctx, t.ID)
	if err != nil {
		return web.AdminUsersData{}, err
	}
	locks, err := s.deps.Users.Locks(ctx, t.ID)
	if err != nil {
		return web.AdminUsersData{}, err
	}
	lockedUntil := map[string]time.Time{}
	for _, l := range locks {
		lockedUntil[l.UserID] = l.LockedUntil
	}
	roles, err := s.deps.Access.Roles(ctx, t.ID)
	if err != nil {
		return web.AdminUsersData{}, err
	}
	f := s.frame(c)
	f.Error = msg
	d := web.AdminUsersData{Frame: f, Imported: imported, CanManage: s.can(c, access.UsersManage, "user")}
	for _, r := range roles {
		d.Roles = append(d.Roles, r.Name)
	}
	// Three queries for the whole list, not three per user.
	held, err := s.deps.Access.Assignments(ctx, t.ID)
	if err != nil {
		return d, err
	}
	factors, err := s.deps.MFA.AllFactors(ctx, t.ID)
	if err != nil {
		return d, err
	}
	sessions, err := s.deps.Users.SessionCounts(ctx, t.ID)
	if err != nil {
		return d, err
	}
	for _, u := range users {
		until, locked := lockedUntil[u.ID]
		d.Users = append(d.Users, web.UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Status: string(u.Status), Roles: held[u.ID],
			LastSignIn: u.LastSignInAt, Locked: locked, LockedUntil: until, MFA: factors[u.ID].Enrolled(), Sessions: sessions[u.ID]})
	}
	return d, nil
}

func (s *Server) adminUsers(c *fiber.Ctx) error {
	d, err := s.adminUsersData(c, "", nil)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, web.PageAdminUsers, d)
}

func (s *Server) adminUsersError(c *fiber.Ctx, status int, msg string) error {
	d, err := s.adminUsersData(c, msg, nil)
	if err != nil {
		return err
	}
	return s.render(c, status, web.PageAdminUsers, d)
}

// inviteOne invites one person and grants the role, as one step seen
// from the admin: a role the tenant lacks is refused before anyone is
// invited.
func (s *Server) inviteOne(c *fiber.Ctx, email, name, role string) error {
	_, err := s.invite(c, email, name, role)
	return err
}

// invite is inviteOne returning the invited user's id (also when the
// account was made but its e-mail failed).
func (s *Server) invite(c *fiber.Ctx, email, name, role string) (string, error) {
	t := tenantOf(c)
	ctx := c.UserContext()
	if role == "" {
		role = "member"
	}
	r, ok := s.role(c, role)
	if !ok {
		return "", fmt.Errorf("%w: the association has no role %q", identity.ErrInvalid, role)
	}
	if missing := s.notHeld(c, r.Permissions); len(missing) > 0 {
		return "", fmt.Errorf("%w: you cannot invite someone as %s, which carries permissions you do not hold (%s)", identity.ErrInvalid, role, strings.Join(missing, ", "))
	}
	u, _, err := s.deps.Users.Invite(ctx, t.ID, actorOf(c), email, name, s.meta(c))
	if err != nil && u == nil {
		return "", err
	}
	if aerr := s.deps.Access.Assign(ctx, t.ID, actorOf(c), u.ID, role); aerr != nil {
		return u.ID, aerr
	}
	return u.ID, err
}

// role returns the tenant's role called name.
func (s *Server) role(c *fiber.Ctx, name string) (access.Role, bool) {
	roles, err := s.deps.Access.Roles(c.UserContext(), tenantOf(c).ID)
	if err != nil {
		return access.Role{}, false
	}
	i := slices.IndexFunc(roles, func(r access.Role) bool { return r.Name == name })
	if i < 0 {
		return access.Role{}, false
	}
	return roles[i], true
}

// outranks reports whether the target user holds a permission the acting
// user does not: then the actor may not disable them, reset their second
// factor or take their roles.
func (s *Server) outranks(c *fiber.Ctx, targetID string) (bool, error) {
	held, err := s.deps.Access.RolesOf(c.UserContext(), tenantOf(c).ID, targetID)
	if err != nil {
		return false, err
	}
	for _, name := range held {
		if r, ok := s.role(c, name); ok && len(s.notHeld(c, r.Permissions)) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// userError turns a validation error into a message for the form, and
// reports false for errors that are the system's.
func userError(err error) (string, bool) {
	switch {
	case errors.Is(err, identity.ErrExists):
		return "That address already has an account.", true
	case errors.Is(err, access.ErrUnknownRole):
		return "The association has no such role.", true
	case errors.Is(err, identity.ErrInvalid), errors.Is(err, access.ErrInvalidRole), errors.Is(err, access.ErrBuiltinRole):
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return errText(errors.New(msg)), true
	}
	return "", false
}

func (s *Server) adminInvite(c *fiber.Ctx) error {
	email, name, role := c.FormValue("email"), c.FormValue("name"), c.FormValue("role")
	if len(email) > 254 || len(name) > 800 || len(role) > 40 {
		return s.adminUsersError(c, fiber.StatusUnprocessableEntity, "A field is too long.")
	}
	if err := s.inviteOne(c, email, name, role); err != nil {
		if msg, ok := userError(err); ok {
			return s.adminUsersError(c, fiber.StatusUnprocessableEntity, msg)
		}
		return err
	}
	return c.Redirect("/t/"+tenantOf(c).Slug+"/admin/users?done=invited", fiber.StatusSeeOther)
}

func (s *Server) adminImport(c *fiber.Ctx) error {
	fh, err := c.FormFile("csv")
	if err != nil {
		return s.adminUsersError(c, fiber.StatusUnprocessableEntity, "Choose a CSV file to import.")
	}
	if fh.Size > identity.MaxImportBytes {
		return s.adminUsersError(c, fiber.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d KiB.", identity.MaxImportBytes>>10))
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	rows, problems, err := identity.ParseInvitees(f)
	if err != nil {
		if msg, ok := userError(err); ok {
			return s.adminUsersError(c, fiber.StatusUnprocessableEntity, msg)
		}
		return err
	}
	res := &web.ImportResult{Errors: problems, Skipped: len(problems)}
	for _, r := range rows {
		if err := s.inviteOne(c, r.Email, r.Name, r.Role); err != nil {
			msg, ok := userError(err)
			if !ok {
				return err
			}
			res.Skipped++
			res.Errors = append(res.Errors, fmt.Sprintf("line %d: %s", r.Line, msg))
			continue
		}
		res.Invited++
	}
	d, err := s.adminUsersData(c, "", res)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, web.PageAdminUsers, d)
}

// targetUser returns the user named in the path, 404 for ids of other
// tenants or none.
func (s *Server) targetUser(c *fiber.Ctx) (*identity.User, error) {
	id := c.Params("id")
	if len(id) > 64 {
		return nil, fiber.ErrNotFound
	}
	u, err := s.deps.Users.Get(c.UserContext(), tenantOf(c).ID, id)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, fiber.ErrNotFound
	}
	return u, err
}

func (s *Server) adminUserAction(c *fiber.Ctx) error {
	t := tenantOf(c)
	ctx := c.UserContext()
	target, err := s.targetUser(c)
	if err != nil {
		return err
	}
	meta := s.meta(c)
	if op := c.FormValue("op"); op == "disable" || op == "reset-mfa" || op == "signout-all" || op == "erase" {
		if up, err := s.outranks(c, target.ID); err != nil || up {
			if err != nil {
				return err
			}
			return s.adminUsersError(c, fiber.StatusForbidden, "This user holds permissions you do not have; someone who holds them can do this.")
		}
	}
	switch c.FormValue("op") {
	case "disable":
		if target.ID == userOf(c).ID {
			return s.adminUsersError(c, fiber.StatusUnprocessableEntity, "You cannot disable your own account.")
		}
		if last, err := s.lastOwner(c, target.ID); err != nil || last {
			if err != nil {
				return err
			}
			return s.adminUsersError(c, fiber.StatusUnprocessableEntity, "The association must keep at least one active owner: make someone else owner first.")
		}
		err = s.deps.Users.SetDisabled(ctx, t.ID, actorOf(c), target.ID, true, meta)
	case "erase":
		if s.deps.Eraser == nil {
			return errorf(fiber.StatusBadRequest, "Unknown action.")
		}
		if target.ID == userOf(c).ID {
			return s.adminUsersError(c, fiber.StatusUnprocessableEntity, "You cannot erase your own account here.")
		}
		if !userSessionOf(c).Recent(time.Now(), reauthWindow) {
			return s.needReauth(c, "/admin/users")
		}
		if last, err := s.lastOwner(c, target.ID); err != nil || last {
			if err != nil {
				return err
			}
			return s.adminUsersError(c, fiber.StatusUnprocessableEntity, "The association must keep at least one active owner: make someone else owner first.")
		}
		if err = s.deps.Eraser.EraseUser(ctx, t.ID, actorOf(c), target.ID); err == nil {
			return c.Redirect("/t/"+t.Slug+"/admin/users?done=erased", fiber.StatusSeeOther)
		}
	case "enable":
		err = s.deps.Users.SetDisabled(ctx, t.ID, actorOf(c), target.ID, false, meta)
	case "unlock":
		err = s.deps.Users.Unlock(ctx, t.ID, actorOf(c), target.ID, meta)
	case "signout-all":
		keep := ""
		if target.ID == userOf(c).ID {
			keep = userSessionOf(c).ID
		}
		_, err = s.deps.Users.RevokeAll(ctx, t.ID, target.ID, keep, actorOf(c), meta)
	case "reset-mfa":
		if !userSessionOf(c).Recent(time.Now(), reauthWindow) {
			return s.needReauth(c, "/admin/users")
		}
		if err = s.deps.MFA.Reset(ctx, t.ID, target.ID, actorOf(c)); err == nil {
			_, err = s.deps.Users.RevokeAll(ctx, t.ID, target.ID, "", actorOf(c), meta)
		}
	default:
		return errorf(fiber.StatusBadRequest, "Unknown action.")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/users?done=user", fiber.StatusSeeOther)
}

func (s *Server) adminUserRoles(c *fiber.Ctx) error {
	t := tenantOf(c)
	ctx := c.UserContext()
	target, err := s.targetUser(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	switch c.FormValue("op") {
	case "assign":
		// Least privilege: nobody hands out (to others or to themselves)
		// a role that carries a permission they do not hold.
		roles, rerr := s.deps.Access.Roles(ctx, t.ID)
		if rerr != nil {
			return rerr
		}
		if i := slices.IndexFunc(roles, func(r access.Role) bool { return r.Name == role }); i >= 0 {
			if missing := s.notHeld(c, roles[i].Permissions); len(missing) > 0 {
				return s.adminUsersError(c, fiber.StatusForbidden, "You cannot grant a role with permissions you do not hold yourself: "+strings.Join(missing, ", ")+".")
			}
		}
		err = s.deps.Access.Assign(ctx, t.ID, actorOf(c), target.ID, role)
	case "unassign":
		if r, ok := s.role(c, role); ok {
			if missing := s.notHeld(c, r.Permissions); len(missing) > 0 {
				return s.adminUsersError(c, fiber.StatusForbidden, "You cannot take a role with permissions you do not hold yourself: "+strings.Join(missing, ", ")+".")
			}
		}
		if role == access.RoleOwner && target.ID == userOf(c).ID {
			return s.adminUsersError(c, fiber.StatusUnprocessableEntity, "You cannot take the owner role from yourself; another owner can.")
		}
		if role == access.RoleOwner {
			if last, err := s.lastOwner(c, target.ID); err != nil || last {
				if err != nil {
					return err
				}
				return s.adminUsersError(c, fiber.StatusUnprocessableEntity, "The association must keep at least one owner: make someone else owner first.")
			}
		}
		err = s.deps.Access.Unassign(ctx, t.ID, actorOf(c), target.ID, role)
		if errors.Is(err, access.ErrNotFound) {
			err = nil
		}
	default:
		return errorf(fiber.StatusBadRequest, "Unknown action.")
	}
	if err != nil {
		if msg, ok := userError(err); ok {
			return s.adminUsersError(c, fiber.StatusUnprocessableEntity, msg)
		}
		return err
	}
	// A change of privilege: the target's sessions start over.
	if _, err := s.deps.Users.RevokeAll(ctx, t.ID, target.ID, userSessionOf(c).ID, actorOf(c), s.meta(c)); err != nil {
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/users?done=user", fiber.StatusSeeOther)
}

// lastOwner reports whether userID is the tenant's only active owner, who
// must not lose the role or the account: nobody could manage the
// association afterwards.
func (s *Server) lastOwner(c *fiber.Ctx, userID string) (bool, error) {
	ctx := c.UserContext()
	t := tenantOf(c)
	owners, err := s.deps.Access.Holders(ctx, t.ID, access.RoleOwner)
	if err != nil {
		return false, err
	}
	if !slices.Contains(owners, userID) {
		return false, nil
	}
	active := 0
	for _, id := range owners {
		if u, err := s.deps.Users.Get(ctx, t.ID, id); err == nil && u.Status == identity.Active {
			active++
		}
	}
	return active <= 1, nil
}

func (s *Server) renderRoles(c *fiber.Ctx, status int, msg string) error {
	t := tenantOf(c)
	roles, err := s.deps.Access.Roles(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	f := s.frame(c)
	f.Error = msg
	d := web.AdminRolesData{Frame: f, CanManage: s.can(c, access.RolesManage, "role")}
	for _, p := range access.Permissions() {
		d.Permissions = append(d.Permissions, string(p))
	}
	for _, r := range roles {
		row := web.RoleRow{Name: r.Name, Description: r.Description, BuiltIn: r.BuiltIn, Permissions: map[string]bool{}}
		for _, p := range r.Permissions {
			row.Permissions[string(p)] = true
		}
		d.Roles = append(d.Roles, row)
	}
	return s.render(c, status, web.PageAdminRoles, d)
}

func (s *Server) adminRoles(c *fiber.Ctx) error { return s.renderRoles(c, fiber.StatusOK, "") }

func (s *Server) adminSaveRole(c *fiber.Ctx) error {
	t := tenantOf(c)
	name, desc, from := c.FormValue("name"), c.FormValue("description"), c.FormValue("copy")
	if len(name) > 40 || len(desc) > 800 || len(from) > 40 {
		return s.renderRoles(c, fiber.StatusUnprocessableEntity, "A field is too long.")
	}
	var perms []access.Permission
	args := c.Request().PostArgs()
	if form, err := c.MultipartForm(); err == nil {
		for _, v := range form.Value["perm"] {
			perms = append(perms, access.Permission(v))
		}
	} else {
		for _, v := range args.PeekMulti("perm") {
			perms = append(perms, access.Permission(v))
		}
	}
	if from != "" {
		roles, err := s.deps.Access.Roles(c.UserContext(), t.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(roles, func(r access.Role) bool { return r.Name == from })
		if i < 0 {
			return s.renderRoles(c, fiber.StatusUnprocessableEntity, "There is no role to copy by that name.")
		}
		perms = append(perms, roles[i].Permissions...)
	}
	slices.Sort(perms)
	perms = slices.Compact(perms)
	for _, p := range perms {
		if !p.Valid() {
			return s.renderRoles(c, fiber.StatusUnprocessableEntity, "There is no permission called “"+truncate(string(p), 60)+"”.")
		}
	}
	if missing := s.notHeld(c, perms); len(missing) > 0 {
		return s.renderRoles(c, fiber.StatusForbidden, "You cannot give a role permissions you do not hold yourself: "+strings.Join(missing, ", ")+".")
	}
	err := s.deps.Access.SaveRole(c.UserContext(), t.ID, actorOf(c), access.Role{Name: name, Description: desc, Permissions: perms})
	if err != nil {
		if msg, ok := userError(err); ok {
			return s.renderRoles(c, fiber.StatusUnprocessableEntity, msg)
		}
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/roles?done=role", fiber.StatusSeeOther)
}

// notHeld returns the permissions of perms that the signed-in user does
// not hold.
func (s *Server) notHeld(c *fiber.Ctx, perms []access.Permission) []string {
	var out []string
	for _, p := range perms {
		if !s.can(c, p, "role") {
			out = append(out, string(p))
		}
	}
	return out
}

// errText is a validation error's message for a form, with its first
// letter in upper case.
func errText(err error) string {
	msg := strings.TrimSuffix(err.Error(), ".")
	if msg == "" {
		return "That did not work."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (s *Server) policyData(c *fiber.Ctx, source string) (web.AdminPolicyData, error) {
	t := tenantOf(c)
	ctx := c.UserContext()
	cur, err := s.deps.Access.CurrentPolicy(ctx, t.ID)
	if err != nil {
		return web.AdminPolicyData{}, err
	}
	hist, err := s.deps.Access.History(ctx, t.ID)
	if err != nil {
		return web.AdminPolicyData{}, err
	}
	roles, err := s.deps.Access.Roles(ctx, t.ID)
	if err != nil {
		return web.AdminPolicyData{}, err
	}
	d := web.AdminPolicyData{Frame: s.frame(c), Version: cur.Version, CanManage: s.can(c, access.PoliciesManage, "policy")}
	if source == "" {
		b, err := json.MarshalIndent(cur.Policy, "", "  ")
		if err != nil {
			return d, err
		}
		source = string(b)
	}
	d.Source = source
	for _, r := range cur.Policy.Rules {
		perms := make([]string, len(r.Permissions))
		for i, p := range r.Permissions {
			perms[i] = string(p)
		}
		d.Rules = append(d.Rules, web.RuleRow{Role: r.Role, Permissions: strings.Join(perms, ", "), Condition: r.Condition})
	}
	for _, v := range hist {
		d.History = append(d.History, web.VersionRow{Number: v.Version, CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy, Comment: v.Comment, Current: v.Version == cur.Version})
	}
	for _, r := range roles {
		d.Roles = append(d.Roles, r.Name)
	}
	for _, p := range access.Permissions() {
		d.Perms = append(d.Perms, string(p))
	}
	return d, nil
}

func (s *Server) adminPolicy(c *fiber.Ctx) error {
	d, err := s.policyData(c, "")
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, web.PageAdminPolicy, d)
}

// policyProblems checks a policy's text: JSON, roles, permissions, and
// each condition, with CEL's line and column within the condition.
func (s *Server) policyProblems(c *fiber.Ctx, src string) (access.Policy, []string) {
	p, err := access.ParsePolicy([]byte(src))
	if err != nil {
		return p, []string{errText(err)}
	}
	_, err = s.deps.AccessEngine.CompilePolicy(p)
	var ve *access.ValidationError
	if errors.As(err, &ve) {
		var out []string
		for _, r := range ve.Rules {
			for _, is := range r.Issues {
				out = append(out, fmt.Sprintf("rule %d, line %d, column %d: %s", r.Rule+1, is.Line, is.Column, is.Message))
			}
		}
		out = append(out, ve.Problems...)
		return p, out
	}
	if err != nil {
		return p, []string{errText(err)}
	}
	return p, nil
}

func (s *Server) adminCheckPolicy(c *fiber.Ctx) error {
	src := c.FormValue("policy")
	_, problems := s.policyProblems(c, src)
	if problems == nil {
		problems = []string{}
	}
	return c.JSON(fiber.Map{"issues": problems})
}

func (s *Server) adminSavePolicy(c *fiber.Ctx) error {
	t := tenantOf(c)
	src, comment := c.FormValue("policy"), c.FormValue("comment")
	expected, err := strconv.Atoi(c.FormValue("expected"))
	if err != nil || expected < 0 || len(comment) > 800 {
		return errorf(fiber.StatusBadRequest, "The form is incomplete. Reload the page and try again.")
	}
	p, problems := s.policyProblems(c, src)
	render := func(status int, d web.AdminPolicyData) error { return s.render(c, status, web.PageAdminPolicy, d) }
	if len(problems) > 0 {
		d, err := s.policyData(c, src)
		if err != nil {
			return err
		}
		d.Issues = problems
		return render(fiber.StatusUnprocessableEntity, d)
	}
	_, err = s.deps.Access.SavePolicy(c.UserContext(), t.ID, actorOf(c), expected, p, comment)
	var tf *access.TestFailure
	var ve *access.ValidationError
	switch {
	case errors.As(err, &tf):
		d, derr := s.policyData(c, src)
		if derr != nil {
			return derr
		}
		for _, f := range tf.Failed {
			d.Failures = append(d.Failures, fmt.Sprintf("test %q expects %s, got %s (%s)", f.Name, allowWord(f.Want), allowWord(f.Got.Allow), f.Got.Reason))
		}
		return render(fiber.StatusUnprocessableEntity, d)
	case errors.As(err, &ve):
		d, derr := s.policyData(c, src)
		if derr != nil {
			return derr
		}
		d.Issues = []string{errText(err)}
		return render(fiber.StatusUnprocessableEntity, d)
	case errors.Is(err, access.ErrConflict):
		d, derr := s.policyData(c, src)
		if derr != nil {
			return derr
		}
		d.Error = "Someone saved the policy since you opened it. Your text is kept below; check the current version in the history, then save again."
		return render(fiber.StatusConflict, d)
	case err != nil:
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/policy?done=policy", fiber.StatusSeeOther)
}

func allowWord(b bool) string {
	if b {
		return "allow"
	}
	return "deny"
}

func (s *Server) adminRollback(c *fiber.Ctx) error {
	t := tenantOf(c)
	expected, err1 := strconv.Atoi(c.FormValue("expected"))
	to, err2 := strconv.Atoi(c.FormValue("to"))
	if err1 != nil || err2 != nil {
		return errorf(fiber.StatusBadRequest, "The form is incomplete. Reload the page and try again.")
	}
	_, err := s.deps.Access.Rollback(c.UserContext(), t.ID, actorOf(c), expected, to)
	switch {
	case errors.Is(err, access.ErrConflict):
		return errorf(fiber.StatusConflict, "Someone changed the policy since you opened it. Reload the page and try again.")
	case errors.Is(err, access.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/policy?done=rollback", fiber.StatusSeeOther)
}

// adminExplain answers "why was this allowed or denied?" for a role, a
// permission and a resource described in the form.
func (s *Server) adminExplain(c *fiber.Ctx) error {
	t := tenantOf(c)
	role, perm := c.FormValue("role"), access.Permission(c.FormValue("permission"))
	pid, owner, status := c.FormValue("principal"), c.FormValue("owner"), c.FormValue("status")
	if len(role) > 40 || len(pid) > 100 || len(owner) > 100 || len(status) > 100 || !perm.Valid() {
		return errorf(fiber.StatusBadRequest, "Choose a role and a known permission.")
	}
	p := access.Principal{ID: pid, Roles: []string{role}, MFA: c.FormValue("mfa") == "1"}
	res := access.Resource{Kind: "explain", OwnerID: owner, Status: status}
	ex, err := s.deps.Access.Explain(c.UserContext(), t.ID, p, perm, res, access.Request{Channel: "web"})
	if err != nil {
		return err
	}
	d, err := s.policyData(c, "")
	if err != nil {
		return err
	}
	x := &web.ExplainResult{Allow: ex.Decision.Allow, Role: ex.Decision.Role, Permission: string(ex.Decision.Permission),
		Clause: ex.Decision.Clause, Reason: ex.Decision.Reason}
	for _, rt := range ex.Roles {
		line := fmt.Sprintf("role %s: ", rt.Role)
		switch {
		case !rt.Known:
			line += "the association has no such role"
		case !rt.Carries:
			line += "does not list " + string(perm)
		default:
			line += "lists " + string(perm)
		}
		for _, r := range rt.Rules {
			line += fmt.Sprintf("; rule %d `%s` is %t", r.Rule+1, r.Condition, r.Result)
			if r.Clause != "" {
				line += fmt.Sprintf(" (false clause `%s`)", r.Clause)
			}
			if r.Error != "" {
				line += " (error: " + r.Error + ")"
			}
		}
		x.Steps = append(x.Steps, line)
	}
	d.Explain = x
	return s.render(c, fiber.StatusOK, web.PageAdminPolicy, d)
}

func dur(d identity.Duration) string { return time.Duration(d).String() }

func (s *Server) renderSecurity(c *fiber.Ctx, status int, msg string, set *identity.Settings) error {
	t := tenantOf(c)
	ctx := c.UserContext()
	if set == nil {
		cur, err := s.deps.Users.Settings(ctx, t.ID)
		if err != nil {
			return err
		}
		set = &cur
	}
	locks, err := s.deps.Users.Locks(ctx, t.ID)
	if err != nil {
		return err
	}
	f := s.frame(c)
	f.Error = msg
	d := web.AdminSecurityData{Frame: f, MinPasswordLength: set.MinPasswordLength, AccountThreshold: set.Lockout.AccountThreshold,
		IPThreshold: set.Lockout.IPThreshold, Window: dur(set.Lockout.Window), LockFor: dur(set.Lockout.LockFor), MaxLockFor: dur(set.Lockout.MaxLockFor),
		DelayAfter: set.Lockout.DelayAfter, MFA: string(set.MFA), SMSFallback: set.SMSFallback, InvitationTTL: dur(set.InvitationTTL),
		IdleTimeout: dur(set.IdleTimeout), AbsoluteTimeout: dur(set.AbsoluteTimeout), CanManage: s.can(c, access.SettingsManage, "settings")}
	for _, l := range locks {
		if u, err := s.deps.Users.Get(ctx, t.ID, l.UserID); err == nil {
			d.Locks = append(d.Locks, web.UserRow{ID: u.ID, Email: u.Email, Locked: true, LockedUntil: l.LockedUntil})
		}
	}
	return s.render(c, status, web.PageAdminSecurity, d)
}

func (s *Server) adminSecurity(c *fiber.Ctx) error {
	return s.renderSecurity(c, fiber.StatusOK, "", nil)
}

func (s *Server) adminSaveSecurity(c *fiber.Ctx) error {
	t := tenantOf(c)
	if !userSessionOf(c).Recent(time.Now(), reauthWindow) {
		return s.needReauth(c, "/admin/security")
	}
	set, err := s.deps.Users.Settings(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	bad := func(field string) error {
		return s.renderSecurity(c, fiber.StatusUnprocessableEntity, "Check the field “"+field+"”: it is not a valid value.", &set)
	}
	intField := func(name string, dst *int) bool {
		v, err := strconv.Atoi(strings.TrimSpace(c.FormValue(name)))
		if err != nil {
			return false
		}
		*dst = v
		return true
	}
	durField := func(name string, dst *identity.Duration) bool {
		v := c.FormValue(name)
		if len(v) > 20 {
			return false
		}
		return dst.UnmarshalText([]byte(strings.TrimSpace(v))) == nil
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"min_password_length", &set.MinPasswordLength}, {"account_threshold", &set.Lockout.AccountThreshold},
		{"ip_threshold", &set.Lockout.IPThreshold}, {"delay_after", &set.Lockout.DelayAfter}} {
		if !intField(f.name, f.dst) {
			return bad(f.name)
		}
	}
	for _, f := range []struct {
		name string
		dst  *identity.Duration
	}{{"window", &set.Lockout.Window}, {"lock_for", &set.Lockout.LockFor}, {"max_lock_for", &set.Lockout.MaxLockFor},
		{"invitation_ttl", &set.InvitationTTL}, {"idle_timeout", &set.IdleTimeout}, {"absolute_timeout", &set.AbsoluteTimeout}} {
		if !durField(f.name, f.dst) {
			return bad(f.name)
		}
	}
	set.MFA = identity.MFARequirement(c.FormValue("mfa"))
	set.SMSFallback = c.FormValue("sms_fallback") == "1"
	err = s.deps.Users.SaveSettings(c.UserContext(), t.ID, actorOf(c), set, s.meta(c))
	if msg, ok := userError(err); ok {
		return s.renderSecurity(c, fiber.StatusUnprocessableEntity, msg, &set)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/t/"+t.Slug+"/admin/security?done=security", fiber.StatusSeeOther)
}
