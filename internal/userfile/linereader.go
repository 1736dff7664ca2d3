package userfile

import (
	"errors"
	"io"
	"sort"
)

var errTooLarge = errors.New("users file too large")

// lineReader passes bytes through, refusing more than max of them, and
// remembers where lines start so that a byte offset can be turned into a
// line and column without keeping the file.
type lineReader struct {
	r   io.Reader
	max int64
	off int64
	nl  []int64 // offsets of '\n' bytes seen so far
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.off > l.max {
		return 0, errTooLarge
	}
	if rest := l.max - l.off + 1; int64(len(p)) > rest {
		p = p[:rest] // read one byte past the limit to notice it
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.nl = append(l.nl, l.off+int64(i))
		}
	}
	l.off += int64(n)
	if l.off > l.max {
		return n, errTooLarge
	}
	return n, err
}

// position returns the 1-based line and column (in bytes) of offset off.
func (l *lineReader) position(off int64) (line, col int) {
	i := sort.Search(len(l.nl), func(i int) bool { return l.nl[i] >= off })
	start := int64(0)
	if i > 0 {
		start = l.nl[i-1] + 1
	}
	return i + 1, int(off-start) + 1
}
