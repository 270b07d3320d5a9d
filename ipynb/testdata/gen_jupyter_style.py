# Regenerates jupyter_style.ipynb with Jupyter's own writer (nbformat), so
# the file is exactly in Jupyter's on-disk style. Run from this directory:
#   /usr/bin/python3 gen_jupyter_style.py
# (Debian package python3-nbformat). TestJupyterStyleRoundTrip checks that
# ipynb.Read followed by ipynb.Write reproduces the file byte for byte.
import nbformat
from nbformat.v4 import (new_code_cell, new_markdown_cell, new_notebook,
                         new_output, new_raw_cell)

nb = new_notebook()
nb.metadata = {
    "kernelspec": {"name": "go", "display_name": "Go (Loopbook)", "language": "go"},
    "language_info": {"name": "go", "file_extension": ".go", "mimetype": "text/x-go"},
    "loopbook": {
        "timeline": [
            {"tick": 0, "t": 0.0, "event": "timer", "due": 1e-05},
            {"tick": 1, "t": 1.5, "event": "ready", "tasks": ["a", "b"], "ok": True, "err": None},
        ],
        "big": 12345678901234567890,
        "ratio": 1e300,
        "nested": {"z": 1, "a": {"y": [], "x": {}}},
    },
    "title": "Jupyter style fixture: ünïcödé ✓ 日本語",
}
nb.cells = [
    new_markdown_cell(
        "# Loopbook fixture\n\nText with <html> & \"quotes\" and a tab\there.\n"
        "Windows line\r\nOld Mac line\rform\x0cfeed and line\u2028separator\n",
        id="md-intro", metadata={"tags": ["intro", "docs"], "jupyter": {"source_hidden": False}},
    ),
    new_code_cell("", id="empty-code"),
    new_markdown_cell("", id="empty-md"),
    new_code_cell(
        'package main\n\nimport "fmt"\n\nfmt.Println("héllo, 世界")\n',
        id="code-1",
        execution_count=3,
        metadata={"collapsed": False, "scrolled": "auto",
                  "execution": {"iopub.status.busy": "2024-01-02T03:04:05.678901Z"}},
        outputs=[
            new_output("stream", name="stdout", text="héllo, 世界\nno final newline"),
            new_output("stream", name="stderr", text="warning: \x1b[31mred\x1b[0m\n"),
            new_output("execute_result", execution_count=3,
                       data={"text/plain": "42", "text/html": "<b>42</b> &amp; more\n<i>x</i>"},
                       metadata={"isolated": True}),
            new_output("display_data",
                       data={"application/json": {"b": [1, 2.5, None, True], "a": "x\ny", "n": -0.0},
                             "application/vnd.loopbook.timeline+json": [{"tick": 1}],
                             "image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
                             "text/plain": "<Figure>"},
                       metadata={"image/png": {"width": 1, "height": 1}}),
            new_output("error", ename="panic", evalue="runtime error: index out of range [3] with length 3",
                       traceback=["\x1b[31mpanic\x1b[0m: index out of range", "goroutine 1 [running]:", ""]),
        ],
    ),
    new_code_cell("for {\n}\n", id="never-run"),
    new_raw_cell("raw \\ text\n", id="raw_1", metadata={"format": "text/plain"}),
    new_markdown_cell(
        "![dot](attachment:dot.png)\n", id="md-attach",
        attachments={"dot.png": {"image/png": "iVBORw0KGgo=\nAAAA\n", "text/plain": "a dot"}},
    ),
]
nbformat.validate(nb)
with open("jupyter_style.ipynb", "w", encoding="utf-8") as f:
    nbformat.write(nb, f)
