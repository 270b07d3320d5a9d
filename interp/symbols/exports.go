package symbols

import (
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/traefik/yaegi/interp"

	"github.com/loopbook/loopbook/interp/symbols/internal/local"
	"github.com/loopbook/loopbook/interp/symbols/internal/std"
)

// Exports returns a new symbol table holding exactly what cells may use: the allowed standard
// library packages (yaegi's Go 1.22 tables overlaid with tables regenerated for the current Go)
// and Loopbook's loop and display packages under the import paths "loop" and "display", minus
// the removed symbols. The kernel passes it to (*interp.Interpreter).Use, once per interpreter.
// The result shares no map with other callers: changing it changes nothing else.
func Exports() interp.Exports { return filtered() }

// filtered is the policy applied to the tables, in maps of its own. They are built afresh on
// every call from the generated builders (internal/std and internal/local hold no tables), so a
// kernel holds only its interpreter's copy once it has loaded them.
func filtered() interp.Exports {
	out := merged()
	outIdx := byImportPath(out)
	for _, r := range removed {
		if k, ok := outIdx[r.pkg]; ok {
			delete(out[k], r.name)
		}
	}
	return out
}

// merged builds the tables of the allowed packages, before symbol removals: the regenerated
// tables (internal/std), with yaegi's restricted versions of os.Exit, log.Fatal* and log.New
// (restricted.go; the generated os and log tables leave those names out), empty tables for the
// packages yaegi interprets from source, and yaegi's MapTypes.
func merged() interp.Exports {
	stdIdx := byImportPath(std.Tables)
	restricted := exitSyms()
	out := make(interp.Exports, len(allowedStd)+len(localPkgs)+1)
	for _, p := range allowedStd {
		sk, inStd := stdIdx[p]
		if !inStd {
			if slices.Contains(sourceOnly, p) {
				out[p+"/"+path.Base(p)] = map[string]reflect.Value{}
			}
			continue // not generated for this Go version: TestCorePackages reports it
		}
		t := std.Tables[sk]()
		maps.Copy(t, restricted[p])
		out[sk] = t
	}

	// MapTypes: which interfaces fmt.Printf and friends look for in interpreted values.
	out["."] = map[string]reflect.Value{"MapTypes": reflect.ValueOf(mapTypes())}

	localIdx := byImportPath(local.Tables)
	for short, real := range localPkgs {
		k, ok := localIdx[real]
		if !ok {
			continue
		}
		t := local.Tables[k]()
		out[short+"/"+path.Base(k)] = t
		// yaegi finds the wrapper type that lets an interpreted value implement a native
		// interface by the interface's real package path (reflect.Type.PkgPath), so wrappers
		// are also registered there. Only unexported "_Name" entries go there: the long path
		// is not a second way to import the package.
		var wrappers map[string]reflect.Value
		for name, v := range t {
			if strings.HasPrefix(name, "_") {
				if wrappers == nil {
					wrappers = map[string]reflect.Value{}
				}
				wrappers[name] = v
			}
		}
		if wrappers != nil {
			out[real+"/"+path.Base(k)] = wrappers
		}
	}

	return out
}

// byImportPath maps each import path of a yaegi symbol table to its key ("importpath/pkgname").
func byImportPath[T any](tables map[string]T) map[string]string {
	idx := make(map[string]string, len(tables))
	for k := range tables {
		idx[path.Dir(k)] = k
	}
	return idx
}
