package voting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// Exprs compiles and evaluates the tenant-written CEL expressions of a
// ballot: the eligibility condition over a unit and the double-vote rule
// over a unit's vote records. Programs are bounded in size, nesting and
// cost, and evaluation is interrupted after a deadline.
type Exprs struct {
	unitEnv  *cel.Env
	votesEnv *cel.Env
}

// Expression limits.
const (
	maxExprBytes   = 2000
	exprCostLimit  = 100_000
	exprDeadline   = 50 * time.Millisecond
	exprMaxNesting = 32
)

// NewExprs builds the CEL environments.
func NewExprs() (*Exprs, error) {
	common := []cel.EnvOption{
		cel.ParserRecursionLimit(exprMaxNesting),
		cel.ParserExpressionSizeLimit(maxExprBytes),
	}
	unitEnv, err := cel.NewEnv(append(common,
		cel.Variable("unit", cel.MapType(cel.StringType, cel.DynType)))...)
	if err != nil {
		return nil, fmt.Errorf("eligibility environment: %w", err)
	}
	votesEnv, err := cel.NewEnv(append(common,
		cel.Variable("votes", cel.ListType(cel.MapType(cel.StringType, cel.DynType))))...)
	if err != nil {
		return nil, fmt.Errorf("resolution environment: %w", err)
	}
	return &Exprs{unitEnv: unitEnv, votesEnv: votesEnv}, nil
}

func (x *Exprs) compile(env *cel.Env, src string, want ...*cel.Type) (cel.Program, error) {
	if len(src) > maxExprBytes {
		return nil, fmt.Errorf("%w: the expression is longer than %d bytes", ErrInvalid, maxExprBytes)
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, iss.Err())
	}
	ok := false
	for _, t := range want {
		if ast.OutputType().IsExactType(t) {
			ok = true
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: the expression gives a %s", ErrInvalid, ast.OutputType())
	}
	prg, err := env.Program(ast, cel.CostLimit(exprCostLimit), cel.InterruptCheckFrequency(64))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return prg, nil
}

// CheckEligibility compiles an eligibility condition; it must give a bool.
func (x *Exprs) CheckEligibility(src string) error {
	_, err := x.compile(x.unitEnv, src, cel.BoolType, cel.DynType)
	return err
}

// CheckResolution compiles a double-vote rule; it must give a vote id (a
// string) or null.
func (x *Exprs) CheckResolution(src string) error {
	_, err := x.compile(x.votesEnv, src, cel.StringType, cel.NullType, cel.DynType)
	return err
}

// eligibility returns a predicate over units for src ("" admits all).
func (x *Exprs) eligibility(src string) (func(ctx context.Context, u Unit, owners int) (bool, error), error) {
	if src == "" {
		return func(context.Context, Unit, int) (bool, error) { return true, nil }, nil
	}
	prg, err := x.compile(x.unitEnv, src, cel.BoolType, cel.DynType)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, u Unit, owners int) (bool, error) {
		w, _ := u.Weight.Rat().Float64() // a convenience for comparisons; counting stays exact
		ctx, cancel := context.WithTimeout(ctx, exprDeadline)
		defer cancel()
		out, _, err := prg.ContextEval(ctx, map[string]any{"unit": map[string]any{
			"label": u.Label, "weight": w, "weight_exact": u.Weight.String(), "owners": int64(owners),
		}})
		if err != nil {
			return false, fmt.Errorf("eligibility of unit %s: %w", u.Label, err)
		}
		b, ok := out.(types.Bool)
		if !ok {
			return false, fmt.Errorf("eligibility of unit %s: the condition gave %s, not a bool", u.Label, out.Type())
		}
		return bool(b), nil
	}, nil
}

// Record is one vote record of a unit as the double-vote rule sees it.
type Record struct {
	ID      string
	Channel string
	CastAt  time.Time
	CastBy  string
	Proxy   bool
}

// errNoChoice means the rule chose no record.
var errNoChoice = errors.New("no record chosen")

// resolver returns the function that picks the counting record of a unit
// with several records, or errNoChoice, with the reason.
func (x *Exprs) resolver(rule, src string) (func(ctx context.Context, recs []Record) (string, string, error), error) {
	switch rule {
	case FirstWins:
		return func(_ context.Context, recs []Record) (string, string, error) {
			return recs[0].ID, "first-wins: the earliest record (" + recs[0].Channel + ") counts", nil
		}, nil
	case LastWins:
		return func(_ context.Context, recs []Record) (string, string, error) {
			r := recs[len(recs)-1]
			return r.ID, "last-wins: the latest record (" + r.Channel + ") counts", nil
		}, nil
	case PaperWins, OnlineWins:
		return func(_ context.Context, recs []Record) (string, string, error) {
			for _, r := range recs {
				if (rule == PaperWins) == (r.Channel == ChannelPaper) {
					return r.ID, rule + ": the " + r.Channel + " vote counts", nil
				}
			}
			return recs[0].ID, rule + ": no " + map[bool]string{true: "paper", false: "online"}[rule == PaperWins] + " vote; the earliest counts", nil
		}, nil
	case DiscardBoth:
		return func(_ context.Context, recs []Record) (string, string, error) {
			return "", fmt.Sprintf("discard-both: %d records, none counts", len(recs)), errNoChoice
		}, nil
	case CustomRule:
		prg, err := x.compile(x.votesEnv, src, cel.StringType, cel.NullType, cel.DynType)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, recs []Record) (string, string, error) {
			list := make([]any, len(recs))
			for i, r := range recs {
				list[i] = map[string]any{"id": r.ID, "channel": r.Channel, "cast_at": r.CastAt, "cast_by": r.CastBy, "proxy": r.Proxy}
			}
			ctx, cancel := context.WithTimeout(ctx, exprDeadline)
			defer cancel()
			out, _, err := prg.ContextEval(ctx, map[string]any{"votes": list})
			if err != nil {
				return "", "", fmt.Errorf("the rule failed: %w", err)
			}
			return pickResult(out, recs)
		}, nil
	}
	return nil, fmt.Errorf("%w: unknown double-vote rule %q", ErrInvalid, rule)
}

func pickResult(out ref.Val, recs []Record) (string, string, error) {
	switch v := out.(type) {
	case types.Null:
		return "", "custom rule: none counts", errNoChoice
	case types.String:
		for _, r := range recs {
			if r.ID == string(v) {
				return r.ID, "custom rule: the " + r.Channel + " vote counts", nil
			}
		}
		return "", "", fmt.Errorf("the rule gave %q, which is not one of the unit's records", string(v))
	}
	return "", "", fmt.Errorf("the rule gave a %s, not a record id or null", out.Type())
}
