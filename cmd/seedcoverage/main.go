// Command seedcoverage measures how much of the seed playbooks the built-in
// playbooks carry: for each seed, the rows that prescribe something (list
// items, numbered steps, table rows), and how many of them a built-in
// step's cite quotes. Rows are also counted by kind: timed ones (a day,
// week, month or T-N) and cadences (weekly, monthly, quarterly...).
//
//	go run ./cmd/seedcoverage [-seeds ../shared/seeds] [-v]
//
// A row is covered when a fragment of a cite naming its seed (the cite
// split at quotes, colons, semicolons and commas; at least two words and
// 12 characters) occurs in it, ignoring case and markup. It is a measure
// of what the built-ins quote, not of what they mean: run it before and
// after a change to the built-ins to compare.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/playbooks"
	"github.com/playbookd/playbookd/templates"
)

var (
	// rowStart: a list item, a numbered step or a table row. Seed 001 is
	// one long line; it is cut before each of them first.
	rowStart  = regexp.MustCompile(`^(- |\d+\. |\|)`)
	cutBefore = regexp.MustCompile(`\s+(- |\d+\. |#{2,4} )`)
	markup    = regexp.MustCompile(`[*_` + "`" + `#|✅✓\[\]]+|[^\x00-\x7F]+`)
	spaces    = regexp.MustCompile(`\s+`)
	seedRef   = regexp.MustCompile(`seed (\d{3})`)
	timed     = regexp.MustCompile(`(?i)\b(day|days|week|weeks|month|months|t-\d+|\d+ days)\b`)
	cadence   = regexp.MustCompile(`(?i)\b(daily|weekly|bi-weekly|monthly|quarterly|semi-annual|bi-annual|annual|annually|yearly)\b`)
	separator = regexp.MustCompile(`[":;,()]`)
	tableRule = regexp.MustCompile(`^\|[\s|:-]+\|?$`)
)

func main() {
	dir := flag.String("seeds", "../shared/seeds", "directory of the seed files (NNN_*.txt)")
	verbose := flag.Bool("v", false, "list each row with its coverage")
	flag.Parse()
	fragments, err := citeFragments()
	if err != nil {
		fmt.Fprintln(os.Stderr, "seedcoverage:", err)
		os.Exit(1)
	}
	paths, _ := filepath.Glob(filepath.Join(*dir, "[0-9][0-9][0-9]_*.txt"))
	if len(paths) == 0 {
		fmt.Fprintf(os.Stderr, "seedcoverage: no seeds in %s\n", *dir)
		os.Exit(2)
	}
	sort.Strings(paths)
	fmt.Println("| Seed | Rows covered | Timed rows covered | Cadence rows covered |")
	fmt.Println("|---|---:|---:|---:|")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "seedcoverage:", err)
			os.Exit(1)
		}
		seed := filepath.Base(p)[:3]
		var all, tim, cad count
		for _, row := range rows(string(src)) {
			covered := coveredBy(row, fragments[seed])
			all.add(covered)
			if timed.MatchString(row) {
				tim.add(covered)
			}
			if cadence.MatchString(row) {
				cad.add(covered)
			}
			if *verbose {
				fmt.Fprintf(os.Stderr, "%s %v %s\n", seed, covered, row)
			}
		}
		fmt.Printf("| %s | %s | %s | %s |\n", seed, all, tim, cad)
	}
}

type count struct{ covered, total int }

func (c *count) add(covered bool) {
	c.total++
	if covered {
		c.covered++
	}
}

func (c count) String() string {
	if c.total == 0 {
		return "0/0"
	}
	return fmt.Sprintf("%d/%d (%d %%)", c.covered, c.total, 100*c.covered/c.total)
}

// rows are a seed's prescriptive rows, normalised: lower case, markup and
// non-ASCII symbols dropped, spaces collapsed.
func rows(src string) []string {
	var out []string
	for _, line := range strings.Split(cutBefore.ReplaceAllString(src, "\n$1"), "\n") {
		line = strings.TrimSpace(line)
		if !rowStart.MatchString(line) || tableRule.MatchString(line) {
			continue
		}
		row := normalise(line)
		if len(strings.Fields(row)) < 2 {
			continue
		}
		out = append(out, row)
	}
	return out
}

func normalise(s string) string {
	s = markup.ReplaceAllString(strings.ToLower(s), " ")
	s = strings.TrimLeft(strings.TrimSpace(s), "-0123456789. ")
	return spaces.ReplaceAllString(strings.TrimSpace(s), " ")
}

// citeFragments are the quotable pieces of every built-in cite, by the
// seed the cite names.
func citeFragments() (map[string][]string, error) {
	set, err := templates.Builtin()
	if err != nil {
		return nil, err
	}
	all, err := playbooks.Builtin(playbook.Options{BuiltinTemplates: set.Names()})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, b := range all {
		for _, cite := range b.Definition.StepCites() {
			// A cite may name several seeds: "seed 000 "..."; seed 003 "..."".
			for _, part := range strings.Split(cite, ";") {
				m := seedRef.FindStringSubmatch(part)
				if m == nil {
					continue
				}
				for _, f := range separator.Split(seedRef.ReplaceAllString(part, ""), -1) {
					f = normalise(f)
					if len(f) >= 12 && len(strings.Fields(f)) >= 2 {
						out[m[1]] = append(out[m[1]], f)
					}
				}
			}
		}
	}
	return out, nil
}

func coveredBy(row string, fragments []string) bool {
	for _, f := range fragments {
		if strings.Contains(row, f) {
			return true
		}
	}
	return false
}
