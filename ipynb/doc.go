// Package ipynb reads, writes and validates Jupyter notebook files
// (nbformat 4, written as nbformat 4.5), the on-disk format of Loopbook.
//
// Loopbook notebooks are ordinary .ipynb files, so they open in Jupyter and
// render on GitHub. This package is the single implementation of that format
// for the server (open, save, upload, download), the headless runner and the
// golden tests.
//
// # Reading
//
// [Read] and [ReadFile] accept nbformat 4.0 to 4.5. Multiline fields may be a
// string or a list of strings; they are joined into one Go string. Cells
// without an id (files older than 4.5) get a fresh one from [NewCellID], and
// the notebook is upgraded to 4.5. nbformat 3 files and JSON that is not a
// notebook are rejected. Every error is an [*Error] that says where the
// problem is, as a line and column in the file and, for structural problems,
// as a path such as cells[3].outputs[0].output_type. A notebook returned by
// Read always passes [Notebook.Validate].
//
// Read is a little stricter than Jupyter's nbformat, which loads invalid
// files with a warning: keys the schema does not allow outside metadata,
// duplicate keys in a JSON object, and stream names other than stdout and
// stderr are errors. It is lenient where the meaning is obvious: missing
// metadata is empty, a code cell without outputs or execution_count has not
// run, and a missing cell id is generated.
//
// # Writing
//
// [Write], [Notebook.Marshal] and [WriteFile] produce the canonical style of
// Jupyter's own writer: one-space indentation, keys sorted, multiline text
// split into a list of lines that keep their line endings, non-ASCII and
// <, >, & written as is, and a final newline. Reading a file that Jupyter
// wrote and writing it again gives the same bytes, so saved notebooks diff
// cleanly. Like current Jupyter, text MIME types (text/*, JavaScript, SVG)
// are split into lines and other ones (base64 images) are written as one
// string. [Write] and [Notebook.Marshal] refuse a notebook that fails
// Validate. [WriteFile] replaces the file atomically: a crash or an error
// leaves either the old file or the new one, never a mix.
//
// # Metadata
//
// Notebook, cell and output metadata are plain JSON trees (map[string]any
// holding map[string]any, []any, string, json.Number, bool and nil after
// Read). Keys this package does not know are kept and written back
// unchanged; numbers keep their original spelling. Loopbook's own data lives
// under the [LoopbookKey] key of the notebook or cell metadata; use
// [GetMetadata] and [SetMetadata] to move Go values in and out of it.
//
// Output data (MIME bundles) maps a MIME type to a string. For JSON MIME
// types (application/json and application/*+json, see [IsJSONMIME]) the
// string holds the JSON text of the value, which is written back as JSON,
// not as a string.
package ipynb
