package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/barycenter/usersync/internal/reconcile"
)

// barDelay is how long a stage runs before a terminal gets a progress bar:
// quick runs print nothing.
const barDelay = time.Second

// progressDisplay shows how the slow loops of a sync (verifying and hashing
// passwords) advance: on a terminal a progress bar, once a stage has run
// for barDelay; otherwise (an init container's log) a log record at most
// every interval with done, total and rate. It receives only counts, so it
// cannot show a username or a password.
type progressDisplay struct {
	mu       sync.Mutex
	w        io.Writer
	logger   *slog.Logger
	tty      bool
	interval time.Duration
	now      func() time.Time

	stage       reconcile.Stage
	start, last time.Time
	bar         *progressbar.ProgressBar
}

func newProgressDisplay(w io.Writer, logger *slog.Logger, interval time.Duration) *progressDisplay {
	f, ok := w.(*os.File)
	return &progressDisplay{w: w, logger: logger, interval: interval, now: time.Now,
		tty: ok && term.IsTerminal(int(f.Fd()))}
}

// update is the reconcile.Options.Progress callback.
func (p *progressDisplay) update(stage reconcile.Stage, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if stage != p.stage || done == 0 {
		p.finishBar()
		p.stage, p.start, p.last = stage, now, now
	}
	if p.tty {
		if p.bar == nil && now.Sub(p.start) >= barDelay {
			p.bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(stageName(stage)),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("passwords"),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
			)
		}
		if p.bar != nil {
			_ = p.bar.Set(done)
		}
		return
	}
	if now.Sub(p.last) >= p.interval {
		p.last = now
		rate := 0.0
		if s := now.Sub(p.start).Seconds(); s > 0 {
			rate = float64(done) / s
		}
		p.logger.Info("progress", "stage", string(stage), "done", done, "total", total, "rate", fmt.Sprintf("%.1f/s", rate))
	}
}

func (p *progressDisplay) finishBar() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// close ends a bar left open.
func (p *progressDisplay) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishBar()
}

func stageName(s reconcile.Stage) string {
	if s == reconcile.StageHash {
		return "hashing passwords"
	}
	return "verifying passwords"
}
