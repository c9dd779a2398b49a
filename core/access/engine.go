package access

import (
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// Principal is who acts, as conditions see it (variable `principal`).
type Principal struct {
	ID string `json:"id" cel:"id"`
	// Roles are the role names the principal holds in the tenant, resolved
	// by the caller.
	Roles      []string          `json:"roles,omitempty" cel:"roles"`
	MFA        bool              `json:"mfa,omitempty" cel:"mfa"`
	Units      []string          `json:"units,omitempty" cel:"units"`
	Attributes map[string]string `json:"attributes,omitempty" cel:"attributes"`
}

// Resource is what is acted on (variable `resource`).
type Resource struct {
	Kind       string            `json:"kind,omitempty" cel:"kind"`
	ID         string            `json:"id,omitempty" cel:"id"`
	OwnerID    string            `json:"owner_id,omitempty" cel:"owner_id"`
	Unit       string            `json:"unit,omitempty" cel:"unit"`
	Status     string            `json:"status,omitempty" cel:"status"`
	Attributes map[string]string `json:"attributes,omitempty" cel:"attributes"`
}

// Request describes the request being authorised (variable `request`).
type Request struct {
	Method  string `json:"method,omitempty" cel:"method"`
	Path    string `json:"path,omitempty" cel:"path"`
	IP      string `json:"ip,omitempty" cel:"ip"`
	Country string `json:"country,omitempty" cel:"country"`
	Channel string `json:"channel,omitempty" cel:"channel"`
}

// Input is everything a condition is evaluated against.
type Input struct {
	Principal Principal
	Resource  Resource
	Request   Request
	// Now is the variable `now`.
	Now time.Time
}

// envVersion names the condition environment (variables, types,
// functions). It is part of every cache key: change it whenever the
// environment changes meaning.
const envVersion = "plenum-access-env-1"

// Limits bound what a condition may cost. Zero fields take defaults.
type Limits struct {
	// MaxExpressionBytes bounds a condition's length (default 2048).
	MaxExpressionBytes int
	// MaxNesting is the parser's recursion limit (default 16).
	MaxNesting int
	// MaxStaticCost bounds the worst-case cost estimated when a condition
	// is checked, with lists and maps of the inputs assumed to be at most
	// a few hundred entries long (default 10000).
	MaxStaticCost uint64
	// RuntimeCostLimit stops an evaluation that costs more (default 10000).
	RuntimeCostLimit uint64
	// Deadline stops an evaluation that loops for longer (default 5ms).
	Deadline time.Duration
	// CacheSize bounds the number of compiled programs kept (default 4096).
	CacheSize int
}

func (l Limits) withDefaults() Limits {
	if l.MaxExpressionBytes <= 0 {
		l.MaxExpressionBytes = 2048
	}
	if l.MaxNesting <= 0 {
		l.MaxNesting = 16
	}
	if l.MaxStaticCost == 0 {
		l.MaxStaticCost = 10000
	}
	if l.RuntimeCostLimit == 0 {
		l.RuntimeCostLimit = 10000
	}
	if l.Deadline <= 0 {
		l.Deadline = 5 * time.Millisecond
	}
	if l.CacheSize <= 0 {
		l.CacheSize = 4096
	}
	return l
}

// Issue is one problem with a condition. Line and Column are 1-based; a
// problem with the whole expression is reported at 1:1.
type Issue struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// String formats the issue as "line:column: message".
func (i Issue) String() string { return fmt.Sprintf("%d:%d: %s", i.Line, i.Column, i.Message) }

// Engine checks, compiles and evaluates conditions. It is safe for
// concurrent use.
type Engine struct {
	limits Limits
	env    *cel.Env

	mu    sync.Mutex
	cache map[cacheKey]*list.Element
	lru   *list.List // of *Condition, most recently used first

	compiles atomic.Uint64
}

type cacheKey struct {
	env string
	sum [sha256.Size]byte
}

// NewEngine returns an engine enforcing limits.
func NewEngine(limits Limits) (*Engine, error) {
	l := limits.withDefaults()
	env, err := cel.NewEnv(
		ext.NativeTypes(
			reflect.TypeFor[Principal](),
			reflect.TypeFor[Resource](),
			reflect.TypeFor[Request](),
			ext.ParseStructTags(true),
		),
		cel.Variable("principal", cel.ObjectType("access.Principal")),
		cel.Variable("resource", cel.ObjectType("access.Resource")),
		cel.Variable("request", cel.ObjectType("access.Request")),
		cel.Variable("now", cel.TimestampType),
		cel.ParserRecursionLimit(l.MaxNesting),
		cel.ParserExpressionSizeLimit(l.MaxExpressionBytes),
		cel.EnableMacroCallTracking(), // lets Explain print clauses with macros
	)
	if err != nil {
		return nil, fmt.Errorf("access: build condition environment: %w", err)
	}
	return &Engine{limits: l, env: env, cache: make(map[cacheKey]*list.Element), lru: list.New()}, nil
}

// Limits returns the limits the engine enforces, defaults filled in.
func (e *Engine) Limits() Limits { return e.limits }

// Compiles returns how many conditions the engine has compiled (cache
// misses), for tests and metrics.
func (e *Engine) Compiles() uint64 { return e.compiles.Load() }

// Check reports every problem with expr as a condition, or nil when it is
// valid. It compiles expr (and caches the result) when it is valid.
func (e *Engine) Check(expr string) []Issue {
	_, issues := e.Compile(expr)
	return issues
}

// Condition is a compiled condition.
type Condition struct {
	expr    string
	key     cacheKey
	prg     cel.Program
	loops   bool     // has comprehensions: evaluated under a deadline
	clauses []string // top-level && operands, unparsed
}

// Expr returns the condition's source text.
func (c *Condition) Expr() string { return c.expr }

// Clauses returns the operands of the condition's top-level && chain (the
// whole condition when it is not a conjunction), as CEL text.
func (c *Condition) Clauses() []string { return append([]string(nil), c.clauses...) }

// Compile returns the compiled condition expr, from the cache when it was
// compiled before, or the issues that make it invalid.
func (e *Engine) Compile(expr string) (*Condition, []Issue) {
	key := cacheKey{env: envVersion, sum: sha256.Sum256([]byte(expr))}
	if c := e.cached(key); c != nil {
		return c, nil
	}
	c, issues := e.compile(expr, key)
	if issues != nil {
		return nil, issues
	}
	return e.store(c), nil
}

func (e *Engine) cached(key cacheKey) *Condition {
	e.mu.Lock()
	defer e.mu.Unlock()
	if el, ok := e.cache[key]; ok {
		e.lru.MoveToFront(el)
		return el.Value.(*Condition)
	}
	return nil
}

func (e *Engine) store(c *Condition) *Condition {
	e.mu.Lock()
	defer e.mu.Unlock()
	if el, ok := e.cache[c.key]; ok { // compiled concurrently
		e.lru.MoveToFront(el)
		return el.Value.(*Condition)
	}
	e.cache[c.key] = e.lru.PushFront(c)
	for e.lru.Len() > e.limits.CacheSize {
		old := e.lru.Back()
		e.lru.Remove(old)
		delete(e.cache, old.Value.(*Condition).key)
	}
	return c
}

func wholeIssue(format string, args ...any) []Issue {
	return []Issue{{Line: 1, Column: 1, Message: fmt.Sprintf(format, args...)}}
}

func (e *Engine) compile(expr string, key cacheKey) (c *Condition, issues []Issue) {
	if len(expr) > e.limits.MaxExpressionBytes {
		return nil, wholeIssue("condition is %d bytes long; the limit is %d", len(expr), e.limits.MaxExpressionBytes)
	}
	if expr == "" {
		return nil, wholeIssue("condition is empty")
	}
	// The checker and planner are not expected to panic, but a condition
	// is user input: a panic is reported as an issue, never propagated.
	defer func() {
		if r := recover(); r != nil {
			c, issues = nil, wholeIssue("condition could not be compiled: %v", r)
		}
	}()
	e.compiles.Add(1)
	checked, iss := e.env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		for _, ce := range iss.Errors() {
			line, col := ce.Location.Line(), ce.Location.Column()+1
			if line < 1 {
				line, col = 1, 1
			}
			if col < 1 { // some macro errors carry no column
				col = 1
			}
			issues = append(issues, Issue{Line: line, Column: col, Message: ce.Message})
		}
		if len(issues) == 0 {
			issues = wholeIssue("%v", iss.Err())
		}
		return nil, issues
	}
	if t := checked.OutputType(); !t.IsExactType(types.BoolType) {
		return nil, wholeIssue("condition must be a bool, not %s", t)
	}
	est, err := e.env.EstimateCost(checked, sizeEstimator{})
	if err != nil {
		return nil, wholeIssue("condition cost cannot be estimated: %v", err)
	}
	if est.Max > e.limits.MaxStaticCost {
		return nil, wholeIssue("condition may cost up to %d; the limit is %d (avoid nested loops over lists)", est.Max, e.limits.MaxStaticCost)
	}
	prg, err := e.env.Program(checked,
		cel.CostLimit(e.limits.RuntimeCostLimit),
		cel.InterruptCheckFrequency(64),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return nil, wholeIssue("condition cannot be planned: %v", err)
	}
	native := checked.NativeRep()
	var clauses []string
	for _, x := range conjuncts(native.Expr(), nil) {
		s, err := cel.ExprToString(x, native.SourceInfo())
		if err != nil {
			s = expr
		}
		clauses = append(clauses, s)
	}
	return &Condition{expr: expr, key: key, prg: prg, loops: hasComprehension(native.Expr()), clauses: clauses}, nil
}

