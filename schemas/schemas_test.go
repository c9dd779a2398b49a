package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/schemas"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

func load(t *testing.T) *schemas.Set {
	t.Helper()
	s, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// roundTrip decodes doc strictly into v, re-encodes it and compares the
// JSON, proving the Go type and the schema describe the same document.
func roundTrip(t *testing.T, name string, doc []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: the Go type rejects a schema-valid example: %v", name, err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(doc, &a)
	json.Unmarshal(again, &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("%s: Go round trip changes the document:\n%s\n%s", name, doc, again)
	}
}

func TestExamplesMatchSchemasAndTypes(t *testing.T) {
	s := load(t)
	ex, err := schemas.Examples("tally")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) < 4 {
		t.Fatalf("%d tally examples", len(ex))
	}
	for name, doc := range ex {
		switch {
		case strings.HasSuffix(name, ".input.json"):
			if err := s.Validate(schemas.TallyInput, doc); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			var in sdk.TallyInput
			roundTrip(t, name, doc, &in)
			// The wire codec carries the same value.
			var w wire.Writer
			in.AppendWire(&w)
			var back sdk.TallyInput
			if err := back.ReadWire(wire.NewReader(w.Bytes())); err != nil || !reflect.DeepEqual(in, back) {
				t.Errorf("%s: wire round trip: %v", name, err)
			}
		case strings.HasSuffix(name, ".output.json"):
			if err := s.Validate(schemas.TallyOutput, doc); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			var out sdk.TallyOutput
			roundTrip(t, name, doc, &out)
			var w wire.Writer
			out.AppendWire(&w)
			var back sdk.TallyOutput
			if err := back.ReadWire(wire.NewReader(w.Bytes())); err != nil || !reflect.DeepEqual(out, back) {
				t.Errorf("%s: wire round trip: %v", name, err)
			}
		}
	}
	plugins, err := schemas.Examples("plugin")
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range plugins {
		if err := s.Validate(schemas.Plugin, doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := sdk.ParseManifest(doc); err != nil {
			t.Errorf("%s: schema-valid manifest refused by sdk.ParseManifest: %v", name, err)
		}
	}
}

// Every example of the other hooks validates, matches its Go type, survives
// the wire codec, and is what the reference plugin answers.
func TestHookExamples(t *testing.T) {
	s := load(t)
	type codec interface {
		AppendWire(*wire.Writer)
	}
	hooks := map[string]func() (in, out any){
		"embargo":         func() (any, any) { return &sdk.EmbargoInput{}, &sdk.EmbargoOutput{} },
		"signup_risk":     func() (any, any) { return &sdk.SignupInput{}, &sdk.SignupOutput{} },
		"retention":       func() (any, any) { return &sdk.RetentionInput{}, &sdk.RetentionOutput{} },
		"scan_upload":     func() (any, any) { return &sdk.ScanUploadInput{}, &sdk.ScanUploadOutput{} },
		"scan_message":    func() (any, any) { return &sdk.ScanMessageInput{}, &sdk.ScanMessageOutput{} },
		"validate_ballot": func() (any, any) { return &sdk.ValidateBallotInput{}, &sdk.ValidateBallotOutput{} },
	}
	for hook, mk := range hooks {
		ex, err := schemas.Examples(hook)
		if err != nil || len(ex) < 4 {
			t.Fatalf("%s: %d examples, %v", hook, len(ex), err)
		}
		for name, doc := range ex {
			in, out := mk()
			v, schema := in, schemas.InputSchema(hook)
			if strings.HasSuffix(name, ".output.json") {
				v, schema = out, schemas.OutputSchema(hook)
			}
			if err := s.Validate(schema, doc); err != nil {
				t.Errorf("%s/%s: %v", hook, name, err)
			}
			roundTrip(t, hook+"/"+name, doc, v)
			var w wire.Writer
			v.(codec).AppendWire(&w)
			back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			if err := back.(interface{ ReadWire(*wire.Reader) error }).ReadWire(wire.NewReader(w.Bytes())); err != nil {
				t.Errorf("%s/%s: wire: %v", hook, name, err)
			}
			a, _ := json.Marshal(v)
			b, _ := json.Marshal(back)
			// An empty list decodes from the wire as nil: the same value.
			b = bytes.ReplaceAll(b, []byte("null"), []byte("[]"))
			if !bytes.Equal(a, b) {
				t.Errorf("%s/%s: wire round trip %s != %s", hook, name, a, b)
			}
		}
	}
}

func TestSchemasRejectInvalid(t *testing.T) {
	s := load(t)
	tests := []struct {
		schema, doc string
	}{
		{schemas.Plugin, `{"name":"x","version":"1","abi":1,"hooks":["tally"]}`},
		{schemas.Plugin, `{"name":"x","version":"1.0.0","abi":2,"hooks":["tally"]}`},
		{schemas.Plugin, `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"capabilities":["network"]}`},
		{schemas.TallyInput, `{"ballot_id":"b","rule":"r","quorum":-1,"threshold":{"num":1,"den":2,"strict":true},"by_weight":false,"votes":[]}`},
		{schemas.TallyInput, `{"ballot_id":"b","rule":"r","quorum":1,"threshold":{"num":1,"den":2,"strict":true},"by_weight":false,"votes":[{"voter":"u","choice":"yes","weight":{"num":1,"den":0}}]}`},
		{schemas.TallyOutput, `{"decision":"maybe","quorum_met":true,"counts":[],"explanation":[]}`},
		{schemas.TallyOutput, `not json`},
	}
	for _, tt := range tests {
		if err := s.Validate(tt.schema, []byte(tt.doc)); !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("%s accepted %s (%v)", tt.schema, tt.doc, err)
		}
	}
}

func TestValidateConfig(t *testing.T) {
	schema := []byte(`{"type":"object","additionalProperties":false,"properties":{"countries":{"type":"array","items":{"type":"string","pattern":"^[A-Z]{2}$"}}}}`)
	if err := schemas.ValidateConfig(schema, []byte(`{"countries":["KP","IR"]}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"countries":["north korea"]}`, `{"other":1}`, `[]`, `{`} {
		if err := schemas.ValidateConfig(schema, []byte(bad)); !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("config %s accepted: %v", bad, err)
		}
	}
	if err := schemas.ValidateConfig(nil, []byte(`{"x":1}`)); !errors.Is(err, schemas.ErrInvalid) {
		t.Error("config accepted by a plugin without config schema")
	}
	if err := schemas.ValidateConfig(nil, []byte(`{}`)); err != nil {
		t.Error(err)
	}
}
