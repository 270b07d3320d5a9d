package symbols

import (
	"maps"
	"path"
	"reflect"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/loopbook/loopbook/interp/symbols/internal/local"
	"github.com/loopbook/loopbook/interp/symbols/internal/std"
)

// Exports returns a new symbol table holding exactly what cells may use: the allowed standard
// library packages (yaegi's Go 1.22 tables overlaid with tables regenerated for the current Go)
// and Loopbook's loop and display packages under the import paths "loop" and "display", minus
// the removed symbols. The kernel passes it to (*interp.Interpreter).Use, once per interpreter.
// The result shares no map with other callers: changing it changes nothing else.
func Exports() interp.Exports {
	allowed := filtered()
	out := make(interp.Exports, len(allowed))
	for k, t := range allowed {
		out[k] = maps.Clone(t)
	}
	return out
}

// filtered is the policy applied to the tables, built once: the generated tables are only
// filled by init functions, and yaegi's do not change after init either.
var filtered = sync.OnceValue(func() interp.Exports {
	out := merged()
	outIdx := byImportPath(out)
	for _, r := range removed {
		if k, ok := outIdx[r.pkg]; ok {
			delete(out[k], r.name)
		}
	}
	return out
})

// merged builds the tables of the allowed packages, before symbol removals.
func merged() interp.Exports {
	yaegiIdx := byImportPath(stdlib.Symbols)
	stdIdx := byImportPath(std.Symbols)
	out := make(interp.Exports, len(allowedStd)+len(localPkgs)+1)
	for _, p := range allowedStd {
		// yaegi's table first, so os.Exit, os.FindProcess, log.Fatal* and log.New keep its
		// restricted versions (the generated os and log tables leave those names out); the
		// regenerated table then adds what newer Go versions added and refreshes interface
		// wrappers with any new methods.
		yk, inYaegi := yaegiIdx[p]
		sk, inStd := stdIdx[p]
		if !inYaegi && !inStd {
			continue // not generated for this Go version: TestCorePackages reports it
		}
		t := map[string]reflect.Value{}
		key := yk
		if inYaegi {
			maps.Copy(t, stdlib.Symbols[yk])
		}
		if inStd {
			maps.Copy(t, std.Symbols[sk])
			key = sk
		}
		out[key] = t
	}

	// MapTypes: which interfaces fmt.Printf and friends look for in interpreted values.
	// yaegi's Use copies its entries; the inner map is only read.
	if mt, ok := stdlib.Symbols["."]; ok {
		out["."] = maps.Clone(mt)
	}

	localIdx := byImportPath(local.Symbols)
	for short, real := range localPkgs {
		k, ok := localIdx[real]
		if !ok {
			continue
		}
		t := maps.Clone(local.Symbols[k])
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
func byImportPath(tables map[string]map[string]reflect.Value) map[string]string {
	idx := make(map[string]string, len(tables))
	for k := range tables {
		idx[path.Dir(k)] = k
	}
	return idx
}
