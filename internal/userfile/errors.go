package userfile

import (
	"fmt"
	"strings"
)

// Problem is one defect of a users file, with where it is.
type Problem struct {
	Path     string // "users[3].email"; empty for the file as a whole
	Username string // the user's username when known and valid, for context
	Line     int    // 1-based; 0 when unknown
	Column   int    // 1-based; 0 when unknown
	Message  string // what is wrong; never a value from the file
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ", column %d", p.Column)
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		// users[3].email with username alice reads: users[3] "alice": email:
		user, field, _ := strings.Cut(p.Path, ".")
		b.WriteString(user)
		if p.Username != "" {
			fmt.Fprintf(&b, " %q", p.Username)
		}
		b.WriteString(": ")
		if field != "" {
			b.WriteString(field + ": ")
		}
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a users file. Nothing is
// written to a database for a file that has one.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid users file: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid users file: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}
