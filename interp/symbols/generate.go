package symbols

// The symbol tables are generated in their own packages, since yaegi extract writes into the
// directory it runs in; this line runs their go:generate lines in turn.
//go:generate go generate ./internal/std ./internal/local
