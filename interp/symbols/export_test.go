package symbols

import "github.com/traefik/yaegi/interp"

// Policy returns the allowed and denied standard library packages, for tests.
func Policy() (allowed []string, denied map[string]string) { return allowedStd, deniedStd }

// Removed returns the removed symbols as {import path, name} pairs, for tests.
func Removed() [][2]string {
	r := make([][2]string, len(removed))
	for i, x := range removed {
		r[i] = [2]string{x.pkg, x.name}
	}
	return r
}

// Unfiltered returns the tables of the allowed packages before symbol removals, for tests.
func Unfiltered() interp.Exports { return merged() }
