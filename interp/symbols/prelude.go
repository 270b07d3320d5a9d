package symbols

import (
	"fmt"
	"go/parser"

	"github.com/traefik/yaegi/interp"
)

// A File is one Go source file of the prelude.
type File struct {
	Name string // file name used in positions; also scopes the file's imports in yaegi
	Src  string
}

// Prelude returns the Go source the kernel compiles into every interpreter after Use(Exports()),
// in order. It completes yaegi's interpreted cmp, maps and slices packages: yaegi v0.16.1 cannot
// infer a type parameter that appears only inside another one's constraint (S ~[]E, M ~map[K]V),
// so most of its own functions fail with "undefined type for E", and slices.Sort, Min, Max,
// BinarySearch are missing. The prelude declares those functions again with plain []E and
// map[K]V parameters, which yaegi handles; named slice and map types still work as arguments.
// Results are []E or map[K]V rather than the argument's named type; they assign back to it.
//
// yaegi cannot infer a type argument from variadic arguments alone, nor from a func type, so
// these need it written out: slices.Concat[int](a, b), cmp.Or[string](s, "default"), and
// slices.Collect / slices.Sorted, which take iterators returned by native code:
// slices.Collect[string](strings.SplitSeq(s, ",")).
//
// Still unavailable: everything that makes iterators (maps.Keys, maps.Values, maps.All,
// slices.All, slices.Values, slices.Backward, slices.Chunk, ...): yaegi can neither range over
// a func nor return a func from a generic func. Use for range over the map or slice instead.
//
// Each file is its own file name so that its imports do not collide with those of yaegi's
// embedded sources or of cells (yaegi scopes imports by file name; cells use "_.go").
func Prelude() []File {
	return []File{
		{"prelude_cmp.go", preludeCmp},
		{"prelude_slices.go", preludeSlices},
		{"prelude_maps.go", preludeMaps},
	}
}

// Load makes i ready for cells: it loads Exports() and compiles the Prelude.
func Load(i *interp.Interpreter) error {
	if err := i.Use(Exports()); err != nil {
		return fmt.Errorf("symbols: use: %w", err)
	}
	for _, f := range Prelude() {
		file, err := parser.ParseFile(i.FileSet(), f.Name, f.Src, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("symbols: prelude: %w", err)
		}
		if _, err := i.CompileAST(file); err != nil {
			return fmt.Errorf("symbols: prelude %s: %w", f.Name, err)
		}
	}
	return nil
}

const preludeCmp = `package cmp

// Or returns the first of its arguments that is not the zero value, or the zero value.
func Or[T comparable](vals ...T) T {
	var zero T
	for _, v := range vals {
		if v != zero {
			return v
		}
	}
	return zero
}
`