// conjuncts flattens the top-level && chain of x (the parser balances long
// chains into a tree) into its operands, left to right.
func conjuncts(x ast.Expr, out []ast.Expr) []ast.Expr {
	if x.Kind() == ast.CallKind {
		call := x.AsCall()
		if call.FunctionName() == operators.LogicalAnd && len(call.Args()) == 2 {
			out = conjuncts(call.Args()[0], out)
			return conjuncts(call.Args()[1], out)
		}
	}
	return append(out, x)
}

func hasComprehension(x ast.Expr) bool {
	found := false
	ast.PostOrderVisit(x, ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() == ast.ComprehensionKind {
			found = true
		}
	}))
	return found
}

// sizeEstimator bounds the inputs' lists and maps (64 entries) and strings
// (256 bytes) for static cost estimation, so that one loop over a list
// passes and a loop nested in another does not. Inputs larger at run time
// are still stopped by the runtime cost limit.
type sizeEstimator struct{}

// EstimateSize implements cost.Estimator.
func (sizeEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	path := n.Path()
	if len(path) < 2 {
		return nil
	}
	max := uint64(256) // strings
	if len(path) == 2 {
		switch path[0] + "." + path[1] {
		case "principal.roles", "principal.units", "principal.attributes", "resource.attributes":
			max = 64
		}
	}
	s := cost.RangedSizeEstimate(0, max)
	return &s
}

