// Package display lets notebook cells show rich output: HTML, Markdown, SVG, PNG, JSON and text,
// and update what they showed in place, like IPython's display() and update_display().
//
// A cell builds a Bundle (one value, several MIME types are allowed) and shows it:
//
//	display.Show(display.HTML("<b>ready</b>"))
//
//	bar := display.Show(display.Text("0%"))
//	for i := range 10 { bar.Update(display.Text(fmt.Sprint((i+1)*10, "%"))) }
//
// Timeline draws the last iterations of a loop (the shared loop L or a cell's own) as SVG, the
// inline twin of the loop panel's timeline:
//
//	display.Show(display.Timeline(L, 20))
//
// The kernel installs the Publisher that carries bundles to the cell that owns the code calling
// Show; without one (a plain Go program), Show prints the text/plain form to standard output.
// Cells see this package as import path "display".
package display
