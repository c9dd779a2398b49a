package audit

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"
)

// ExportOptions select what ExportECS writes.
type ExportOptions struct {
	// TenantID limits the export to one chain.
	TenantID string
	// Since (inclusive) and Until (exclusive) bound the events' times;
	// zero is unbounded.
	Since, Until time.Time
	// Actor limits the export to the events someone caused (a member's
	// own data export).
	Actor string
	// IncludePersonal opens sealed personal data (source.ip,
	// user_agent.original) where the Log's Sealer can open it; events whose
	// personal data was erased, or whose key was destroyed, are exported
	// without it. Off by default: an export with personal data is itself a
	// sensitive read that the caller must audit.
	IncludePersonal bool
}

// ecsEvent is one line of the export in Elastic Common Schema field names.
type ecsEvent struct {
	Timestamp    string            `json:"@timestamp"`
	Event        ecsEventFields    `json:"event"`
	Organization ecsID             `json:"organization"`
	User         ecsID             `json:"user"`
	HTTP         *ecsHTTP          `json:"http,omitempty"`
	Source       *ecsSource        `json:"source,omitempty"`
	UserAgent    *ecsUserAgent     `json:"user_agent,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Plenum       ecsPlenum         `json:"plenum"`
}

type ecsEventFields struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Category []string `json:"category,omitempty"`
	Action   string   `json:"action"`
	Outcome  string   `json:"outcome"`
	Sequence int64    `json:"sequence"`
	Hash     string   `json:"hash"`
}

type ecsID struct {
	ID string `json:"id"`
}

type ecsHTTP struct {
	Request ecsID `json:"request"`
}

type ecsSource struct {
	IP string `json:"ip"`
}

type ecsUserAgent struct {
	Original string `json:"original"`
}

type ecsPlenum struct {
	Target   string `json:"target,omitempty"`
	PrevHash string `json:"prev_hash"`
}

// ExportECS writes events as NDJSON, one Elastic Common Schema document per
// line, in chain and sequence order, and returns how many it wrote. The
// chain fields (plenum.prev_hash, event.hash, event.sequence) let a
// receiver re-check the chain.
func (l *Log) ExportECS(ctx context.Context, w io.Writer, opts ExportOptions) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	err := l.db.System().ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		chains, err := listChains(ctx, tx, opts.TenantID)
		if err != nil {
			return err
		}
		for _, chain := range chains {
			var last int64
			for {
				var batch []Record
				q := tx.NewSelect().Model(&batch).Where("tenant_id = ?", chain).Where("seq > ?", last).Order("seq").Limit(1000)
				if !opts.Since.IsZero() {
					q = q.Where("at >= ?", opts.Since.UTC())
				}
				if !opts.Until.IsZero() {
					q = q.Where("at < ?", opts.Until.UTC())
				}
				if opts.Actor != "" {
					q = q.Where("actor = ?", opts.Actor)
				}
				if err := q.Scan(ctx); err != nil {
					return fmt.Errorf("read events of %s: %w", chain, err)
				}
				for i := range batch {
					doc, err := l.ecs(ctx, &batch[i], opts.IncludePersonal)
					if err != nil {
						return err
					}
					if err := enc.Encode(doc); err != nil {
						return fmt.Errorf("write export: %w", err)
					}
					n++
				}
				if len(batch) < 1000 {
					break
				}
				last = batch[len(batch)-1].Seq
			}
		}
		return nil
	})
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write export: %w", ferr)
	}
	return n, err
}

func (l *Log) ecs(ctx context.Context, r *Record, withPersonal bool) (*ecsEvent, error) {
	doc := &ecsEvent{
		Timestamp: r.At.UTC().Format(time.RFC3339Nano),
		Event: ecsEventFields{
			ID: r.ID, Kind: "event", Action: r.Action, Outcome: r.Outcome,
			Sequence: r.Seq, Hash: hex.EncodeToString(r.Hash),
		},
		Organization: ecsID{ID: r.TenantID},
		User:         ecsID{ID: r.Actor},
		Plenum:       ecsPlenum{Target: r.Target, PrevHash: hex.EncodeToString(r.PrevHash)},
	}
	if r.RequestID != "" {
		doc.HTTP = &ecsHTTP{Request: ecsID{ID: r.RequestID}}
	}
	if r.Details != "" && r.Details != "{}" {
		if err := json.Unmarshal([]byte(r.Details), &doc.Labels); err != nil {
			return nil, fmt.Errorf("details of %s/%d: %w", r.TenantID, r.Seq, err)
		}
	}
	if withPersonal && len(r.Personal) > 0 && l.sealer != nil {
		p, err := l.OpenPersonal(ctx, r)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// Erased key (crypto-shredded tenant) or unreadable data: the
			// event is exported without its personal fields.
			p = Personal{}
		}
		if p.IP != "" {
			doc.Source = &ecsSource{IP: p.IP}
		}
		if p.UserAgent != "" {
			doc.UserAgent = &ecsUserAgent{Original: p.UserAgent}
		}
	}
	return doc, nil
}