const preludeSlices = `package slices

import (
	"cmp"
	"sort"
)

// Equal reports whether s1 and s2 have the same length and equal elements.
func Equal[E comparable](s1, s2 []E) bool {
	if len(s1) != len(s2) {
		return false
	}
	for i := range s1 {
		if s1[i] != s2[i] {
			return false
		}
	}
	return true
}

// Compare compares s1 and s2 element by element as cmp.Compare does, then by length.
// (It cannot call cmp.Compare: yaegi resolves that to this function.)
func Compare[E cmp.Ordered](s1, s2 []E) int {
	for i := 0; i < len(s1) && i < len(s2); i++ {
		if cmp.Less(s1[i], s2[i]) {
			return -1
		}
		if cmp.Less(s2[i], s1[i]) {
			return 1
		}
	}
	switch {
	case len(s1) < len(s2):
		return -1
	case len(s1) > len(s2):
		return 1
	}
	return 0
}

// Insert inserts vs at index i and returns the result.
func Insert[E any](s []E, i int, vs ...E) []E {
	if i < 0 || i > len(s) {
		panic("slices.Insert: index out of range")
	}
	r := make([]E, 0, len(s)+len(vs))
	r = append(r, s[:i]...)
	r = append(r, vs...)
	return append(r, s[i:]...)
}

// Delete removes s[i:j] and returns the result; the tail it vacates is zeroed.
func Delete[E any](s []E, i, j int) []E {
	if i < 0 || j > len(s) || i > j {
		panic("slices.Delete: index out of range")
	}
	n := copy(s[i:], s[j:])
	zeroTail(s, i+n)
	return s[:i+n]
}

// DeleteFunc removes the elements for which del returns true and returns the result.
func DeleteFunc[E any](s []E, del func(E) bool) []E {
	n := 0
	for _, v := range s {
		if !del(v) {
			s[n] = v
			n++
		}
	}
	zeroTail(s, n)
	return s[:n]
}

func zeroTail[E any](s []E, from int) {
	var zero E
	for k := from; k < len(s); k++ {
		s[k] = zero
	}
}

// Replace replaces s[i:j] with vs and returns the result.
func Replace[E any](s []E, i, j int, vs ...E) []E {
	if i < 0 || j > len(s) || i > j {
		panic("slices.Replace: index out of range")
	}
	r := make([]E, 0, len(s)-(j-i)+len(vs))
	r = append(r, s[:i]...)
	r = append(r, vs...)
	return append(r, s[j:]...)
}

// Clone returns a copy of s; a nil s gives nil.
func Clone[E any](s []E) []E {
	if s == nil {
		return nil
	}
	return append([]E{}, s...)
}

// Compact replaces runs of equal elements by one and returns the result.
func Compact[E comparable](s []E) []E {
	return CompactFunc(s, func(a, b E) bool { return a == b })
}

// CompactFunc is Compact with eq deciding equality.
func CompactFunc[E any](s []E, eq func(E, E) bool) []E {
	if len(s) < 2 {
		return s
	}
	n := 1
	for k := 1; k < len(s); k++ {
		if !eq(s[n-1], s[k]) {
			s[n] = s[k]
			n++
		}
	}
	zeroTail(s, n)
	return s[:n]
}

// Grow makes room for n more elements without reallocating.
func Grow[E any](s []E, n int) []E {
	if n < 0 {
		panic("slices.Grow: negative n")
	}
	if cap(s)-len(s) >= n {
		return s
	}
	r := make([]E, len(s), len(s)+n)
	copy(r, s)
	return r
}

// Clip removes unused capacity.
func Clip[E any](s []E) []E {
	return s[:len(s):len(s)]
}

// Concat returns a new slice holding the elements of all its arguments.
func Concat[E any](ss ...[]E) []E {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	if n == 0 {
		return nil
	}
	r := make([]E, 0, n)
	for _, s := range ss {
		r = append(r, s...)
	}
	return r
}

// Reverse reverses s in place.
func Reverse[E any](s []E) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// Sort sorts s in increasing order (NaNs first), not stably.
func Sort[E cmp.Ordered](s []E) {
	sort.Slice(s, func(i, j int) bool { return cmp.Less(s[i], s[j]) })
}

// SortFunc sorts s by c (negative: a before b), not stably.
func SortFunc[E any](s []E, c func(a, b E) int) {
	sort.Slice(s, func(i, j int) bool { return c(s[i], s[j]) < 0 })
}

// SortStableFunc sorts s by c, keeping the order of equal elements.
func SortStableFunc[E any](s []E, c func(a, b E) int) {
	sort.SliceStable(s, func(i, j int) bool { return c(s[i], s[j]) < 0 })
}

// IsSorted reports whether s is in increasing order.
func IsSorted[E cmp.Ordered](s []E) bool {
	for k := 1; k < len(s); k++ {
		if cmp.Less(s[k], s[k-1]) {
			return false
		}
	}
	return true
}

// IsSortedFunc reports whether s is sorted by c.
func IsSortedFunc[E any](s []E, c func(a, b E) int) bool {
	for k := 1; k < len(s); k++ {
		if c(s[k], s[k-1]) < 0 {
			return false
		}
	}
	return true
}

// Min returns the smallest element; a NaN wins. It panics on an empty slice.
func Min[E cmp.Ordered](s []E) E {
	if len(s) == 0 {
		panic("slices.Min: empty list")
	}
	m := s[0]
	for _, v := range s[1:] {
		if v != v {
			return v
		}
		if v < m {
			m = v
		}
	}
	return m
}

// Max returns the largest element; a NaN wins. It panics on an empty slice.
func Max[E cmp.Ordered](s []E) E {
	if len(s) == 0 {
		panic("slices.Max: empty list")
	}
	m := s[0]
	for _, v := range s[1:] {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

// MinFunc returns the first smallest element by c. It panics on an empty slice.
func MinFunc[E any](s []E, c func(a, b E) int) E {
	if len(s) == 0 {
		panic("slices.MinFunc: empty list")
	}
	m := s[0]
	for _, v := range s[1:] {
		if c(v, m) < 0 {
			m = v
		}
	}
	return m
}

// MaxFunc returns the first largest element by c. It panics on an empty slice.
func MaxFunc[E any](s []E, c func(a, b E) int) E {
	if len(s) == 0 {
		panic("slices.MaxFunc: empty list")
	}
	m := s[0]
	for _, v := range s[1:] {
		if c(v, m) > 0 {
			m = v
		}
	}
	return m
}

// BinarySearch finds where target is, or would be, in the sorted s, and whether it is there.
func BinarySearch[E cmp.Ordered](s []E, target E) (int, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if cmp.Less(s[mid], target) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(s) && cmp.Compare(s[lo], target) == 0
}

// BinarySearchFunc is BinarySearch with c comparing an element to the target.
func BinarySearchFunc[E, T any](s []E, target T, c func(E, T) int) (int, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if c(s[mid], target) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(s) && c(s[lo], target) == 0
}

// Collect returns the values of seq in a new slice. Give the type argument explicitly:
// slices.Collect[string](strings.SplitSeq(s, ",")).
func Collect[E any](seq func(yield func(E) bool)) []E {
	var r []E
	seq(func(v E) bool {
		r = append(r, v)
		return true
	})
	return r
}

// Sorted returns the values of seq in a new, sorted slice. Give the type argument explicitly.
func Sorted[E cmp.Ordered](seq func(yield func(E) bool)) []E {
	r := Collect[E](seq)
	Sort(r)
	return r
}
`

const preludeMaps = `package maps

// Equal reports whether m1 and m2 hold the same keys with equal values.
func Equal[K, V comparable](m1, m2 map[K]V) bool {
	if len(m1) != len(m2) {
		return false
	}
	for k, v1 := range m1 {
		if v2, ok := m2[k]; !ok || v1 != v2 {
			return false
		}
	}
	return true
}

// EqualFunc is Equal with eq comparing values.
func EqualFunc[K comparable, V1, V2 any](m1 map[K]V1, m2 map[K]V2, eq func(V1, V2) bool) bool {
	if len(m1) != len(m2) {
		return false
	}
	for k, v1 := range m1 {
		if v2, ok := m2[k]; !ok || !eq(v1, v2) {
			return false
		}
	}
	return true
}

// Clone returns a shallow copy of m; a nil m gives nil.
func Clone[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	r := make(map[K]V, len(m))
	for k, v := range m {
		r[k] = v
	}
	return r
}

// Copy sets every key of src in dst.
func Copy[K comparable, V any](dst, src map[K]V) {
	for k, v := range src {
		dst[k] = v
	}
}
`
