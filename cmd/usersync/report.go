package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/barycenter/usersync/internal/reconcile"
)

// formatVersion is the version of the plan and report JSON documents; it
// changes only when a field changes meaning or goes away.
const formatVersion = 1

// PlanDoc is a plan as JSON: what `usersync plan --output json` prints and
// what a report embeds. It names fields that change, never their values.
type PlanDoc struct {
	FormatVersion int `json:"format_version"`
	// ChangesPending is true when the plan creates, updates or prunes a user.
	ChangesPending bool `json:"changes_pending"`
	// PendingMigrations counts schema migrations `up` applies first (a plan
	// never applies them).
	PendingMigrations int       `json:"pending_migrations"`
	Counts            Counts    `json:"counts"`
	Users             []UserDoc `json:"users"`
}

// Counts are a plan's totals per action.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Pruned    int `json:"pruned"`
}

// UserDoc is one user of a plan: file order, then the pruned users by
// username.
type UserDoc struct {
	Username string `json:"username"`
	// Action is create, update, unchanged or prune.
	Action string `json:"action"`
	// Fields names what changes: password, email, enabled, email_verified,
	// requires_2fa, properties.<key>.
	Fields []string `json:"fields,omitempty"`
	// Reason is "rehash" when only the stored hash of an unchanged password
	// is replaced.
	Reason string `json:"reason,omitempty"`
	// PruneAction is disable or delete, for a prune.
	PruneAction string `json:"prune_action,omitempty"`
}

// ReportDoc is the JSON document --report writes after up or sync, whether
// the run succeeded or not.
type ReportDoc struct {
	Command string `json:"command"` // up or sync
	Status  string `json:"status"`  // ok or failed
	Error   string `json:"error,omitempty"`
	DryRun  bool   `json:"dry_run"`
	// Backend is sqlite or postgres ("" when the database was not opened).
	Backend          string  `json:"backend"`
	MigrationVersion int64   `json:"migration_version"`
	DurationSeconds  float64 `json:"duration_seconds"`
	PlanDoc
}

// planDoc renders a plan; nil gives an empty document.
func planDoc(p *reconcile.Plan, pendingMigrations int) PlanDoc {
	d := PlanDoc{FormatVersion: formatVersion, PendingMigrations: pendingMigrations, Users: []UserDoc{}}
	if p == nil {
		return d
	}
	d.ChangesPending = p.HasChanges()
	d.Counts.Created, d.Counts.Updated, d.Counts.Unchanged = p.Counts()
	d.Counts.Pruned = len(p.Prunes)
	for _, c := range p.Changes {
		u := UserDoc{Username: c.Row.Username, Action: string(c.Action), Fields: c.Fields}
		if c.Rehash {
			u.Reason = "rehash"
		}
		d.Users = append(d.Users, u)
	}
	for _, pr := range p.Prunes {
		d.Users = append(d.Users, UserDoc{Username: pr.Username, Action: "prune", PruneAction: string(pr.Action)})
	}
	return d
}

// writePlan prints a plan as text (one line per user, then the totals) or
// as one JSON document.
func writePlan(w io.Writer, format string, d PlanDoc) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	var b strings.Builder
	if d.PendingMigrations > 0 {
		fmt.Fprintf(&b, "# %d schema migration(s) pending: 'usersync up' applies them before syncing\n", d.PendingMigrations)
	}
	sign := map[string]string{"create": "+", "update": "~", "unchanged": "=", "prune": "-"}
	for _, u := range d.Users {
		fmt.Fprintf(&b, "%s %s %s", sign[u.Action], u.Action, u.Username)
		switch {
		case u.PruneAction != "":
			fmt.Fprintf(&b, " (%s)", u.PruneAction)
		case len(u.Fields) > 0:
			fmt.Fprintf(&b, " (%s)", strings.Join(u.Fields, ", "))
		}
		if u.Reason != "" {
			fmt.Fprintf(&b, " [%s]", u.Reason)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Plan: %d to create, %d to update, %d unchanged, %d to prune.\n",
		d.Counts.Created, d.Counts.Updated, d.Counts.Unchanged, d.Counts.Pruned)
	_, err := io.WriteString(w, b.String())
	return err
}

// outcome collects what a run of up or sync did, for the report file and
// the termination log.
type outcome struct {
	e                 *env
	c                 *config
	logger            *slog.Logger
	command           string
	start             time.Time
	backend           string
	version           int64
	pendingMigrations int
	plan              *reconcile.Plan
	closers           []func()
}

func newOutcome(e *env, c *config, logger *slog.Logger, command string) *outcome {
	return &outcome{e: e, c: c, logger: logger, command: command, start: time.Now()}
}

// finish ends the run: stops the progress display, writes the report and
// the termination log, and returns err, or the error of writing the report
// the operator asked for.
func (o *outcome) finish(err error) error {
	for _, f := range o.closers {
		f()
	}
	if errors.Is(err, errHelp) || o.c.planOnly {
		return err
	}
	d := o.doc(err)
	if o.c.report != "" {
		b, _ := json.MarshalIndent(d, "", "  ") // plain structs: cannot fail
		if werr := os.WriteFile(o.c.report, append(b, '\n'), 0o644); werr != nil && err == nil {
			err = fmt.Errorf("write report: %w", werr)
		}
	}
	o.writeTerminationLog(d)
	return err
}

func (o *outcome) doc(err error) ReportDoc {
	d := ReportDoc{
		Command: o.command, Status: "ok", DryRun: o.c.dryRun, Backend: o.backend,
		MigrationVersion: o.version, DurationSeconds: time.Since(o.start).Round(time.Millisecond).Seconds(),
		PlanDoc: planDoc(o.plan, o.pendingMigrations),
	}
	if err != nil && !errors.Is(err, errChangesPending) {
		d.Status, d.Error = "failed", redactURLs(err.Error())
	}
	return d
}

// terminationLogMax is what Kubernetes keeps of a termination message.
const terminationLogMax = 4096

// writeTerminationLog writes a one-line summary where Kubernetes shows it
// in `kubectl describe pod`. The default path is used only when it exists
// and is writable; a path given explicitly is created. A failure to write
// is logged, never fatal: the sync itself is done.
func (o *outcome) writeTerminationLog(d ReportDoc) {
	path := o.c.terminationLog
	if path == "" {
		return
	}
	flags := os.O_WRONLY | os.O_TRUNC
	if path != defaultTerminationLog {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		if path != defaultTerminationLog {
			o.logger.Warn("cannot write the termination log", "path", path, "error", err)
		}
		return
	}
	defer f.Close()
	line := summaryLine(d)
	if len(line) > terminationLogMax {
		line = line[:terminationLogMax]
	}
	if _, err := io.WriteString(f, line); err != nil {
		o.logger.Warn("cannot write the termination log", "path", path, "error", err)
	}
}

// summaryLine is the termination log's one line.
func summaryLine(d ReportDoc) string {
	dry := ""
	if d.DryRun {
		dry = " (dry run)"
	}
	if d.Status != "ok" {
		first, _, _ := strings.Cut(d.Error, "\n")
		return fmt.Sprintf("usersync %s%s failed: %s\n", d.Command, dry, first)
	}
	return fmt.Sprintf("usersync %s%s ok: created=%d updated=%d unchanged=%d pruned=%d backend=%s version=%d duration=%.3fs\n",
		d.Command, dry, d.Counts.Created, d.Counts.Updated, d.Counts.Unchanged, d.Counts.Pruned, d.Backend, d.MigrationVersion, d.DurationSeconds)
}
