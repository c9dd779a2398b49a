package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/plenum-vote/plenum/schemas"
	"github.com/plenum-vote/plenum/sdk"
	"github.com/plenum-vote/plenum/sdk/wire"
)

// codec is what every hook type implements.
type codec interface {
	sdk.Encoder
	sdk.Decoder
}

// goTypes returns new Go values for a hook's input and output.
var goTypes = map[string]func() (in, out codec){
	"tally":           func() (codec, codec) { return &sdk.TallyInput{}, &sdk.TallyOutput{} },
	"validate_ballot": func() (codec, codec) { return &sdk.ValidateBallotInput{}, &sdk.ValidateBallotOutput{} },
	"scan_upload":     func() (codec, codec) { return &sdk.ScanUploadInput{}, &sdk.ScanUploadOutput{} },
	"scan_message":    func() (codec, codec) { return &sdk.ScanMessageInput{}, &sdk.ScanMessageOutput{} },
	"retention":       func() (codec, codec) { return &sdk.RetentionInput{}, &sdk.RetentionOutput{} },
	"embargo":         func() (codec, codec) { return &sdk.EmbargoInput{}, &sdk.EmbargoOutput{} },
	"signup_risk":     func() (codec, codec) { return &sdk.SignupInput{}, &sdk.SignupOutput{} },
}

func TestEveryHookHasSchemasAndExamples(t *testing.T) {
	for _, h := range sdk.Hooks() {
		name := h.String()
		if _, ok := goTypes[name]; !ok {
			t.Errorf("%s: no Go types in this test", name)
		}
		for _, s := range []string{schemas.InputSchema(name), schemas.OutputSchema(name)} {
			if _, err := schemas.Compile(s); err != nil {
				t.Errorf("%s: %v", s, err)
			}
		}
		ex, err := schemas.Examples(name)
		if err != nil {
			t.Fatal(err)
		}
		pairs := 0
		for file := range ex {
			if base, ok := strings.CutSuffix(file, ".input.json"); ok {
				if _, ok := ex[base+".output.json"]; !ok {
					t.Errorf("%s/%s has no output", name, file)
				}
				pairs++
			}
		}
		if pairs < 2 {
			t.Errorf("%s: %d examples, want at least 2", name, pairs)
		}
	}
	if len(schemas.Names()) != 1+2*len(sdk.Hooks()) {
		t.Errorf("schemas: %v", schemas.Names())
	}
}

