//! What the property tests against a running GoChat share: strategies for the values untrusted
//! input is made of, and a runner that drives a live server from proptest's synchronous loop.
//!
//! Cases per property: proptest's default (256), or `PROPTEST_CASES` for a longer run. A
//! failure is shrunk to a small input and reported with it.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Map, Value, json};

/// Runs `check` on cases drawn from `strategy`, each inside `rt` (the server lives there).
pub fn run<S, F, Fut>(rt: &tokio::runtime::Runtime, strategy: S, check: F)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
    F: Fn(S::Value) -> Fut,
    Fut: std::future::Future<Output = Result<(), TestCaseError>>,
{
    // No regression files: a failure prints its minimal input, which becomes a plain test.
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, |case| rt.block_on(check(case))) {
        Ok(()) => {}
        Err(TestError::Fail(why, input)) => panic!("{why}\nminimal failing input: {input:#?}"),
        Err(TestError::Abort(why)) => panic!("aborted: {why}"),
    }
}

/// Numbers at and around every edge a decoder or a check might trip on.
pub fn number() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(1),
            json!(2),
            json!(50),
            json!(100),
            json!(101),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u32::MAX),
            json!(u64::MAX),
            json!(1e300),
            json!(0.5),
        ]),
    ]
}

/// Strings of every shape an input field sees: ids, times, emoji, words, numbers, and anything.
pub fn string(known: Vec<String>) -> impl Strategy<Value = String> + Clone {
    let mut arms: Vec<(u32, BoxedStrategy<String>)> = vec![
        (3, any::<String>().boxed()),
        (1, Just(String::new()).boxed()),
        (1, "[0-9a-fA-F-]{0,40}".boxed()),
        (1, "-?[0-9]{1,25}".boxed()),
        (1, "[a-z_.-]{1,12}@?[a-z.]{0,12}".boxed()),
        (
            1,
            prop::sample::select(vec![
                "👍", "❤️", "🇫🇷", " ", "\u{0}", "é", "true", "null", "open", "closed", "invite",
            ])
            .prop_map(str::to_owned)
            .boxed(),
        ),
        (1, ("[ -~]{1,4}", 0usize..300).prop_map(|(s, n)| s.repeat(n)).boxed()),
    ];
    if !known.is_empty() {
        arms.push((3, prop::sample::select(known).boxed()));
    }
    prop::strategy::Union::new_weighted(arms)
}

/// Any JSON value, a few levels deep, whose objects use `fields` for most keys.
pub fn value(fields: &'static [&'static str], known: Vec<String>) -> impl Strategy<Value = Value> + Clone {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string(known).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            object(fields, inner),
        ]
    })
}

/// An object with keys mostly from `fields`.
pub fn object(
    fields: &'static [&'static str],
    values: impl Strategy<Value = Value> + Clone,
) -> impl Strategy<Value = Value> + Clone {
    let key = prop_oneof![
        4 => prop::sample::select(fields).prop_map(str::to_owned),
        1 => any::<String>(),
    ];
    prop::collection::vec((key, values), 0..6)
        .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>()))
}

/// Percent-encodes every byte but the unreserved ones, so `bytes` reach the server as they are
/// (invalid UTF-8 included).
pub fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => (*b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Bytes for a path segment or a query value: text, or anything at all.
pub fn raw(known: Vec<String>) -> impl Strategy<Value = Vec<u8>> + Clone {
    prop_oneof![
        4 => string(known).prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..24),
    ]
}
