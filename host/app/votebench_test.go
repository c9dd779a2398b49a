package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/plenum-vote/plenum/core/store"
	"github.com/plenum-vote/plenum/core/voting"
	"github.com/plenum-vote/plenum/testkit"
	"github.com/plenum-vote/plenum/testkit/testhost"
)

// The vote load: voters sessions, each owning unitsPerVoter units, cast
// votes concurrently (clients at a time) on ballots opened one after the
// other as each runs out of units.
const (
	benchVoters        = 200
	benchUnitsPerVoter = 10
	benchClients       = 32
)

// BenchmarkVoteHTTP measures casting votes over HTTP through the whole
// path (session, tenant, permission with the tenant's CEL policy, voting
// right, sealed choice, audit chain, commit, the page answered) against a
// bare Fiber + bun handler that inserts one row per request, on the same
// database, with the same client load. After the run every ballot is
// recounted: the votes stored must equal the votes answered 200, one per
// unit.
//
//	go test -run '^$' -bench VoteHTTP -benchtime 6000x ./host/app/
func BenchmarkVoteHTTP(b *testing.B) {
	for _, c := range testkit.Databases(b) {
		// A fresh database for every run: the benchmark runs more than once.
		fresh := func(b *testing.B) store.Config {
			if c.Config.Driver == store.Postgres {
				return testkit.PostgresConfig(b)
			}
			return testkit.SQLiteConfig(b)
		}
		b.Run(c.Name+"/plenum", func(b *testing.B) { benchPlenum(b, fresh(b)) })
		b.Run(c.Name+"/baseline", func(b *testing.B) { benchBaseline(b, fresh(b)) })
	}
}

type voter struct {
	client *http.Client
	csrf   string
	units  []string
}

func benchPlenum(b *testing.B, db store.Config) {
	h := testhost.Start(b, testhost.Options{DB: db, Tally: true, Log: io.Discard})
	ctx := context.Background()
	tn := h.CreateTenant(b, "bench", "Bench Co-operative")
	h.CreateUser(b, tn, "chair@bench.example", votePW, "owner")
	var voters []*voter
	for i := range benchVoters {
		email := fmt.Sprintf("voter%d@bench.example", i)
		u := h.CreateUser(b, tn, email, votePW, "member")
		v := &voter{client: benchClient()}
		for j := range benchUnitsPerVoter {
			unit, err := h.App.Units.Create(ctx, tn.ID, "bench", fmt.Sprintf("U%03d-%02d", i, j), voting.OneWeight())
			if err != nil {
				b.Fatal(err)
			}
			if err := h.App.Units.AddOwner(ctx, tn.ID, "bench", unit.ID, u.ID); err != nil {
				b.Fatal(err)
			}
			v.units = append(v.units, unit.ID)
		}
		v.csrf = h.SignIn(b, v.client, tn.Slug, email, votePW)
		voters = append(voters, v)
	}
	perBallot := benchVoters * benchUnitsPerVoter
	var ballots []string
	for range (b.N + perBallot - 1) / perBallot {
		bl, err := h.App.Ballots.Create(ctx, tn.ID, "bench", "Load motion", voting.Rules{Kind: voting.Motion,
			OpensAt: time.Now().Add(-time.Minute), ClosesAt: time.Now().Add(time.Hour), Secret: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.App.Ballots.Open(ctx, tn.ID, "bench", bl.ID); err != nil {
			b.Fatal(err)
		}
		ballots = append(ballots, bl.ID)
	}
	base := h.URL + "/t/" + tn.Slug
	ok := runLoad(b, func(i int) (*http.Client, string, url.Values) {
		v := voters[i%benchVoters]
		k := i / benchVoters
		unit := v.units[k%benchUnitsPerVoter]
		ballot := ballots[k/benchUnitsPerVoter]
		return v.client, base + "/ballots/" + ballot + "/vote", url.Values{"csrf": {v.csrf}, "unit": {unit}, "choice": {[]string{"yes", "no", "abstain"}[i%3]}}
	})
	// Recount: every answered vote is stored, once.
	var stored int64
	for _, id := range ballots {
		parts, err := h.App.Ballots.Participants(ctx, tn.ID, id)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range parts {
			if len(p.Records) > 1 {
				b.Fatalf("unit %s has %d votes", p.Label, len(p.Records))
			}
			stored += int64(len(p.Records))
		}
	}
	if stored != ok || ok != int64(b.N) {
		b.Fatalf("answered %d of %d votes, stored %d", ok, b.N, stored)
	}
}

// benchBaseline serves the same form with a bare Fiber handler that
// inserts the vote with bun, under the same uniqueness rule.
func benchBaseline(b *testing.B, cfg store.Config) {
	db := testkit.OpenDB(b, cfg)
	ctx := context.Background()
	bdb := db.System()
	err := bdb.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_votes (ballot TEXT NOT NULL, unit TEXT NOT NULL, choice TEXT NOT NULL, cast_at TIMESTAMP NOT NULL, PRIMARY KEY (ballot, unit))`)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/vote/:ballot", func(c *fiber.Ctx) error {
		choice := c.FormValue("choice")
		if choice != "yes" && choice != "no" && choice != "abstain" {
			return c.SendStatus(fiber.StatusUnprocessableEntity)
		}
		err := bdb.Tx(c.UserContext(), func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO bench_votes (ballot, unit, choice, cast_at) VALUES (?, ?, ?, ?)`, c.Params("ballot"), c.FormValue("unit"), choice, time.Now())
			return err
		})
		if err != nil {
			return c.SendStatus(fiber.StatusConflict)
		}
		c.Type("html")
		return c.SendString("<p>Your vote is recorded.</p>")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })
	base := "http://" + ln.Addr().String()
	ballot := uuid.NewString()
	client := benchClient()
	ok := runLoad(b, func(i int) (*http.Client, string, url.Values) {
		return client, base + "/vote/" + ballot, url.Values{"unit": {fmt.Sprintf("unit-%d", i)}, "choice": {"yes"}}
	})
	var stored int64
	if err := bdb.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM bench_votes WHERE ballot = ?`, ballot).Scan(&stored)
	}); err != nil {
		b.Fatal(err)
	}
	if stored != ok || ok != int64(b.N) {
		b.Fatalf("answered %d of %d votes, stored %d", ok, b.N, stored)
	}
}

func benchClient() *http.Client {
	c := (&testhost.Host{}).NewClient()
	c.Transport = &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}
	return c
}

// runLoad sends b.N requests from benchClients goroutines, request i
// described by req, and reports votes/s and latency percentiles. It
// returns the number answered 200.
func runLoad(b *testing.B, req func(i int) (*http.Client, string, url.Values)) int64 {
	var next, ok atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				c, u, form := req(i)
				t0 := time.Now()
				resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				} else {
					b.Errorf("vote %d: status %d", i, resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "votes/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	return ok.Load()
}
