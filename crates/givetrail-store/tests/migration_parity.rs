//! The SQLite and PostgreSQL migrations must describe the same schema. They may differ only in
//! how each backend refuses changes: trigger and function blocks (`CREATE TRIGGER`, `CREATE
//! FUNCTION`, `DROP TRIGGER`, `DROP FUNCTION`) are removed, and a statement that only raises an
//! error (`DO $$ … RAISE EXCEPTION 'x' … $$;`, `SELECT RAISE(ABORT, 'x');`) becomes one marker
//! naming its message. A PostgreSQL `DO $citus$ … $citus$;` block, which distributes the tables
//! when the database has the Citus extension and does nothing otherwise, is removed as well.
//! Everything else — tables, indexes, comments, migration names — must match line for line.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The crate's migration folder. `cargo test` starts the test in the package root; this is
/// resolved at run time so a binary reused from a shared target folder reads its own checkout.
fn migrations() -> PathBuf {
    let dir = std::env::current_dir()
        .expect("the test's working directory")
        .join("migrations");
    assert!(
        dir.join("sqlite").is_dir() && dir.join("postgres").is_dir(),
        "run from crates/givetrail-store (cargo test -p givetrail-store): no migrations in {}",
        dir.display()
    );
    dir
}

/// Where a skipped block ends.
#[derive(Clone, Copy)]
enum BlockEnd {
    /// A line ending in `;`.
    Semicolon,
    /// The `$$` that closes a dollar-quoted body, then `;`.
    DollarQuote,
    /// A trigger: `END;` when it has a `BEGIN … END` body (SQLite), else a line ending in `;`.
    Trigger,
    /// The `$citus$` that closes a Citus distribution block, then `;`.
    Citus,
}

fn block_start(line: &str) -> Option<BlockEnd> {
    let upper = line.trim_start().to_ascii_uppercase();
    if upper.starts_with("DO $CITUS$") {
        return Some(BlockEnd::Citus);
    }
    let starts = [
        "CREATE TRIGGER",
        "CREATE FUNCTION",
        "CREATE OR REPLACE FUNCTION",
        "DROP TRIGGER",
        "DROP FUNCTION",
    ];
    if !starts.iter().any(|s| upper.starts_with(s)) {
        return None;
    }
    Some(if upper.contains("$$") {
        BlockEnd::DollarQuote
    } else if upper.starts_with("CREATE TRIGGER") {
        BlockEnd::Trigger
    } else {
        BlockEnd::Semicolon
    })
}

fn ends(block: BlockEnd, text_so_far: &str) -> bool {
    let t = text_so_far.trim_end().to_ascii_uppercase();
    match block {
        BlockEnd::Semicolon => t.ends_with(';'),
        BlockEnd::DollarQuote => t.matches("$$").count() >= 2 && t.ends_with(';'),
        BlockEnd::Trigger if t.split_whitespace().any(|w| w == "BEGIN") => t.ends_with("END;"),
        BlockEnd::Trigger => t.ends_with(';'),
        BlockEnd::Citus => t.matches("$CITUS$").count() >= 2 && t.ends_with(';'),
    }
}

/// A statement on one line that only raises an error, as a backend-neutral marker.
fn refusal(line: &str) -> Option<String> {
    let t = line.trim();
    let raises =
        (t.starts_with("DO $$") && t.contains("RAISE EXCEPTION")) || t.starts_with("SELECT RAISE(");
    if !raises || !t.ends_with(';') {
        return None;
    }
    let message = t.split('\'').nth(1).unwrap_or_default();
    Some(format!("<refuse '{message}'>"))
}

