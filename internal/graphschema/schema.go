// Package graphschema is Microsoft Graph's own type metadata for the
// resources the lab serves, and the one place request bodies are held up
// against it before the lab's strict decoders see them.
//
// schema.json is data extracted from Graph's published CSDL
// (github.com/microsoftgraph/msgraph-metadata, commit f54f11b6 of
// 2026-08-20, clean_v10_metadata/cleanMetadata.xml, MIT License, Copyright
// (c) 2018 Microsoft Graph): every entity and complex type reachable from
// the lab's resources, with their properties and Edm types, the enum
// types they use, and, as betaProps, the property names the beta schema
// adds (schemas/type-mappings/beta-*-types.json of the same commit; beta
// lists names only). Property names, enum members and types the lab uses
// come from here, not from memory.
package graphschema

import (
	_ "embed"
	"encoding/json"
	"strings"
	"sync"
)

//go:embed schema.json
var schemaJSON []byte

// Type is one entity or complex type.
type Type struct {
	Base      string            `json:"base"`
	Abstract  bool              `json:"abstract"`
	Kind      string            `json:"kind"` // e: entity, c: complex
	Props     map[string]string `json:"props"`
	BetaProps []string          `json:"betaProps"`
}

// EnumType is one enum type.
type EnumType struct {
	Flags   bool     `json:"flags"`
	Members []string `json:"members"`
}

type schema struct {
	Types map[string]*Type     `json:"types"`
	Enums map[string]*EnumType `json:"enums"`
}

var load = sync.OnceValue(func() *schema {
	var s schema
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		panic("graphschema: embedded schema.json is corrupt: " + err.Error())
	}
	return &s
})

// Namespace prefixes every type name.
const Namespace = "microsoft.graph."

// Qualify returns the full type name: "user" and "#microsoft.graph.user"
// both become "microsoft.graph.user".
func Qualify(name string) string {
	name = strings.TrimPrefix(name, "#")
	if !strings.HasPrefix(name, Namespace) {
		return Namespace + name
	}
	return name
}

// Lookup finds a type by short or full name.
func Lookup(name string) (*Type, bool) {
	t, ok := load().Types[Qualify(name)]
	return t, ok
}

// Enum finds an enum type by short or full name.
func Enum(name string) (*EnumType, bool) {
	e, ok := load().Enums[Qualify(name)]
	return e, ok
}

// Property returns a property's Edm type, searching the base types too;
// beta also admits the names only the beta schema has (type "").
func Property(typeName, prop string, beta bool) (string, bool) {
	for name := Qualify(typeName); name != ""; {
		t, ok := load().Types[name]
		if !ok {
			return "", false
		}
		if pt, ok := t.Props[prop]; ok {
			return strings.TrimPrefix(pt, "nav:"), true
		}
		if beta {
			for _, p := range t.BetaProps {
				if p == prop {
					return "", true
				}
			}
		}
		name = t.Base
	}
	return "", false
}

// IsA reports whether derived is base or inherits from it.
func IsA(derived, base string) bool {
	base = Qualify(base)
	for name := Qualify(derived); name != ""; {
		if name == base {
			return true
		}
		t, ok := load().Types[name]
		if !ok {
			return false
		}
		name = t.Base
	}
	return false
}

// ElementType strips Collection( ) from an Edm type.
func ElementType(edm string) (elem string, collection bool) {
	if s, ok := strings.CutPrefix(edm, "Collection("); ok {
		return strings.TrimSuffix(s, ")"), true
	}
	return edm, false
}
