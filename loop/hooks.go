package loop

// PublishEvents makes every event recorded so far visible to Events, without waiting for the
// loop to fill a chunk or to sleep: a picture drawn by code the loop is running (a notebook
// cell's display.Timeline) then includes what just happened. Call it on the loop's goroutine or
// from code the loop runs, as the other non-goroutine-safe methods.
func (l *Loop) PublishEvents() { l.tr.publish() }