/// The lines of a migration that must agree across backends, each with its line number.
fn normalise(sql: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut skipping: Option<(BlockEnd, usize, String)> = None;
    for (i, line) in sql.lines().enumerate() {
        if let Some((block, start, mut text)) = skipping.take() {
            text.push_str(line);
            text.push('\n');
            if !ends(block, &text) {
                skipping = Some((block, start, text));
            }
            continue;
        }
        if let Some(block) = block_start(line) {
            let text = format!("{line}\n");
            if !ends(block, &text) {
                skipping = Some((block, i + 1, text));
            }
            continue;
        }
        let kept = refusal(line).unwrap_or_else(|| line.trim_end().to_owned());
        if !kept.is_empty() {
            out.push((i + 1, kept));
        }
    }
    if let Some((_, start, _)) = skipping {
        // Never hide the rest of a file behind a block that does not end.
        out.push((start, "<trigger or function block never ends>".to_owned()));
    }
    out
}

/// The differing lines of two normalised files (longest common subsequence), or `None`.
fn diff(a: &[(usize, String)], b: &[(usize, String)]) -> Option<String> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i].1 == b[j].1 {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && a[i].1 == b[j].1 {
            i += 1;
            j += 1;
        } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("  postgres:{:>4}  {}\n", a[i].0, a[i].1));
            i += 1;
        } else {
            out.push_str(&format!("  sqlite:  {:>4}  {}\n", b[j].0, b[j].1));
            j += 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn sqlite_and_postgres_migrations_differ_only_in_triggers() {
    let root = migrations();
    let (pg, lite) = (root.join("postgres"), root.join("sqlite"));
    let (pg_names, lite_names) = (names(&pg), names(&lite));
    assert_eq!(
        pg_names, lite_names,
        "both backends must have the same migrations"
    );
    assert!(!pg_names.is_empty(), "no migrations found");
    let mut problems = String::new();
    for name in &pg_names {
        for file in ["up.sql", "down.sql"] {
            let read = |dir: &Path| {
                let path = dir.join(name).join(file);
                fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
            };
            if let Some(d) = diff(&normalise(&read(&pg)), &normalise(&read(&lite))) {
                problems.push_str(&format!("{name}/{file}:\n{d}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the SQLite and PostgreSQL migrations differ outside trigger blocks:\n{problems}"
    );
}

#[test]
fn normalising_removes_each_backends_trigger_blocks_and_keeps_the_rest() {
    let pg = "CREATE TABLE t (x BIGINT);\n\
              CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\n\
              BEGIN\n    RAISE EXCEPTION 'no';\nEND;\n$$;\n\
              CREATE TRIGGER t_guard BEFORE UPDATE OR DELETE ON t\n    FOR EACH ROW EXECUTE FUNCTION f();\n\
              DO $$ BEGIN RAISE EXCEPTION 'irreversible'; END $$;\n\
              CREATE INDEX t_x ON t (x);\n";
    let lite = "CREATE TABLE t (x BIGINT);\n\
                CREATE TRIGGER t_no_update BEFORE UPDATE ON t\n\
                BEGIN SELECT RAISE(ABORT, 'no'); END;\n\
                SELECT RAISE(ABORT, 'irreversible');\n\
                CREATE INDEX t_x ON t (x);\n";
    assert_eq!(diff(&normalise(pg), &normalise(lite)), None);
    let distributed = format!(
        "{pg}DO $citus$\nBEGIN\n    PERFORM create_distributed_table('t', 'x');\nEND\n$citus$;\n"
    );
    assert_eq!(diff(&normalise(&distributed), &normalise(lite)), None);
    assert_eq!(
        normalise(pg).last().map(|(_, l)| l.as_str()),
        Some("CREATE INDEX t_x ON t (x);"),
        "what follows a trigger is compared"
    );
    let other = lite.replace("t (x BIGINT)", "t (x TEXT)");
    let d = diff(&normalise(pg), &normalise(&other)).expect("a column type differs");
    assert!(
        d.contains("postgres:   1  CREATE TABLE t (x BIGINT);")
            && d.contains("sqlite:     1  CREATE TABLE t (x TEXT);"),
        "{d}"
    );
}
