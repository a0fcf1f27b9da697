//! The outside services some tests need, each named by an environment variable
//! holding its URL, and what a test does when its variable is unset.
//!
//! Outside CI an unset variable skips the test, with one line on stderr
//! (`skipping: TEST_NATS_URL not set`): a developer without PostgreSQL can still
//! run everything else. Under CI (the variable `CI` is set and not empty) it fails
//! the test instead: CI sets every variable (`.ci/run`), and a database or cluster
//! test that passes there without running would hide a broken setup.

/// Environment variable holding a PostgreSQL admin URL, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_ENV: &str = "TEST_POSTGRES_URL";
/// Environment variable holding a MySQL/MariaDB admin URL, e.g.
/// `mysql://root@127.0.0.1:3306/mysql`.
pub const MYSQL_ENV: &str = "TEST_MYSQL_URL";
/// Environment variable holding the NATS server's URL, e.g. `nats://127.0.0.1:4222`.
pub const NATS_ENV: &str = "TEST_NATS_URL";
/// Set (non-empty) on CI machines; turns a skip into a failure.
pub const CI_ENV: &str = "CI";

/// What a test does about a service, given its variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The variable names the service: run against this URL.
    Run(String),
    /// Unset outside CI: skip, printing this line on stderr.
    Skip(String),
    /// Unset under CI: fail with this message.
    Fail(String),
}

/// The decision for the variable `var` whose value is `value` (`None` when unset;
/// an empty value counts as unset), with `ci` telling whether this is a CI run.
/// Pure, so it is tested without touching the environment.
pub fn decide(var: &str, value: Option<&str>, ci: bool) -> Decision {
    match value.filter(|v| !v.is_empty()) {
        Some(url) => Decision::Run(url.to_owned()),
        None if ci => Decision::Fail(format!(
            "{var} is not set, but {CI_ENV} is: under CI every database and cluster test \
             must run, not pass without running (set {var}, as .ci/run does)"
        )),
        None => Decision::Skip(format!("skipping: {var} not set")),
    }
}

/// True when the environment says this is a CI run ([`CI_ENV`] set and not empty).
pub fn in_ci() -> bool {
    std::env::var_os(CI_ENV).is_some_and(|v| !v.is_empty())
}

/// The URL in `var`; `None` (after one line on stderr) when it is unset outside
/// CI. Panics, naming `var`, when it is unset under CI.
pub fn required(var: &str) -> Option<String> {
    let value = std::env::var(var).ok();
    match decide(var, value.as_deref(), in_ci()) {
        Decision::Run(url) => Some(url),
        Decision::Skip(line) => {
            eprintln!("{line}");
            None
        }
        Decision::Fail(message) => panic!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Decision, decide};

    #[test]
    fn a_set_variable_runs_in_and_out_of_ci() {
        for ci in [false, true] {
            assert_eq!(
                decide("TEST_NATS_URL", Some("nats://127.0.0.1:4222"), ci),
                Decision::Run("nats://127.0.0.1:4222".into())
            );
        }
    }

    #[test]
    fn an_unset_variable_skips_outside_ci() {
        assert_eq!(
            decide("TEST_POSTGRES_URL", None, false),
            Decision::Skip("skipping: TEST_POSTGRES_URL not set".into())
        );
    }

    #[test]
    fn an_unset_variable_fails_under_ci_naming_it() {
        let Decision::Fail(message) = decide("TEST_MYSQL_URL", None, true) else {
            panic!("an unset variable under CI must fail");
        };
        assert!(
            message.starts_with("TEST_MYSQL_URL is not set"),
            "{message}"
        );
        assert!(message.contains("CI"), "{message}");
    }

    #[test]
    fn an_empty_variable_counts_as_unset() {
        assert!(matches!(decide("X", Some(""), false), Decision::Skip(_)));
        assert!(matches!(decide("X", Some(""), true), Decision::Fail(_)));
    }
}
