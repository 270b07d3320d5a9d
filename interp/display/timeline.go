package display

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loopbook/loopbook/loop"
)

// Timeline shows the last n iterations of l (the shared loop L, or a loop the cell made) as a
// picture, the notebook's inline twin of the loop panel's timeline:
//
//	display.Show(display.Timeline(L, 20))
//
// Callbacks are bars coloured by the cell run that owns them, the poll of each iteration is an
// idle gap (a long one is drawn shortened and labelled with its real length), timers falling due
// and fds becoming ready are marks below the bars, and a thin line starts each iteration.
//
// It reads l's event stream (loop.Events); called from code l runs (a cell drawing L), it first
// publishes what l recorded so far, so the picture ends with the iteration in progress (which,
// being incomplete, is not drawn). The stream keeps about 16k events, so n is also limited by
// how busy the loop was. n ≤ 0 means 20; at most 1000 iterations are drawn.
func Timeline(l *loop.Loop, n int) Bundle {
	if _, ok := l.CallerOwner(); ok {
		l.PublishEvents() // the caller runs on l: draw up to now
	}
	events, _, _ := l.Events(0, nil)
	return TimelineOf(events, n)
}

// TimelineOf draws the last n complete iterations in events, as loop.Events returns them.
func TimelineOf(events []loop.Event, n int) Bundle {
	svg, text := timelineSVG(events, n)
	return Bundle{MIMESVG: svg, MIMEText: text}
}

const (
	tlWidth    = 900.0 // the picture
	tlLeft     = 78.0  // lane labels
	tlRight    = 12.0
	tlMaxIters = 1000
)

// owner colours: In[n] takes tlPalette[(n-1) % len]; work nobody owns (the kernel's) is grey.
var tlPalette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#17becf"}

const tlNoOwner = "#9aa0a6"

func ownerColour(o loop.Owner) string {
	if o <= 0 {
		return tlNoOwner
	}
	return tlPalette[int(o-1)%len(tlPalette)]
}

func ownerName(o loop.Owner) string {
	if o <= 0 {
		return "kernel / nobody"
	}
	return "In[" + strconv.FormatInt(int64(o), 10) + "]"
}

type tlRun struct {
	start, end time.Duration
	owner      loop.Owner
	name       string
}

type tlMark struct {
	t     time.Duration
	timer bool // else an fd
	label string
}

type tlIter struct {
	n          uint64
	start, end time.Duration
	pollFrom   time.Duration // the poll: [pollFrom, pollTo]; equal when it did not sleep
	pollTo     time.Duration
	timeout    time.Duration
	runs       []tlRun
	marks      []tlMark
}

// timelineIters folds events into iterations, like loop.Summarize, keeping the callbacks and
// marks of each. The first, cut-off iteration is left out.
func timelineIters(events []loop.Event) []tlIter {
	var out []tlIter
	var cur tlIter
	// The first iteration is whole if the events start at the beginning of the stream.
	complete := len(events) > 0 && events[0].Seq == 1
	var last time.Duration // the latest time an event carried: events without one happened then
	prevEnd := time.Duration(-1)
	for i := range events {
		e := &events[i]
		if e.T > 0 && (e.Kind == loop.EvRun || e.Kind == loop.EvPoll || e.Kind == loop.EvIterEnd) {
			last = max(last, e.T)
		}
		switch e.Kind {
		case loop.EvPoll:
			cur.pollFrom, cur.pollTo, cur.timeout = e.T-time.Duration(e.B), e.T, time.Duration(e.A)
			prevEnd = e.T
		case loop.EvRun:
			begin := prevEnd
			if begin < 0 {
				begin = e.T
			}
			r := tlRun{start: begin, end: e.T}
			if e.Info != nil {
				r.owner, r.name = e.Info.Owner, e.Info.Label()
			}
			cur.runs = append(cur.runs, r)
			prevEnd = e.T
		case loop.EvTimerDue:
			cur.marks = append(cur.marks, tlMark{t: last, timer: true, label: "timer " + strconv.FormatUint(e.ID, 10) + " due"})
		case loop.EvFdReady:
			dir := "readable"
			if e.Dir == 2 {
				dir = "writable"
			}
			cur.marks = append(cur.marks, tlMark{t: last, label: "fd " + strconv.Itoa(int(e.Fd)) + " " + dir})
		case loop.EvIterEnd:
			cur.n, cur.start, cur.end = uint64(e.A), time.Duration(e.B), e.T
			if cur.pollTo == 0 {
				cur.pollFrom, cur.pollTo = cur.start, cur.start
			}
			if complete {
				out = append(out, cur)
			}
			cur, complete = tlIter{}, true
			prevEnd = e.T
		}
	}
	return out
}