// EstimateCallCost implements cost.Estimator.
func (sizeEstimator) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	return nil
}

// ErrEvaluation is returned when a condition cannot be evaluated: it
// failed, exceeded its cost or time budget, or did not yield a bool.
var ErrEvaluation = errors.New("condition evaluation failed")

// Eval evaluates c against in. Any failure (runtime error, cost or
// deadline exceeded, a result that is not a bool) is returned as an error
// wrapping ErrEvaluation; callers deny on error.
func (e *Engine) Eval(ctx context.Context, c *Condition, in *Input) (bool, error) {
	act := &activation{in: in}
	var (
		out ref.Val
		err error
	)
	if c.loops {
		ctx, cancel := context.WithTimeout(ctx, e.limits.Deadline)
		out, _, err = c.prg.ContextEval(ctx, act)
		cancel()
	} else {
		out, _, err = c.prg.Eval(act)
	}
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrEvaluation, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("%w: result is %s, not bool", ErrEvaluation, out.Type())
	}
	return bool(b), nil
}

// activation resolves the condition variables from an Input without
// building a map per evaluation.
type activation struct{ in *Input }

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "principal":
		return &a.in.Principal, true
	case "resource":
		return &a.in.Resource, true
	case "request":
		return &a.in.Request, true
	case "now":
		return types.Timestamp{Time: a.in.Now}, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }
