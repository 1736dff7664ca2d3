package userfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Field names of a user object.
const (
	fUsername      = "username"
	fPassword      = "password"
	fEmail         = "email"
	fEnabled       = "enabled"
	fEmailVerified = "email_verified"
	fRequires2FA   = "requires_2fa"
	fProperties    = "properties"
	fPropsMode     = "properties_mode"

	fPasswordHash   = "password_hash"
	fPasswordEnv    = "password_env"
	fPasswordFile   = "password_file"
	fPasswordPolicy = "password_policy"
)

var knownFields = []string{fUsername, fPassword, fEmail, fEnabled, fEmailVerified, fRequires2FA, fProperties, fPropsMode,
	fPasswordHash, fPasswordEnv, fPasswordFile, fPasswordPolicy}

// Parse reads a users file from r as a stream, validates all of it and
// returns it. A file with defects yields a *ValidationError listing every
// problem found; an I/O failure is returned wrapped.
func Parse(r io.Reader, lim Limits) (*File, error) {
	p := &parser{lim: lim.withDefaults(), seen: map[string]int{}, folded: map[string]int{}}
	p.in = &lineReader{r: r, max: p.lim.MaxFileSize}
	br := bufio.NewReader(p.in)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\uFEFF")) {
		_, _ = br.Discard(3) // a UTF-8 byte order mark, as some editors write
		p.bom = 3
	}
	p.dec = json.NewDecoder(br)
	p.dec.UseNumber()
	if err := p.top(); err != nil {
		return nil, err
	}
	if len(p.problems) > 0 {
		return nil, &ValidationError{Problems: p.problems}
	}
	return &File{Users: p.users, Prune: p.prune}, nil
}

type parser struct {
	lim      Limits
	in       *lineReader
	dec      *json.Decoder
	bom      int64
	problems []Problem
	users    []User
	seen     map[string]int // username -> index
	folded   map[string]int // case-folded NFKC username -> index + 1
	prune    *bool          // the object form's "prune"
}

func (p *parser) add(pr Problem) { p.problems = append(p.problems, pr) }

// top decodes the top level. It returns only I/O errors; defects become
// problems.
func (p *parser) top() error {
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			p.add(Problem{Message: `file is empty: want a JSON array of users or {"users": [...]}`})
			return nil
		}
		return p.syntax(err)
	}
	switch tok {
	case json.Delim('['):
		if err := p.array(); err != nil {
			return p.syntax(err)
		}
	case json.Delim('{'):
		found := false
		for p.dec.More() {
			key, err := p.dec.Token()
			if err != nil {
				return p.syntax(err)
			}
			if key == "users" {
				found = true
				if tok, err := p.dec.Token(); err != nil {
					return p.syntax(err)
				} else if tok != json.Delim('[') {
					p.add(Problem{Path: "users", Message: "must be an array of user objects"})
					return nil
				}
				if err := p.array(); err != nil {
					return p.syntax(err)
				}
				continue
			}
			var v json.RawMessage
			if err := p.dec.Decode(&v); err != nil {
				return p.syntax(err)
			}
			if key == "prune" {
				if k := kind(v); k == 't' || k == 'f' {
					b := k == 't'
					p.prune = &b
				} else {
					p.add(Problem{Path: "prune", Message: "must be true or false"})
				}
				continue
			}
			p.add(Problem{Message: fmt.Sprintf("unknown top-level field %s: want \"users\" or \"prune\"", quoteKey(key.(string)))})
		}
		if _, err := p.dec.Token(); err != nil {
			return p.syntax(err)
		}
		if !found {
			p.add(Problem{Message: `object has no "users" array`})
		}
	default:
		p.add(Problem{Message: `top level must be a JSON array of users or an object {"users": [...]}`})
		return nil
	}
	if _, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return p.syntax(err)
		}
		p.add(p.at(p.dec.InputOffset(), Problem{Message: "unexpected data after the users list"}))
	}
	return nil
}

// array decodes user objects up to and including the closing bracket.
func (p *parser) array() error {
	for i := 0; p.dec.More(); i++ {
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			return err
		}
		start := p.dec.InputOffset() - int64(len(raw))
		line, _ := p.in.position(start + p.bom)
		p.user(i, line, raw)
	}
	_, err := p.dec.Token() // ']'
	return err
}

// syntax turns a decoding error into a problem with line and column, or
// returns it when it is an I/O error.
func (p *parser) syntax(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errTooLarge):
		p.add(Problem{Message: fmt.Sprintf("file is larger than the limit of %d bytes", p.lim.MaxFileSize)})
	case errors.As(err, &se):
		p.add(p.at(se.Offset, Problem{Message: "invalid JSON: " + scrubSyntax(se.Error())}))
	case errors.As(err, &te):
		p.add(p.at(te.Offset, Problem{Message: "invalid JSON: unexpected " + te.Value}))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		p.add(p.at(p.dec.InputOffset(), Problem{Message: "invalid JSON: the file ends before the users list is closed"}))
	default:
		return fmt.Errorf("read users file: %w", err)
	}
	return nil
}

// quotedChar matches the one input character encoding/json quotes in its
// syntax errors; it is dropped so that no byte of the file reaches a message.
var quotedChar = regexp.MustCompile(`character '.*?' `)

func scrubSyntax(msg string) string {
	return quotedChar.ReplaceAllString(msg, "character ")
}

// at fills in the line and column of a decoder offset.
func (p *parser) at(off int64, pr Problem) Problem {
	pr.Line, pr.Column = p.in.position(off + p.bom)
	return pr
}

// user decodes and validates one element of the users array.
func (p *parser) user(i, line int, raw json.RawMessage) {
	u := User{Index: i, Line: line}
	var probs []Problem
	bad := func(field, format string, a ...any) {
		fp := fmt.Sprintf("users[%d]", i)
		if field != "" {
			fp += "." + field
		}
		probs = append(probs, Problem{Path: fp, Line: line, Message: fmt.Sprintf(format, a...)})
	}
	defer func() {
		for _, pr := range probs {
			if pr.Username == "" && u.Username != "" {
				pr.Username = u.Username
			}
			p.add(pr)
		}
		if len(probs) == 0 {
			p.users = append(p.users, u)
		}
	}()
	if !utf8.Valid(raw) {
		bad("", "contains bytes that are not valid UTF-8")
		return
	}
	if kind(raw) != '{' {
		bad("", "must be a JSON object")
		return
	}
	fields, dups, err := members(raw)
	if err != nil { // cannot happen: raw was decoded once already
		bad("", "invalid JSON object")
		return
	}
	for _, k := range dups {
		bad("", "field %s appears more than once", quoteKey(k))
	}
	var unknown []string
	for k := range fields {
		if !slices.Contains(knownFields, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		msg := "unknown field " + quoteKey(k)
		if s := suggest(k, knownFields); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		bad("", "%s", msg)
	}

	// username
	if v, ok := fields[fUsername]; !ok {
		bad(fUsername, "is required")
	} else if s, ok := str(v); !ok {
		bad(fUsername, "must be a string")
	} else if msg := p.checkUsername(s); msg != "" {
		bad(fUsername, "%s", msg)
	} else {
		u.Username = s
		if j, dup := p.seen[s]; dup {
			bad(fUsername, "duplicate username: also at users[%d]", j)
		} else if folded := foldName(s); p.folded[folded] > 0 {
			bad(fUsername, "differs from users[%d] only in letter case or Unicode normalisation", p.folded[folded]-1)
		} else {
			p.seen[s] = i
			p.folded[folded] = i + 1 // 0 is "absent"
		}
	}

	// password: exactly one source, and its policy
	p.password(fields, &u, bad)

	// email
	if v, ok := fields[fEmail]; ok {
		u.Email.Set = true
		if kind(v) == 'n' {
			u.Email.Null = true
		} else if s, ok := str(v); !ok {
			bad(fEmail, "must be a string or null")
		} else if msg := p.checkEmail(s); msg != "" {
			bad(fEmail, "%s", msg)
		} else {
			u.Email.Value = s
		}
	}

	// booleans
	for _, f := range []struct {
		name string
		dst  **bool
	}{{fEnabled, &u.Enabled}, {fEmailVerified, &u.EmailVerified}, {fRequires2FA, &u.Requires2FA}} {
		v, ok := fields[f.name]
		if !ok {
			continue
		}
		switch kind(v) {
		case 't', 'f':
			b := kind(v) == 't'
			*f.dst = &b
		case 'n':
			bad(f.name, "must be true or false, not null (leave the field out to keep the stored value)")
		default:
			bad(f.name, "must be true or false")
		}
	}

	// properties
	if v, ok := fields[fProperties]; ok {
		props, deletes, msgs := p.properties(v)
		for _, m := range msgs {
			bad(fProperties, "%s", m)
		}
		u.Properties, u.DeleteProperties = props, deletes
	}
	if v, ok := fields[fPropsMode]; ok {
		switch s, _ := str(v); s {
		case "merge":
		case "replace":
			u.PropertiesReplace = true
		default:
			bad(fPropsMode, `must be "merge" or "replace"`)
		}
	}
}

func (p *parser) checkUsername(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "must not be empty"
	case len(s) > p.lim.MaxUsernameLen:
		return fmt.Sprintf("is longer than %d bytes", p.lim.MaxUsernameLen)
	case strings.TrimFunc(s, unicode.IsSpace) != s:
		return "has leading or trailing white space"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "contains a control character"
	case !norm.NFC.IsNormalString(s):
		return "is not in Unicode normalisation form C (NFC)"
	}
	return ""
}