// tlScale maps trace time to x, drawing polls longer than gap as gap (a broken axis): the idle
// time of a mostly idle loop does not squeeze its callbacks into slivers.
type tlScale struct {
	t0     time.Duration
	gap    time.Duration
	polls  [][2]time.Duration // long polls, in order
	perDur float64            // px per displayed nanosecond
}

func (s *tlScale) shown(t time.Duration) time.Duration {
	d := t - s.t0
	for _, p := range s.polls {
		if t <= p[0] {
			break
		}
		l := p[1] - p[0]
		if t >= p[1] {
			d -= l - s.gap
			continue
		}
		in := t - p[0]
		d -= in - time.Duration(float64(in)*float64(s.gap)/float64(l))
	}
	return d
}

func (s *tlScale) x(t time.Duration) float64 { return tlLeft + float64(s.shown(t))*s.perDur }

func timelineSVG(events []loop.Event, n int) (svg, text string) {
	if n <= 0 {
		n = 20
	}
	n = min(n, tlMaxIters)
	iters := timelineIters(events)
	if len(iters) > n {
		iters = iters[len(iters)-n:]
	}
	var b strings.Builder
	if len(iters) == 0 {
		const h = 40
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%d" viewBox="0 0 %g %d" font-family="sans-serif" font-size="12">`, tlWidth, h, tlWidth, h)
		b.WriteString(`<text x="8" y="24" fill="#555">no complete loop iteration recorded yet</text></svg>`)
		return b.String(), "<loop timeline: no iterations>"
	}

	// The scale: polls longer than gap are shortened to it. gap is twice the median busy time of
	// an iteration (at least 20 µs), so a busy part stays about as wide as the idle part beside it.
	busy := make([]time.Duration, len(iters))
	var totalPoll time.Duration
	nruns := 0
	for i, it := range iters {
		busy[i] = it.end - it.start - (it.pollTo - it.pollFrom)
		totalPoll += it.pollTo - it.pollFrom
		nruns += len(it.runs)
	}
	sorted := append([]time.Duration(nil), busy...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	sc := &tlScale{t0: iters[0].start, gap: max(2*sorted[len(sorted)/2], 20*time.Microsecond)}
	for _, it := range iters {
		if it.pollTo-it.pollFrom > sc.gap {
			sc.polls = append(sc.polls, [2]time.Duration{it.pollFrom, it.pollTo})
		}
	}
	t1 := iters[len(iters)-1].end
	span := max(sc.shown(t1), time.Microsecond)
	sc.perDur = (tlWidth - tlLeft - tlRight) / float64(span)

	const (
		yIter  = 14.0 // iteration numbers
		yBars  = 22.0 // callbacks lane
		hBars  = 30.0
		yMarks = 60.0 // marks lane
		hMarks = 14.0
		yAxis  = 84.0
	)
	owners := map[loop.Owner]bool{}
	for _, it := range iters {
		for _, r := range it.runs {
			owners[r.owner] = true
		}
	}
	legend := make([]loop.Owner, 0, len(owners))
	for o := range owners {
		legend = append(legend, o)
	}
	sort.Slice(legend, func(i, j int) bool { return legend[i] < legend[j] })
	height := yAxis + 40.0

	elapsed := t1 - iters[0].start
	idle := 0.0
	if elapsed > 0 {
		idle = float64(totalPoll) / float64(elapsed)
	}
	first, lastN := iters[0].n, iters[len(iters)-1].n
	title := fmt.Sprintf("iterations %d–%d: %d callbacks in %s, %.0f%% idle", first, lastN, nruns, fmtDur(elapsed), idle*100)

	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="loop-timeline" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="11">`, tlWidth, height, tlWidth, height)
	b.WriteString(`<defs><pattern id="idle" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f1f3f4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#dadce0" stroke-width="2"/></pattern></defs>`)
	fmt.Fprintf(&b, `<title>loop timeline, %s</title>`, esc(title))
	fmt.Fprintf(&b, `<text x="4" y="%g" fill="#555">iteration</text><text x="4" y="%g" fill="#333">callbacks</text><text x="4" y="%g" fill="#555">timers, fds</text>`,
		yIter, yBars+hBars/2+4, yMarks+hMarks/2+4)

	// Iterations: a line at each start, the number when there is room.
	lastLabel := -1e9
	for _, it := range iters {
		x := sc.x(it.start)
		fmt.Fprintf(&b, `<line class="iter" x1="%.2f" y1="%g" x2="%.2f" y2="%g" stroke="#bdc1c6" stroke-width="0.5"><title>iteration %d</title></line>`, x, yIter+2, x, yAxis, it.n)
		if x-lastLabel > 34 {
			fmt.Fprintf(&b, `<text x="%.2f" y="%g" fill="#555" font-size="9">%d</text>`, x+1, yIter, it.n)
			lastLabel = x
		}
	}
	// Polls: idle gaps.
	for _, it := range iters {
		d := it.pollTo - it.pollFrom
		if d <= 0 {
			continue
		}
		x0, x1 := sc.x(it.pollFrom), sc.x(it.pollTo)
		tip := "poll " + fmtDur(d) + ", timeout " + fmtTimeout(it.timeout)
		fmt.Fprintf(&b, `<rect class="poll" x="%.2f" y="%g" width="%.2f" height="%g" fill="url(#idle)"><title>%s</title></rect>`, x0, yBars, max(x1-x0, 0.5), hBars, esc(tip))
		if d > sc.gap && x1-x0 > 30 {
			fmt.Fprintf(&b, `<text x="%.2f" y="%g" fill="#80868b" font-size="9" text-anchor="middle">%s idle</text>`, (x0+x1)/2, yBars+hBars/2+3, esc(fmtDur(d)))
		}
	}
	// Callbacks: one bar each; slivers of one owner side by side share a bar up to 2 px wide.
	type bar struct {
		x0, x1 float64
		owner  loop.Owner
		n      int
		dur    time.Duration
		name   string
	}
	var bars []bar
	for _, it := range iters {
		for _, r := range it.runs {
			x0, x1 := sc.x(r.start), sc.x(r.end)
			if k := len(bars) - 1; k >= 0 && bars[k].owner == r.owner && x0-bars[k].x1 < 0.5 && x1-x0 < 1 && bars[k].x1-bars[k].x0 < 2 {
				bars[k].x1 = max(bars[k].x1, x1)
				bars[k].n++
				bars[k].dur += r.end - r.start
				if bars[k].name != r.name {
					bars[k].name = ""
				}
				continue
			}
			bars = append(bars, bar{x0: x0, x1: x1, owner: r.owner, n: 1, dur: r.end - r.start, name: r.name})
		}
	}
	for _, br := range bars {
		tip := ownerName(br.owner) + " " + br.name
		if br.n > 1 {
			tip = fmt.Sprintf("%s: %d callbacks", ownerName(br.owner), br.n)
			if br.name != "" {
				tip += " " + br.name
			}
		}
		tip += ", " + fmtDur(br.dur)
		fmt.Fprintf(&b, `<rect class="run" data-owner="%d" data-runs="%d" x="%.2f" y="%g" width="%.2f" height="%g" fill="%s"><title>%s</title></rect>`,
			br.owner, br.n, br.x0, yBars, max(br.x1-br.x0, 1), hBars, ownerColour(br.owner), esc(tip))
	}
	// Marks: timers falling due (downward triangles), fds becoming ready (circles).
	for _, it := range iters {
		for _, m := range it.marks {
			x := sc.x(m.t)
			if m.timer {
				fmt.Fprintf(&b, `<path class="mark timer" d="M%.2f %gl-4 -8h8z" fill="#e8710a"><title>%s</title></path>`, x, yMarks+hMarks-2, esc(m.label))
			} else {
				fmt.Fprintf(&b, `<circle class="mark fd" cx="%.2f" cy="%g" r="3.5" fill="#1a73e8"><title>%s</title></circle>`, x, yMarks+hMarks/2, esc(m.label))
			}
		}
	}
	// Axis and legend.
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#80868b"/>`, tlLeft, yAxis, tlWidth-tlRight, yAxis)
	fmt.Fprintf(&b, `<text x="%g" y="%g" fill="#555">0</text><text x="%g" y="%g" fill="#555" text-anchor="end">%s</text>`,
		tlLeft, yAxis+12, tlWidth-tlRight, yAxis+12, esc(fmtDur(elapsed)))
	x := tlLeft + 60
	for _, o := range legend {
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="10" height="10" fill="%s"/><text x="%g" y="%g" fill="#333">%s</text>`, x, yAxis+4, ownerColour(o), x+13, yAxis+13, esc(ownerName(o)))
		x += 24 + 7*float64(len(ownerName(o)))
	}
	fmt.Fprintf(&b, `<text x="4" y="%g" fill="#555">%s</text>`, yAxis+32, esc(title))
	b.WriteString(`</svg>`)
	return b.String(), "<loop timeline: " + title + ">"
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// fmtDur prints a duration with about three significant digits.
func fmtDur(d time.Duration) string {
	v, unit := float64(d), " ns"
	switch {
	case d >= time.Second:
		v, unit = d.Seconds(), " s"
	case d >= time.Millisecond:
		v, unit = v/1e6, " ms"
	case d >= time.Microsecond:
		v, unit = v/1e3, " µs"
	}
	prec := 2
	if v >= 100 {
		prec = 0
	} else if v >= 10 {
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + unit
}

func fmtTimeout(d time.Duration) string {
	if d < 0 {
		return "none (waits for I/O)"
	}
	return fmtDur(d)
}
