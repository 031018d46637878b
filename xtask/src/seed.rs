//! The TechEmpower tables the demo's database routes read and write.
//!
//! `world` holds 10,000 rows of `(id, randomnumber)` with random numbers in
//! 1..=10,000; `fortune` holds the 12 standard messages (the `<script>` one
//! included, which the `/fortunes` route must escape). Seeding is
//! idempotent: tables are created if missing and refilled only when their
//! row count is wrong, so the suite and the demo can both call it.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::services::{self, Config};
use crate::util::{Result, bail};

/// The 12 rows of the TechEmpower `fortune` table (the benchmark's fixture
/// data; the route adds a 13th at request time).
const FORTUNES: [&str; 12] = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    "フレームワークのベンチマーク",
];

/// The SQL that creates and fills both tables when they are not right.
fn script() -> String {
    let fortunes: Vec<String> = FORTUNES
        .iter()
        .enumerate()
        .map(|(i, m)| format!("({}, '{}')", i + 1, m.replace('\'', "''")))
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS world (\
           id integer PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0);\n\
         CREATE TABLE IF NOT EXISTS fortune (\
           id integer PRIMARY KEY, message varchar(2048) NOT NULL);\n\
         DO $$ BEGIN\n\
           IF (SELECT count(*) FROM world) <> 10000 THEN\n\
             TRUNCATE world;\n\
             INSERT INTO world (id, randomnumber)\n\
               SELECT x, 1 + floor(random() * 10000)::int FROM generate_series(1, 10000) AS x;\n\
           END IF;\n\
           IF (SELECT count(*) FROM fortune) <> {n} THEN\n\
             TRUNCATE fortune;\n\
             INSERT INTO fortune (id, message) VALUES {rows};\n\
           END IF;\n\
         END $$;\n\
         GRANT SELECT, UPDATE ON world, fortune TO weft_md5, weft_scram, weft_clear;\n",
        n = FORTUNES.len(),
        rows = fortunes.join(", "),
    )
}

/// Creates and fills `world` and `fortune` in the test database, as the
/// superuser-like `weft` role over TCP.
pub fn techempower(config: &Config) -> Result {
    let Some(bin) = services::postgres::bin_dir() else {
        bail!("seeding the TechEmpower tables: psql not found");
    };
    let mut child = Command::new(bin.join("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p"])
        .arg(config.pg_port.to_string())
        .args(["-U", "weft", "-d", &config.pg_db, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script().as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "seeding the TechEmpower tables failed: {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    println!(
        "techempower     world (10000 rows), fortune ({} rows) ready",
        FORTUNES.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortunes_are_quoted_for_sql() {
        let s = script();
        assert!(s.contains(
            "(2, 'A computer scientist is someone who fixes things that aren''t broken.')"
        ));
        assert!(s.contains("(12, 'フレームワークのベンチマーク')"));
        assert_eq!(s.matches("), (").count(), FORTUNES.len() - 1);
    }
}