// TestExamples walks every example: it validates against its schema,
// decodes strictly into the sdk's Go type and re-encodes to the same JSON,
// and the Go value survives the wire codec unchanged.
func TestExamples(t *testing.T) {
	n := 0
	err := fs.WalkDir(os.DirFS("examples"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		doc, err := os.ReadFile(path.Join("examples", p))
		if err != nil {
			return err
		}
		hook := strings.SplitN(p, "/", 2)[0]
		n++
		t.Run(p, func(t *testing.T) {
			if hook == "plugin" {
				if err := schemas.ValidateManifest(doc); err != nil {
					t.Fatal(err)
				}
				m, err := sdk.ParseManifest(doc)
				if err != nil {
					t.Fatalf("schema-valid manifest refused by sdk.ParseManifest: %v", err)
				}
				sameJSON(t, doc, m)
				return
			}
			mk, ok := goTypes[hook]
			if !ok {
				t.Fatalf("examples of unknown hook %q", hook)
			}
			v, out := mk()
			schema := schemas.InputSchema(hook)
			if strings.HasSuffix(p, ".output.json") {
				v, schema = out, schemas.OutputSchema(hook)
			} else if !strings.HasSuffix(p, ".input.json") {
				t.Fatal("example names end in .input.json or .output.json")
			}
			if err := schemas.ValidateJSON(schema, doc); err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("the Go type rejects a schema-valid example: %v", err)
			}
			sameJSON(t, doc, v)

			back := reflect.New(reflect.TypeOf(v).Elem()).Interface().(codec)
			if err := back.ReadWire(wire.NewReader(sdk.Encode(v))); err != nil {
				t.Fatalf("wire: %v", err)
			}
			emptyToNil(reflect.ValueOf(v))
			if !reflect.DeepEqual(v, back) {
				t.Fatalf("wire round trip changes the value:\n%+v\n%+v", v, back)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Errorf("only %d examples", n)
	}
}

// sameJSON checks that v encodes to the same JSON document as doc.
func sameJSON(t *testing.T, doc []byte, v any) {
	t.Helper()
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(doc, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(again, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("Go round trip changes the document:\n%s\n%s", doc, again)
	}
}

// emptyToNil replaces empty slices with nil throughout v: the wire codec,
// like the JSON encoder with omitempty, does not tell them apart. Raw
// JSON (config) is compacted by the JSON round trip above, so compare it
// compacted too.
func emptyToNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			emptyToNil(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			emptyToNil(v.Field(i))
		}
	case reflect.Slice:
		if v.Len() == 0 && !v.IsNil() {
			v.Set(reflect.Zero(v.Type()))
		}
		for i := 0; i < v.Len(); i++ {
			emptyToNil(v.Index(i))
		}
	}
}

func TestSchemasRejectInvalid(t *testing.T) {
	tests := []struct {
		schema, doc string
	}{
		{schemas.Plugin, `{"name":"x","version":"1","abi":1,"hooks":["tally"]}`},
		{schemas.Plugin, `{"name":"x","version":"1.0.0","abi":2,"hooks":["tally"]}`},
		{schemas.Plugin, `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"capabilities":["network"]}`},
		{schemas.Plugin, `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally","tally"]}`},
		{schemas.Plugin, `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"limits":{"max_input_bytes":1073741824}}`},
		{schemas.Plugin, `{"name":"x","version":"1.0.0","abi":1,"hooks":["tally"],"signature":{"key_id":"XYZ","value":"AA=="}}`},
		{schemas.TallyInput, `{"ballot_id":"b","rule":"r","quorum":-1,"threshold":{"num":1,"den":2,"strict":true},"votes":[]}`},
		{schemas.TallyInput, `{"ballot_id":"b","rule":"r","quorum":1,"threshold":{"num":1,"den":2,"strict":true},"votes":[{"voter":"u","choice":"yes","weight":{"num":1,"den":0}}]}`},
		{schemas.TallyInput, `{"ballot_id":"b","kind":"referendum","rule":"r","quorum":1,"threshold":{"num":1,"den":2,"strict":true},"votes":[]}`},
		{schemas.TallyInput, `{"ballot_id":"b","rule":"r","counting":"head","by_weight":true,"quorum":1,"threshold":{"num":1,"den":2,"strict":true},"votes":[]}`},
		{schemas.TallyInput, `{"ballot_id":"b","rule":"r","quorum":1,"threshold":{"num":1,"den":2,"strict":true},"votes":[],"extra":1}`},
		{schemas.TallyOutput, `{"decision":"maybe","quorum_met":true,"counts":[],"explanation":[]}`},
		{schemas.TallyOutput, `{"decision":"elected","quorum_met":true,"counts":[],"explanation":[]}`},
		{schemas.TallyOutput, `not json`},
		{"validate_ballot.output.schema.json", `{"valid":true,"problems":[{"field":"x","message":"y"}]}`},
		{"scan_upload.output.schema.json", `{"verdict":"clean","detected_type":"","findings":[{"rule":"r","severity":"urgent","message":"","offset":0}]}`},
		{"scan_message.input.schema.json", `{"from":"","display_name":"","reply_to":"","to":[],"subject":"","tenant_name":"","tenant_domains":[],"spf":"ok","dkim":"pass","dmarc":"pass","text_body":"","html_body":"","links":[],"attachments":[]}`},
		{"scan_message.output.schema.json", `{"verdict":"deliver","score":101,"reasons":[]}`},
		{"retention.input.schema.json", `{"now":1,"records":[{"class":"invoice","id":"i","created":0,"last_activity":0,"deleted":0,"closed":0,"legal_hold":false}]}`},
		{"retention.output.schema.json", `{"decisions":[{"id":"i","action":"archive","at":0,"reason":""}]}`},
		{"embargo.input.schema.json", `{"ip":"192.0.2.1","country":"kp","tenant_blocked":[]}`},
		{"signup_risk.output.schema.json", `{"action":"maybe","score":0,"reasons":[]}`},
		{"signup_risk.input.schema.json", `{"email_domain":"x","domain_has_mx":true,"country":"","per_ip":0,"per_subnet":0,"per_domain":0,"device_hash":"","invitation_used":false}`},
	}
	for _, tt := range tests {
		if err := schemas.ValidateJSON(tt.schema, []byte(tt.doc)); !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("%s accepted %s (%v)", tt.schema, tt.doc, err)
		}
	}
}

// The Go side refuses what the schemas refuse: an unknown enum value that
// strict JSON decoding lets through is caught by the wire decoder.
func TestGoRefusesUnknownEnums(t *testing.T) {
	tests := []struct {
		hook, doc string
		output    bool
	}{
		{"tally", `{"ballot_id":"b","kind":"referendum","rule":"r","quorum":0,"threshold":{"num":0,"den":0,"strict":false},"votes":[]}`, false},
		{"tally", `{"decision":"maybe","quorum_met":true,"counts":[],"explanation":[]}`, true},
		{"scan_upload", `{"verdict":"fine","detected_type":"","findings":[]}`, true},
		{"scan_message", `{"verdict":"spam","score":0,"reasons":[]}`, true},
		{"retention", `{"decisions":[{"id":"i","action":"archive","at":0,"reason":""}]}`, true},
		{"signup_risk", `{"action":"maybe","score":0,"reasons":[]}`, true},
	}
	for _, tt := range tests {
		in, out := goTypes[tt.hook]()
		v, schema := in, schemas.InputSchema(tt.hook)
		if tt.output {
			v, schema = out, schemas.OutputSchema(tt.hook)
		}
		if err := schemas.ValidateJSON(schema, []byte(tt.doc)); !errors.Is(err, schemas.ErrInvalid) {
			t.Errorf("%s: schema accepted %s", schema, tt.doc)
		}
		if err := json.Unmarshal([]byte(tt.doc), v); err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface().(codec)
		if err := sdk.Decode(sdk.Encode(v), back); !errors.Is(err, sdk.ErrInvalid) {
			t.Errorf("%s: wire decoder accepted %s: %v", schema, tt.doc, err)
		}
	}
}

func TestCompileUnknown(t *testing.T) {
	if _, err := schemas.Compile("nope.schema.json"); err == nil {
		t.Error("unknown schema compiled")
	}
	if err := schemas.ValidateJSON("nope.schema.json", []byte(`{}`)); err == nil || errors.Is(err, schemas.ErrInvalid) {
		t.Errorf("unknown schema: %v", err)
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
