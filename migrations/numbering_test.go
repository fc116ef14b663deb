package migrations

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"
)

// Engineers landing in parallel have twice picked the same next number;
// tern then runs one of the two and skips the other on some databases.
// Numbers must be unique and run 001, 002, ... without a gap.
func TestMigrationNumbersAreUniqueAndContiguous(t *testing.T) {
	names, err := fs.Glob(FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, n := range names {
		num, err := strconv.Atoi(strings.SplitN(n, "_", 2)[0])
		if err != nil {
			t.Fatalf("%s: a migration's name starts with its number (NNN_name.sql)", n)
		}
		if other, dup := seen[num]; dup {
			t.Fatalf("migrations %s and %s share number %d: renumber the later one", other, n, num)
		}
		seen[num] = n
	}
	for i := 1; i <= len(seen); i++ {
		if _, ok := seen[i]; !ok {
			t.Fatalf("migration %s is missing: numbers must run without a gap (have %v)", fmt.Sprintf("%03d", i), names)
		}
	}
}