func (p *parser) checkEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	switch {
	case len(s) > p.lim.MaxEmailLen:
		return fmt.Sprintf("is longer than %d bytes", p.lim.MaxEmailLen)
	case at <= 0 || at == len(s)-1:
		return "is not an email address (want local@domain)"
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "is not an email address (contains white space or a control character)"
	}
	return ""
}

// properties validates a properties object and returns each value's
// canonical JSON encoding, and the sorted keys set to null (to delete).
func (p *parser) properties(v json.RawMessage) (map[string]string, []string, []string) {
	if kind(v) != '{' {
		return nil, nil, []string{"must be a JSON object"}
	}
	fields, dups, err := members(v)
	if err != nil {
		return nil, nil, []string{"invalid JSON object"}
	}
	var msgs []string
	for _, k := range dups {
		msgs = append(msgs, fmt.Sprintf("key %s appears more than once", quoteKey(k)))
	}
	if len(fields) > p.lim.MaxProperties {
		return nil, nil, append(msgs, fmt.Sprintf("has %d keys, more than the limit of %d", len(fields), p.lim.MaxProperties))
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(fields))
	var deletes []string
	for _, k := range keys {
		switch {
		case k == "":
			msgs = append(msgs, "a key is empty")
			continue
		case len(k) > p.lim.MaxPropertyKey:
			msgs = append(msgs, fmt.Sprintf("a key is longer than %d bytes", p.lim.MaxPropertyKey))
			continue
		case strings.IndexFunc(k, unicode.IsControl) >= 0:
			msgs = append(msgs, fmt.Sprintf("key %s contains a control character", quoteKey(k)))
			continue
		}
		val := fields[k]
		if kind(val) == 'n' {
			deletes = append(deletes, k) // null deletes the key
			continue
		}
		if depth(val) > p.lim.MaxDepth {
			msgs = append(msgs, fmt.Sprintf("value of %s is nested deeper than %d levels", quoteKey(k), p.lim.MaxDepth))
			continue
		}
		c, err := Canonical(val)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("value of %s is not valid JSON", quoteKey(k)))
			continue
		}
		if len(c) > p.lim.MaxPropertyValue {
			msgs = append(msgs, fmt.Sprintf("value of %s is larger than %d bytes", quoteKey(k), p.lim.MaxPropertyValue))
			continue
		}
		out[k] = c
	}
	return out, deletes, msgs
}

