//! The outside services some tests need, each named by an environment variable
//! holding its URL, and how such a test says that it did not run.
//!
//! A test that needs a service is `#[ignore = "needs VAR"]`: a plain
//! `cargo test` counts it as ignored, never as passed, and names what it
//! needs. `cargo test -- --include-ignored` runs it; then an unset variable
//! fails it, naming the variable ([`required`]): whoever asked for the test
//! asked for the service. `.ci/run` sets every variable and runs with
//! `--include-ignored`, so in CI every variant runs for real.

/// Environment variable holding a PostgreSQL admin URL, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_ENV: &str = "TEST_POSTGRES_URL";
/// Environment variable holding a MySQL/MariaDB admin URL, e.g.
/// `mysql://root@127.0.0.1:3306/mysql`.
pub const MYSQL_ENV: &str = "TEST_MYSQL_URL";
/// Environment variable holding the NATS server's URL, e.g. `nats://127.0.0.1:4222`.
pub const NATS_ENV: &str = "TEST_NATS_URL";
/// Set (non-empty) on CI machines.
pub const CI_ENV: &str = "CI";

/// The URL in `var`'s value (`None` when unset; an empty value counts as
/// unset), or the message a test that needs it fails with. Pure, so it is
/// tested without touching the environment.
pub fn decide(var: &str, value: Option<&str>) -> Result<String, String> {
    match value.filter(|v| !v.is_empty()) {
        Some(url) => Ok(url.to_owned()),
        None => Err(format!(
            "{var} is not set: this test needs it. A plain `cargo test` lists it as \
             ignored; run it with `-- --include-ignored` once {var} names the service \
             (as .ci/run does)"
        )),
    }
}

/// True when the environment says this is a CI run ([`CI_ENV`] set and not empty).
pub fn in_ci() -> bool {
    std::env::var_os(CI_ENV).is_some_and(|v| !v.is_empty())
}

/// The URL in `var`. Panics, naming `var`, when it is unset: only tests that
/// were asked for (they are `#[ignore]`d otherwise) call this.
pub fn required(var: &str) -> String {
    let value = std::env::var(var).ok();
    decide(var, value.as_deref()).unwrap_or_else(|message| panic!("{message}"))
}

#[cfg(test)]
mod tests {
    use super::decide;

    #[test]
    fn a_set_variable_gives_its_url() {
        assert_eq!(
            decide("TEST_NATS_URL", Some("nats://127.0.0.1:4222")),
            Ok("nats://127.0.0.1:4222".into())
        );
    }

    #[test]
    fn an_unset_variable_fails_naming_it_and_how_to_run() {
        let message = decide("TEST_MYSQL_URL", None).unwrap_err();
        assert!(
            message.starts_with("TEST_MYSQL_URL is not set"),
            "{message}"
        );
        assert!(message.contains("--include-ignored"), "{message}");
    }

    #[test]
    fn an_empty_variable_counts_as_unset() {
        assert!(decide("X", Some("")).is_err());
    }
}
