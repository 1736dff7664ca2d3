package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/reconcile"
	"github.com/barycenter/usersync/internal/userfile"
)

// operatorConfig holds the flags of the operator's view: plan output,
// dry run, report, pruning and progress.
type operatorConfig struct {
	prune            optBool
	pruneAction      string
	maxPrune         int
	force            bool
	output           string
	detailedExitcode bool
	dryRun           bool
	report           string
	terminationLog   string
	progressInterval time.Duration
	planOnly         bool // the plan command: no report, no termination log
}

// optBool is a boolean flag that remembers whether it was given (on the
// command line or through its environment variable), so that the users
// file's own setting applies only when it was not.
type optBool struct{ set, val bool }

func (b *optBool) String() string   { return strconv.FormatBool(b != nil && b.val) }
func (b *optBool) IsBoolFlag() bool { return true }
func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.val = true, v
	return nil
}

// defaultTerminationLog is Kubernetes' termination message path; it is
// written only when it exists and is writable.
var defaultTerminationLog = "/dev/termination-log"

// pruning adds --prune, --prune-action, --max-prune and --force.
func (f *flagSet) pruning() {
	f.Var(&f.c.prune, "prune", `disable (or delete) managed users that left the file; default: the file's "prune"`)
	f.bind("prune", "USERSYNC_PRUNE")
	f.StringVar(&f.c.pruneAction, "prune-action", "disable", "what pruning does: disable (enabled=0) or delete (the user and its properties)")
	f.bind("prune-action", "USERSYNC_PRUNE_ACTION")
	f.IntVar(&f.c.maxPrune, "max-prune", 10, "refuse to prune more users than this in one run without --force")
	f.bind("max-prune", "USERSYNC_MAX_PRUNE")
	f.BoolVar(&f.c.force, "force", false, "prune even more than --max-prune or more than half of the managed users")
	f.bind("force", "USERSYNC_PRUNE_FORCE")
}

// planFlags adds --output and --detailed-exitcode, and --dry-run for up
// and sync.
func (f *flagSet) planFlags(dryRun bool) {
	f.StringVar(&f.c.output, "output", "text", "plan output on standard output: text or json")
	f.bind("output", "USERSYNC_OUTPUT")
	f.BoolVar(&f.c.detailedExitcode, "detailed-exitcode", false, "exit 0 when the plan has no changes, 3 when it has some")
	f.bind("detailed-exitcode", "USERSYNC_DETAILED_EXITCODE")
	if dryRun {
		f.BoolVar(&f.c.dryRun, "dry-run", false, "print the plan and write nothing (migrations are not applied)")
		f.bind("dry-run", "USERSYNC_DRY_RUN")
	}
}

// reporting adds --report and --termination-log.
func (f *flagSet) reporting() {
	f.StringVar(&f.c.report, "report", "", "write a JSON report of the run to this file")
	f.bind("report", "USERSYNC_REPORT")
	f.StringVar(&f.c.terminationLog, "termination-log", defaultTerminationLog,
		"write a one-line summary here; the default is used only when it exists and is writable; empty: none")
	f.bind("termination-log", "TERMINATION_LOG")
}

// progress adds --progress-interval.
func (f *flagSet) progress() {
	f.DurationVar(&f.c.progressInterval, "progress-interval", 5*time.Second,
		"without a terminal, log progress of hashing at most this often; 0: no progress output")
	f.bind("progress-interval", "PROGRESS_INTERVAL")
}

// checkOperator validates the operator flags.
func (c *config) checkOperator() error {
	switch {
	case c.pruneAction != string(reconcile.PruneDisable) && c.pruneAction != string(reconcile.PruneDelete):
		return usagef("--prune-action must be disable or delete")
	case c.maxPrune < 0:
		return usagef("--max-prune must not be negative")
	case c.output != "text" && c.output != "json":
		return usagef("--output must be text or json")
	case c.detailedExitcode && !c.dryRun && !c.planOnly:
		return usagef("--detailed-exitcode needs --dry-run (or the plan command)")
	case c.output != "text" && !c.dryRun && !c.planOnly:
		return usagef("--output needs --dry-run (or the plan command): a sync prints no plan")
	case c.progressInterval < 0:
		return usagef("--progress-interval must not be negative")
	}
	return nil
}

// operatorOptions completes the sync options: pruning (the flag, else the
// file's "prune") and the progress display. Call close when done.
func (c *config) operatorOptions(opts *reconcile.Options, file *userfile.File, e *env, logger *slog.Logger) (close func()) {
	enabled := file.Prune != nil && *file.Prune
	if c.prune.set {
		enabled = c.prune.val
	}
	opts.Prune = reconcile.PruneOptions{Enabled: enabled, Action: reconcile.PruneAction(c.pruneAction), Max: c.maxPrune, Force: c.force}
	if c.progressInterval == 0 {
		return func() {}
	}
	d := newProgressDisplay(e.stderr, logger, c.progressInterval)
	opts.Progress = d.update
	return d.close
}

// readPlan computes the plan without writing anything. It reads the tables that exist, whatever goose's version
// says (the identity provider may have created users and properties
// itself): without them every user is a create, without usersync_managed
// nothing is managed yet, without usersync_state every password is
// verified.
func readPlan(ctx context.Context, db *database.DB, file *userfile.File, opts reconcile.Options) (*reconcile.Plan, error) {
	var have reconcile.Tables
	for _, t := range []struct {
		names []string
		dst   *bool
	}{
		{[]string{"users", "properties"}, &have.Users},
		{[]string{"usersync_managed"}, &have.Managed},
		{[]string{"usersync_state"}, &have.State},
	} {
		*t.dst = true
		for _, name := range t.names {
			ok, err := db.HasTable(ctx, name)
			if err != nil {
				return nil, err
			}
			*t.dst = *t.dst && ok
		}
	}
	// No transaction: Preview only reads, and a transaction (BEGIN
	// IMMEDIATE on SQLite) would hold a lock while passwords are verified.
	return reconcile.Preview(ctx, db.Bun, db.SQL, file, opts, have)
}

// planRun is `usersync plan` and `--dry-run`: compute the plan, print it,
// apply the prune guard, and map changes to exit status 3 under
// --detailed-exitcode. It never writes to the database, and never
// migrates; requireMigrated (sync) refuses while migrations are pending.
func planRun(ctx context.Context, e *env, c *config, db *database.DB, file *userfile.File, opts reconcile.Options, out *outcome, requireMigrated bool) error {
	st, err := db.SchemaState(ctx)
	if err != nil {
		return err
	}
	if requireMigrated && st.Pending > 0 {
		return errPending
	}
	out.version, out.pendingMigrations = st.Applied, st.Pending
	plan, err := readPlan(ctx, db, file, opts)
	if err != nil {
		return err
	}
	out.plan = plan
	if err := writePlan(e.stdout, c.output, planDoc(plan, st.Pending)); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	if err := plan.CheckPrune(opts.Prune); err != nil {
		return err
	}
	if c.detailedExitcode && plan.HasChanges() {
		return errChangesPending
	}
	return nil
}
