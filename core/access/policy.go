package access

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rule narrows the permissions a role carries: the role holds each of
// Permissions only while Condition is true. An empty Condition changes
// nothing.
type Rule struct {
	Role        string       `json:"role"`
	Permissions []Permission `json:"permissions"`
	Condition   string       `json:"condition,omitempty"`
}

// TestCase is an expected decision that must hold before a policy is
// saved. A zero Now is evaluated as the zero timestamp.
type TestCase struct {
	Name       string     `json:"name"`
	Principal  Principal  `json:"principal"`
	Permission Permission `json:"permission"`
	Resource   Resource   `json:"resource"`
	Request    Request    `json:"request"`
	Now        time.Time  `json:"now"`
	Allow      bool       `json:"allow"`
}

// Policy is a tenant's rules and the test cases guarding them. It is
// stored as JSON.
type Policy struct {
	Rules []Rule     `json:"rules"`
	Tests []TestCase `json:"tests,omitempty"`
}

// Limits on a policy's size.
const (
	MaxRules       = 500
	MaxTests       = 500
	MaxPolicyBytes = 1 << 20
)

// ErrInvalidPolicy is wrapped by errors for a policy that cannot be read.
var ErrInvalidPolicy = errors.New("invalid policy")

// ParsePolicy decodes a policy from JSON, refusing unknown fields,
// trailing data and documents larger than MaxPolicyBytes. It does not
// validate conditions: see Engine.CompilePolicy.
func ParsePolicy(data []byte) (Policy, error) {
	var p Policy
	if len(data) > MaxPolicyBytes {
		return p, fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidPolicy, len(data), MaxPolicyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if dec.More() {
		return Policy{}, fmt.Errorf("%w: data after the policy", ErrInvalidPolicy)
	}
	return p, nil
}

// RuleIssues lists the problems of one rule. Issues in the condition have
// 1-based Line and Column; problems with the role or permissions have
// Line and Column 0.
type RuleIssues struct {
	Rule   int     `json:"rule"`
	Issues []Issue `json:"issues"`
}

// ValidationError is returned for a policy with invalid rules or test
// cases.
type ValidationError struct {
	Rules []RuleIssues `json:"rules,omitempty"`
	// Problems are issues outside the rules (size, test cases).
	Problems []string `json:"problems,omitempty"`
}

// Error implements error.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid policy:")
	for _, r := range e.Rules {
		for _, is := range r.Issues {
			fmt.Fprintf(&b, " rule %d: %s;", r.Rule, is)
		}
	}
	for _, p := range e.Problems {
		fmt.Fprintf(&b, " %s;", p)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Unwrap makes a ValidationError match ErrInvalidPolicy.
func (e *ValidationError) Unwrap() error { return ErrInvalidPolicy }

// TestResult is the outcome of one failed test case.
type TestResult struct {
	Test int    `json:"test"`
	Name string `json:"name"`
	Want bool   `json:"want"`
	// Got is the decision the policy made, as Explain reports it.
	Got Decision `json:"got"`
}

// TestFailure is returned when a policy fails its own test cases.
type TestFailure struct {
	Failed []TestResult `json:"failed"`
}

// Error implements error.
func (e *TestFailure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy fails %d test case(s):", len(e.Failed))
	for _, f := range e.Failed {
		fmt.Fprintf(&b, " #%d %q wants allow=%t, got %t (%s);", f.Test, f.Name, f.Want, f.Got.Allow, f.Got.Reason)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// CompiledPolicy is a policy whose conditions are compiled, ready for
// Decide. It is immutable and safe for concurrent use.
type CompiledPolicy struct {
	policy Policy
	conds  []*Condition // by rule; nil for an empty condition
	index  map[ruleKey][]int
}

type ruleKey struct {
	role string
	perm Permission
}

// Policy returns the policy cp was compiled from.
func (cp *CompiledPolicy) Policy() Policy { return cp.policy }

// CompilePolicy validates every rule of p and compiles its conditions.
// Role names must be well formed (whether the role exists is not checked
// here: a rule naming a role nobody has is inert). Problems are returned
// as a *ValidationError. Test cases are not run: see RunTests.
func (e *Engine) CompilePolicy(p Policy) (*CompiledPolicy, error) {
	verr := &ValidationError{}
	if len(p.Rules) > MaxRules {
		verr.Problems = append(verr.Problems, fmt.Sprintf("%d rules, the limit is %d", len(p.Rules), MaxRules))
	}
	if len(p.Tests) > MaxTests {
		verr.Problems = append(verr.Problems, fmt.Sprintf("%d test cases, the limit is %d", len(p.Tests), MaxTests))
	}
	if len(verr.Problems) > 0 {
		return nil, verr
	}
	cp := &CompiledPolicy{policy: p, conds: make([]*Condition, len(p.Rules)), index: make(map[ruleKey][]int)}
	for i, r := range p.Rules {
		var issues []Issue
		if !ValidRoleName(r.Role) {
			issues = append(issues, Issue{Message: fmt.Sprintf("role %q is not a valid role name", r.Role)})
		}
		if len(r.Permissions) == 0 {
			issues = append(issues, Issue{Message: "rule names no permission"})
		}
		for _, perm := range r.Permissions {
			if !perm.Valid() {
				issues = append(issues, Issue{Message: fmt.Sprintf("unknown permission %q", perm)})
			}
		}
		if strings.TrimSpace(r.Condition) != "" {
			c, cissues := e.Compile(r.Condition)
			issues = append(issues, cissues...)
			cp.conds[i] = c
		}
		if len(issues) > 0 {
			verr.Rules = append(verr.Rules, RuleIssues{Rule: i, Issues: issues})
			continue
		}
		for _, perm := range dedupPermissions(r.Permissions) {
			k := ruleKey{r.Role, perm}
			cp.index[k] = append(cp.index[k], i)
		}
	}
	for i, tc := range p.Tests {
		if !tc.Permission.Valid() {
			verr.Problems = append(verr.Problems, fmt.Sprintf("test %d (%q): unknown permission %q", i, tc.Name, tc.Permission))
		}
	}
	if len(verr.Rules) > 0 || len(verr.Problems) > 0 {
		return nil, verr
	}
	return cp, nil
}

// RunTests runs the policy's test cases against the roles of cat and
// returns a *TestFailure listing those that fail, or nil.
func (e *Engine) RunTests(ctx context.Context, cp *CompiledPolicy, cat *Catalog) error {
	var tf TestFailure
	for i, tc := range cp.policy.Tests {
		in := Input{Principal: tc.Principal, Resource: tc.Resource, Request: tc.Request, Now: tc.Now}
		ex := e.Explain(ctx, cp, cat, &in, tc.Permission)
		if ex.Decision.Allow != tc.Allow {
			tf.Failed = append(tf.Failed, TestResult{Test: i, Name: tc.Name, Want: tc.Allow, Got: ex.Decision})
		}
	}
	if len(tf.Failed) > 0 {
		return &tf
	}
	return nil
}

// Reasons given in a Decision.
const (
	ReasonGranted           = "granted by role"
	ReasonNoRoles           = "principal holds no role"
	ReasonNotCarried        = "no role of the principal carries the permission"
	ReasonConditionFalse    = "a condition of a rule for the role and permission is false"
	ReasonConditionError    = "a condition could not be evaluated"
	ReasonUnknownPermission = "unknown permission"
	ReasonNoPolicy          = "no policy"
)

// Decision is the outcome of an authorisation.
type Decision struct {
	Allow      bool       `json:"allow"`
	Role       string     `json:"role,omitempty"`
	Permission Permission `json:"permission"`
	// Rule is the index of the deciding rule: on a denial, the rule whose
	// condition failed; on an allow, the last conditional rule satisfied;
	// -1 when no rule took part.
	Rule int `json:"rule"`
	// Clause is the top-level && operand of the failing condition that
	// was false. Only Explain fills it in.
	Clause string `json:"clause,omitempty"`
	// Reason is one of the Reason constants.
	Reason string `json:"reason"`
}

// RuleTrace is one rule evaluated in Explain.
type RuleTrace struct {
	Rule      int    `json:"rule"`
	Condition string `json:"condition"`
	Result    bool   `json:"result"`
	Error     string `json:"error,omitempty"`
	// Clause is the first top-level && operand that was false (or failed),
	// when Result is false.
	Clause string `json:"clause,omitempty"`
}

// RoleTrace is one role of the principal considered in Explain.
type RoleTrace struct {
	Role string `json:"role"`
	// Known reports whether the tenant has the role.
	Known bool `json:"known"`
	// Carries reports whether the role lists the permission.
	Carries bool `json:"carries"`
	// Allow reports whether the principal holds the permission through
	// this role.
	Allow bool        `json:"allow"`
	Rules []RuleTrace `json:"rules,omitempty"`
}

// Explanation is a decision with the reasoning behind it.
type Explanation struct {
	Decision Decision    `json:"decision"`
	Roles    []RoleTrace `json:"roles"`
}

// Decide decides whether the principal of in holds perm under cp and the
// roles of cat. It evaluates precompiled conditions only and never
// compiles. A nil cp is the empty policy.
func (e *Engine) Decide(ctx context.Context, cp *CompiledPolicy, cat *Catalog, in *Input, perm Permission) Decision {
	return e.decide(ctx, cp, cat, in, perm, nil)
}

// Explain decides like Decide, but considers every role of the principal
// and, for each failed condition, evaluates its top-level && operands one
// by one to report the first that was false. It may compile those
// operands (once; they are cached).
func (e *Engine) Explain(ctx context.Context, cp *CompiledPolicy, cat *Catalog, in *Input, perm Permission) Explanation {
	ex := &Explanation{Roles: []RoleTrace{}}
	ex.Decision = e.decide(ctx, cp, cat, in, perm, ex)
	return *ex
}

func (e *Engine) decide(ctx context.Context, cp *CompiledPolicy, cat *Catalog, in *Input, perm Permission, ex *Explanation) Decision {
	d := Decision{Permission: perm, Rule: -1}
	switch {
	case !perm.Valid():
		d.Reason = ReasonUnknownPermission
		return d
	case len(in.Principal.Roles) == 0:
		d.Reason = ReasonNoRoles
		return d
	}
	denied := false
	for _, role := range in.Principal.Roles {
		set, known := cat.lookup(role)
		var rt *RoleTrace
		if ex != nil {
			ex.Roles = append(ex.Roles, RoleTrace{Role: role, Known: known})
			rt = &ex.Roles[len(ex.Roles)-1]
		}
		if !known || !set.has(perm) {
			continue
		}
		if rt != nil {
			rt.Carries = true
		}
		failed, last, reason, clause := -1, -1, "", ""
		if cp != nil {
			for _, i := range cp.index[ruleKey{role, perm}] {
				c := cp.conds[i]
				if c == nil {
					continue
				}
				ok, err := e.Eval(ctx, c, in)
				var tr RuleTrace
				if rt != nil {
					tr = RuleTrace{Rule: i, Condition: c.expr, Result: ok}
					if err != nil {
						tr.Error = err.Error()
					}
				}
				if err == nil && ok {
					last = i
					if rt != nil {
						rt.Rules = append(rt.Rules, tr)
					}
					continue
				}
				failed, reason = i, ReasonConditionFalse
				if err != nil {
					reason = ReasonConditionError
				}
				if rt != nil {
					clause = e.falseClause(ctx, c, in)
					tr.Clause = clause
					rt.Rules = append(rt.Rules, tr)
				}
				break
			}
		}
		if failed < 0 {
			if rt != nil {
				rt.Allow = true
			}
			if !d.Allow {
				d = Decision{Allow: true, Role: role, Permission: perm, Rule: last, Reason: ReasonGranted}
			}
			if ex == nil {
				return d
			}
			continue
		}
		if !d.Allow && !denied {
			denied = true
			d.Role, d.Rule, d.Reason, d.Clause = role, failed, reason, clause
		}
	}
	if !d.Allow && !denied {
		d.Reason = ReasonNotCarried
	}
	return d
}

// falseClause returns the first top-level && operand of c that is false
// or fails for in, or c's text when none is (which happens only when the
// whole condition failed to evaluate).
func (e *Engine) falseClause(ctx context.Context, c *Condition, in *Input) string {
	if len(c.clauses) == 1 {
		return c.clauses[0]
	}
	for _, text := range c.clauses {
		cc, issues := e.Compile(text)
		if issues != nil {
			continue
		}
		if ok, err := e.Eval(ctx, cc, in); err != nil || !ok {
			return text
		}
	}
	return c.expr
}
