package reconcile

import "sync"

// Stage names the slow loop a progress report is about.
type Stage string

// The stages that report progress.
const (
	StageVerify Stage = "verify" // Diff: verifying passwords against stored hashes
	StageHash   Stage = "hash"   // Apply: hashing new passwords
)

// progress counts the work of one stage and reports it through fn, one
// call at a time. A nil *progress reports nothing.
type progress struct {
	mu    sync.Mutex
	fn    func(Stage, int, int)
	stage Stage
	done  int
	total int
}

// newProgress reports done 0 of total and returns the counter, or nil when
// there is no callback or nothing to do.
func newProgress(fn func(Stage, int, int), stage Stage, total int) *progress {
	if fn == nil || total == 0 {
		return nil
	}
	fn(stage, 0, total)
	return &progress{fn: fn, stage: stage, total: total}
}

// step counts one unit of work done.
func (p *progress) step() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.fn(p.stage, p.done, p.total)
}
