// Command psd-rollback plans, with Stripe's pg-schema-diff, the statements that take a database
// from its current state back to a desired one: the second peer that bench/corpus/peers.py puts
// beside migration-rollback. Given the database after a migration (current) and the database
// before it (desired), the plan is pg-schema-diff's rollback of that migration.
//
//	psd-rollback -current URL -desired URL [-schema NAME]... [-validate]
//
// The plan goes to stdout: each statement's hazards as "-- hazard TYPE: message" comments, then
// the statement. pg-schema-diff's per-statement statement_timeout and lock_timeout are left out:
// the bench applies plans to small scratch databases, where they only add spurious failures.
// With -validate, pg-schema-diff also checks its plan on a temporary database it creates on the
// current database's server (its "on instance" factory, rooted at the postgres database); the
// bench does not ask for it, as it applies the plan to the real "after" database and compares
// pg_dump output, which is the stronger check. A failure goes to stderr as one line,
// "psd-rollback: <stage>: <error>" (stage: connect, plan), with exit status 1.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v4/stdlib"
	"github.com/stripe/pg-schema-diff/pkg/diff"
	"github.com/stripe/pg-schema-diff/pkg/tempdb"
)

// stageError names the step that failed, so that the harness can group failures by it.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + oneLine(e.err.Error()) }

type schemaList []string

func (s *schemaList) String() string { return strings.Join(*s, ",") }

func (s *schemaList) Set(v string) error {
	if v == "" {
		return errors.New("empty schema name")
	}
	*s = append(*s, v)
	return nil
}

// stderrLogger keeps pg-schema-diff's warnings off stdout, where the plan goes.
type stderrLogger struct{}

func (stderrLogger) Errorf(msg string, args ...any) {
	fmt.Fprintf(os.Stderr, "psd-rollback: pg-schema-diff error: %s\n", oneLine(fmt.Sprintf(msg, args...)))
}

func (stderrLogger) Warnf(msg string, args ...any) {
	fmt.Fprintf(os.Stderr, "psd-rollback: pg-schema-diff warning: %s\n", oneLine(fmt.Sprintf(msg, args...)))
}

func main() {
	var schemas schemaList
	current := flag.String("current", "", "URL of the database in the state to leave (after the migration)")
	desired := flag.String("desired", "", "URL of the database in the state to reach (before the migration)")
	validate := flag.Bool("validate", false, "let pg-schema-diff check its plan on a temporary database of the current server")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Var(&schemas, "schema", "a schema to compare (repeatable; none: every schema pg-schema-diff inspects)")
	flag.Parse()
	if *current == "" || *desired == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: psd-rollback -current URL -desired URL [-schema NAME]... [-validate]")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *current, *desired, schemas, *validate, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "psd-rollback: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, currentURL, desiredURL string, schemas []string, validate bool, out io.Writer) error {
	current, err := open(ctx, currentURL)
	if err != nil {
		return err
	}
	defer current.Close()
	desired, err := open(ctx, desiredURL)
	if err != nil {
		return err
	}
	defer desired.Close()
	opts := []diff.PlanOpt{diff.WithLogger(stderrLogger{})}
	if len(schemas) > 0 {
		opts = append(opts, diff.WithIncludeSchemas(schemas...))
	}
	if validate { // pg-schema-diff validates by default, given a temporary database factory
		factory, err := tempDbFactory(ctx, currentURL)
		if err != nil {
			return &stageError{"connect", fmt.Errorf("temporary database factory: %w", err)}
		}
		defer factory.Close()
		opts = append(opts, diff.WithTempDbFactory(factory))
	} else {
		opts = append(opts, diff.WithDoNotValidatePlan())
	}
	plan, err := diff.Generate(ctx, diff.DBSchemaSource(current), diff.DBSchemaSource(desired), opts...)
	if err != nil {
		return &stageError{"plan", err}
	}
	write(plan, out)
	return nil
}

// tempDbFactory creates pg-schema-diff's temporary databases on the server of `base`, each
// reached through the same URL with its database name swapped in.
func tempDbFactory(ctx context.Context, base string) (tempdb.Factory, error) {
	parsed, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	connect := func(ctx context.Context, dbName string) (*sql.DB, error) {
		u := *parsed
		u.Path = "/" + dbName
		return sql.Open("pgx", u.String())
	}
	return tempdb.NewOnInstanceFactory(ctx, connect, tempdb.WithLogger(stderrLogger{}))
}

// open connects with pgx's database/sql driver, the one pg-schema-diff itself registers.
func open(ctx context.Context, url string) (*sql.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, &stageError{"connect", err}
	}
	// pg-schema-diff fetches the schema with a few queries in parallel; keep that small.
	db.SetMaxOpenConns(5)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &stageError{"connect", err}
	}
	return db, nil
}

// write prints the plan as a SQL script: each statement's hazards as comments, then the statement.
func write(plan diff.Plan, out io.Writer) {
	for _, s := range plan.Statements {
		for _, h := range s.Hazards {
			fmt.Fprintf(out, "-- hazard %s: %s\n", h.Type, oneLine(h.Message))
		}
		fmt.Fprintf(out, "%s;\n", strings.TrimSuffix(strings.TrimSpace(s.DDL), ";"))
	}
}

// oneLine keeps a message on one line of at most 400 characters, as the harness reads one line.
func oneLine(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > 400 {
		text = text[:400] + "…"
	}
	return text
}