// Canonical returns the canonical JSON encoding of a value: compact, object
// keys sorted, numbers as written, no HTML escaping. Property values are
// stored and compared in this form.
func Canonical(v []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("trailing data after JSON value")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// members splits a JSON object into its members, reporting keys that
// appear more than once (the last one wins in the map).
func members(obj json.RawMessage) (map[string]json.RawMessage, []string, error) {
	if out, dups, ok := scanMembers(obj); ok {
		return out, dups, nil
	}
	return decodeMembers(obj)
}

// scanMembers is members without a decoder, for speed: obj was decoded
// once already, so it is one valid JSON object and a byte scanner that
// follows strings and nesting can split it. It reports false on anything
// it does not expect, and members then decodes obj instead.
func scanMembers(obj []byte) (map[string]json.RawMessage, []string, bool) {
	out := make(map[string]json.RawMessage, 8)
	var dups []string
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, nil, false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return out, nil, skipSpace(obj, i+1) == len(obj)
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return nil, nil, false
		}
		end := endOfValue(obj, i)
		key, ok := str(obj[i:end])
		if !ok {
			return nil, nil, false
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, nil, false
		}
		i = skipSpace(obj, i+1)
		end = endOfValue(obj, i)
		if end <= i {
			return nil, nil, false
		}
		if _, dup := out[key]; dup && !slices.Contains(dups, key) {
			dups = append(dups, key)
		}
		out[key] = json.RawMessage(obj[i:end])
		i = skipSpace(obj, end)
		if i >= len(obj) {
			return nil, nil, false
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return out, dups, skipSpace(obj, i+1) == len(obj)
		default:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfValue returns the index just past the JSON value starting at i.
func endOfValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	depth, inStr := 0, false
	for j := i; j < len(b); j++ {
		c := b[j]
		switch {
		case inStr:
			if c == '\\' {
				j++
			} else if c == '"' {
				inStr = false
				if depth == 0 {
					return j + 1
				}
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return j // the end of a number, true, false or null
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return j
		}
	}
	return len(b)
}

// decodeMembers is members through encoding/json.
func decodeMembers(obj json.RawMessage) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	out := map[string]json.RawMessage{}
	var dups []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if _, dup := out[key]; dup && !slices.Contains(dups, key) {
			dups = append(dups, key)
		}
		out[key] = v
	}
	return out, dups, nil
}

// kind returns the first byte of a JSON value: '{', '[', '"', 't', 'f',
// 'n', or '0' for a number.
func kind(v json.RawMessage) byte {
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case '{', '[', '"', 't', 'f', 'n':
		return c
	}
	return '0'
}

func str(v json.RawMessage) (string, bool) {
	if kind(v) != '"' {
		return "", false
	}
	// Without escapes the string is its bytes between the quotes (the
	// decoder checked them; callers checked UTF-8).
	if len(v) >= 2 && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// depth returns the deepest nesting of arrays and objects in a JSON value.
func depth(v []byte) int {
	d, maxd, inStr, esc := 0, 0, false, false
	for _, c := range v {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			maxd = max(maxd, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return maxd
}

var folder = cases.Fold()

func foldName(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return folder.String(norm.NFKC.String(s))
		}
	}
	return strings.ToLower(s) // ASCII: NFKC changes nothing, folding is lower-casing
}

// quoteKey quotes a field name for a message, shortened so that a long key
// cannot flood the output.
func quoteKey(k string) string {
	if utf8.RuneCountInString(k) > 40 {
		r := []rune(k)
		k = string(r[:40]) + "…"
	}
	return fmt.Sprintf("%q", k)
}

// suggest returns the known name closest to k when it is a likely typo.
func suggest(k string, known []string) string {
	best, bestD := "", 3
	for _, n := range known {
		if d := distance(strings.ToLower(k), n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}
