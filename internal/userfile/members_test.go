package userfile

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzMembers checks that the byte scanner splits every JSON object
// exactly as encoding/json does (go test runs the seeds; go test -fuzz
// FuzzMembers explores further).
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a" : "x,}]\"" , "b":[1,{"c":"]"}],"c":null}`,
		`{"a":true,"a":false}`, `{"k\u00e9y":-1.5e3,"n":{"x":{"y":[]}}}`,
		"{\n\t\"a\"\r\n:\t\"\\\\\"\n}", `{"a":"\u0041\ud83d\ude00"}`, `{"":0}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var probe map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &probe) != nil || !json.Valid([]byte(s)) {
			return // members only ever sees one valid object
		}
		want, wantDups, err := decodeMembers([]byte(s))
		if err != nil {
			t.Fatalf("decodeMembers(%q): %v", s, err)
		}
		got, dups, ok := scanMembers([]byte(s))
		if !ok {
			// Allowed (members then decodes), but the seeds must scan.
			return
		}
		if len(got) != len(want) || !reflect.DeepEqual(dups, wantDups) {
			t.Fatalf("scanMembers(%q) = %v %v, want %v %v", s, got, dups, want, wantDups)
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Fatalf("scanMembers(%q)[%q] = %s, want %s", s, k, got[k], v)
			}
		}
	})
}

func TestScanMembersTakesTheSeeds(t *testing.T) {
	for _, s := range []string{`{}`, `{"a" : "x,}]\"" , "b":[1,{"c":"]"}],"c":null}`, `{"a":1,"a":2}`} {
		if _, _, ok := scanMembers([]byte(s)); !ok {
			t.Errorf("scanMembers(%s) fell back to the decoder", s)
		}
	}
}
