package app_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/testkit/testhost"
)

// TestUnitsImportExport: an owner imports units with owners from CSV
// (existing users linked, new ones invited as members), and exports them
// back.
func TestUnitsImportExport(t *testing.T) {
	testhost.StartEach(t, testhost.Options{}, func(t *testing.T, h *testhost.Host) {
		ctx := context.Background()
		tn := h.CreateTenant(t, "theta", "Theta Condominium")
		const pw = "lavender ferries glide past noon"
		h.CreateUser(t, tn, "chair@theta.example", pw, "owner")
		existing := h.CreateUser(t, tn, "old@theta.example", "granite owls nap in the library", "member")
		csrf := h.SignIn(t, h.Client, tn.Slug, "chair@theta.example", pw)
		file := "unit,weight,owner_email,owner_name\n" +
			"Flat 1,1/3,old@theta.example,\n" +
			"Flat 1,1/3,new@theta.example,New Owner\n" +
			"Flat 2,2/3,second@theta.example,\n" +
			"Flat 3,-1,x@theta.example,\n"
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf", csrf)
		fw, _ := mw.CreateFormFile("csv", "units.csv")
		_, _ = fw.Write([]byte(file))
		_ = mw.Close()
		req, _ := http.NewRequest("POST", h.URL+"/t/theta/admin/units/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := h.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Imported: 2 units, 1 lines skipped") {
			t.Fatalf("import: %d %.600s", resp.StatusCode, body)
		}
		units, err := h.App.Units.List(ctx, tn.ID)
		if err != nil || len(units) != 2 {
			t.Fatalf("units: %+v %v", units, err)
		}
		owners, err := h.App.Units.Owners(ctx, tn.ID)
		if err != nil || len(owners[units[0].ID]) != 2 || len(owners[units[1].ID]) != 1 {
			t.Fatalf("owners: %v %v", owners, err)
		}
		if mine, err := h.App.Units.UnitsOf(ctx, tn.ID, existing.ID); err != nil || len(mine) != 1 || mine[0].Label != "Flat 1" {
			t.Fatalf("existing user's units: %v %v", mine, err)
		}
		users, _ := h.App.Users.List(ctx, tn.ID)
		if len(users) != 4 {
			t.Fatalf("users after import: %d", len(users))
		}
		resp, body = h.Get(t, "/t/theta/admin/units.csv")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") == "" ||
			!strings.Contains(body, "Flat 1,1/3,new@theta.example,New Owner") || !strings.Contains(body, "Flat 2,2/3,second@theta.example,") {
			t.Fatalf("export: %d %q", resp.StatusCode, body)
		}
	})
}
