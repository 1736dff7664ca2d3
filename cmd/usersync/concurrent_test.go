package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barycenter/usersync/internal/dbtest"
)

// syncSummary is the "sync complete" log record of a run.
type syncSummary struct {
	Created, Updated, Unchanged int
}

// summary finds the "sync complete" record in a run's JSON log.
func parseSummary(t *testing.T, stderr string) (syncSummary, bool) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		var rec struct {
			Msg string `json:"msg"`
			syncSummary
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "sync complete" {
			return rec.syncSummary, true
		}
	}
	return syncSummary{}, false
}

// TestConcurrentUp starts 8 `usersync up` processes at once on one fresh
// database: the migrations and the sync must each happen once, every run
// must succeed, and all but one run must find the users unchanged.
func TestConcurrentUp(t *testing.T) {
	const runs, nUsers = 8, 40
	users := make([]testUser, nUsers)
	for i := range users {
		users[i] = testUser{Username: fmt.Sprintf("replica-user-%02d", i), Password: fmt.Sprintf("Conc-Pw-%02d", i)}
	}
	file := writeUsersFile(t, users)
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args := append([]string{"up", "--database-url", url, "--users-file", file, "--log-format", "json", "--hash-workers", "1"}, cheapHashing...)
		type result struct {
			code   int
			stderr string
		}
		results := make([]result, runs)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd, _, errb := usersyncCmd(ctx, args...)
				<-start
				err := cmd.Run()
				results[i] = result{exitStatus(t, err), errb.String()}
			}()
		}
		close(start)
		wg.Wait()

		var created, unchanged int
		for i, r := range results {
			if r.code != 0 {
				t.Errorf("run %d: exit %d\n%s", i, r.code, r.stderr)
				continue
			}
			s, ok := parseSummary(t, r.stderr)
			if !ok {
				t.Errorf("run %d: no sync summary in\n%s", i, r.stderr)
				continue
			}
			if s.Updated != 0 {
				t.Errorf("run %d: updated %d users, want 0", i, s.Updated)
			}
			switch {
			case s.Created == nUsers && s.Unchanged == 0:
				created++
			case s.Created == 0 && s.Unchanged == nUsers:
				unchanged++
			default:
				t.Errorf("run %d: created %d, unchanged %d: want all of one kind", i, s.Created, s.Unchanged)
			}
		}
		if created != 1 || unchanged != runs-1 {
			t.Errorf("%d runs created the users and %d found them unchanged, want 1 and %d", created, unchanged, runs-1)
		}

		db := dbtest.Open(t, url)
		if rows, distinct := countUsers(t, db); rows != nUsers || distinct != nUsers {
			t.Errorf("users: %d rows, %d distinct usernames, want %d", rows, distinct, nUsers)
		}
		var applied, maxVersion, distinctVersions int64
		err := db.SQL.QueryRow(`SELECT count(*), COALESCE(max(version_id), 0), count(DISTINCT version_id)
			FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &maxVersion, &distinctVersions)
		if err != nil {
			t.Fatal(err)
		}
		p, err := db.Migrator()
		if err != nil {
			t.Fatal(err)
		}
		srcs := p.ListSources()
		want := srcs[len(srcs)-1].Version
		if maxVersion != want || applied != int64(len(srcs)) || distinctVersions != int64(len(srcs)) {
			t.Errorf("goose_db_version: %d rows, %d versions, max %d; want each of %d migrations once, max %d",
				applied, distinctVersions, maxVersion, len(srcs), want)
		}
	})
}
