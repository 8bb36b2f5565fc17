// Command atlas-rollback plans, with Atlas's open-source PostgreSQL engine, the statements that
// take a database from its current state back to a desired one: the peer that bench/corpus/peers.py
// puts beside migration-rollback. Given the database after a migration (current) and a database
// before it (desired), the plan is Atlas's rollback of that migration.
//
//	atlas-rollback -current URL -desired URL [-schema NAME]...
//
// The plan goes to stdout, one statement per line; a failure goes to stderr as
// "atlas-rollback: <stage>: <error>" (stage: connect, inspect, diff, plan) with exit status 1.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	_ "github.com/lib/pq"
)

// stageError names the step that failed, so that the harness can group failures by it.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }

type schemaList []string

func (s *schemaList) String() string { return strings.Join(*s, ",") }

func (s *schemaList) Set(v string) error {
	if v == "" {
		return errors.New("empty schema name")
	}
	*s = append(*s, v)
	return nil
}

func main() {
	var schemas schemaList
	current := flag.String("current", "", "URL of the database in the state to leave (after the migration)")
	desired := flag.String("desired", "", "URL of the database in the state to reach (before the migration)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Var(&schemas, "schema", "a schema to compare (repeatable; none: every schema Atlas inspects)")
	flag.Parse()
	if *current == "" || *desired == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: atlas-rollback -current URL -desired URL [-schema NAME]...")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *current, *desired, schemas, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "atlas-rollback: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, currentURL, desiredURL string, schemas []string, out io.Writer) error {
	current, closeCurrent, err := open(ctx, currentURL)
	if err != nil {
		return err
	}
	defer closeCurrent()
	desired, closeDesired, err := open(ctx, desiredURL)
	if err != nil {
		return err
	}
	defer closeDesired()
	opts := &schema.InspectRealmOption{Schemas: schemas}
	from, err := current.InspectRealm(ctx, opts)
	if err != nil {
		return &stageError{"inspect", fmt.Errorf("current: %w", err)}
	}
	to, err := desired.InspectRealm(ctx, opts)
	if err != nil {
		return &stageError{"inspect", fmt.Errorf("desired: %w", err)}
	}
	changes, err := current.RealmDiff(from, to)
	if err != nil {
		return &stageError{"diff", err}
	}
	plan, err := current.PlanChanges(ctx, "rollback", changes)
	if err != nil {
		return &stageError{"plan", err}
	}
	return write(plan, out)
}

// open connects and opens the Atlas driver; the returned function closes the connection.
func open(ctx context.Context, url string) (migrate.Driver, func(), error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, nil, &stageError{"connect", err}
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, &stageError{"connect", err}
	}
	drv, err := postgres.Open(db)
	if err != nil {
		db.Close()
		return nil, nil, &stageError{"connect", err}
	}
	return drv, func() { db.Close() }, nil
}

// write prints the plan as a SQL script: each change's comment, then its statement.
func write(plan *migrate.Plan, out io.Writer) error {
	for _, c := range plan.Changes {
		if len(c.Args) > 0 {
			return &stageError{"plan", fmt.Errorf("statement with bind arguments: %s", c.Cmd)}
		}
		if c.Comment != "" {
			fmt.Fprintf(out, "-- %s\n", strings.ReplaceAll(c.Comment, "\n", " "))
		}
		fmt.Fprintf(out, "%s;\n", strings.TrimSuffix(strings.TrimSpace(c.Cmd), ";"))
	}
	return nil
}
