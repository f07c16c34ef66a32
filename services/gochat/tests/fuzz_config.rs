//! Settings from untrusted text: every flag and environment variable of `gochat serve` (both go
//! through the same clap parser), and its TOML file. Whatever the value, the result is
//! settings or an error naming the setting, never a panic; and every value the command line
//! accepts survives being layered over the file.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

use clap::{CommandFactory, Parser};
use gochat_kit::config::{CommonSettings, layer};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `gochat serve`'s command line: the common settings and every service's.
#[derive(Parser, Serialize, Deserialize)]
struct Serve {
    #[command(flatten)]
    #[serde(flatten)]
    common: CommonSettings,
    #[command(flatten)]
    #[serde(flatten)]
    services: gochat::Settings,
}

/// Every setting: its long flag, its environment variable, its key in the TOML file.
#[derive(Clone, Debug)]
struct Setting {
    flag: String,
    env: String,
    key: String,
}

fn settings() -> Vec<Setting> {
    Serve::command()
        .get_arguments()
        .filter_map(|arg| {
            let flag = arg.get_long()?.to_owned();
            let env = arg.get_env()?.to_string_lossy().into_owned();
            Some(Setting {
                key: arg.get_id().as_str().to_owned(),
                flag,
                env,
            })
        })
        // The file does not name itself.
        .filter(|s| s.key != "config")
        .collect()
}

/// Values as an operator might mistype them, and anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        1 => "-?[0-9]{1,25}",
        1 => prop::sample::select(vec![
            "0", "-1", "1", "18446744073709551615", "18446744073709551616", "4294967296", "true", "false", "yes",
            "", " ", "full", "normal", "open", "invite", "closed", "127.0.0.1:0", "[::1]:8080", "10.0.0.0/8",
            "10.0.0.0/33", "::1,127.0.0.1", "a,b,,c", "https://chat.example.org", "info,gochat=debug",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A TOML value of any type, written as TOML.
fn toml_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
        text().prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("1979-05-27T07:32:00Z".to_owned()),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..3).prop_map(|fields| {
                let fields: Vec<String> = fields.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", fields.join(", "))
            }),
        ]
    })
}

proptest! {
    #[test]
    fn any_flag_or_environment_value_is_a_setting_or_an_error_naming_it(
        setting in prop::sample::select(settings()),
        value in text(),
    ) {
        // `--flag=value` takes the value as it is, as the environment does (even `-0`).
        let flag = format!("--{}", setting.flag);
        let arg = format!("{flag}={value}");
        match Serve::try_parse_from(["gochat", arg.as_str()]) {
            Ok(parsed) => {
                // What the command line took, the file layering takes too.
                let dir = tempfile::tempdir().unwrap();
                let merged = layer(&parsed, None, &dir.path().join("absent.toml"));
                prop_assert!(merged.is_ok(), "{}={:?} parsed but does not layer: {:?}", setting.env, value, merged.err());
            }
            Err(error) => {
                let said = error.to_string();
                prop_assert!(
                    said.contains(&flag) || said.contains(&setting.env),
                    "{}={:?}: the error names neither {} nor {}: {}", setting.env, value, flag, setting.env, said
                );
            }
        }
    }

    #[test]
    fn any_toml_value_is_a_setting_or_an_error_naming_its_key(
        setting in prop::sample::select(settings()),
        value in toml_value(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gochat.toml");
        std::fs::write(&file, format!("{} = {value}\n", setting.key)).unwrap();
        let defaults = Serve::try_parse_from(["gochat"]).unwrap();
        if let Err(error) = layer(&defaults, Some(&file), Path::new("absent.toml")) {
            let said = format!("{error:#}");
            prop_assert!(said.contains(&setting.key), "{} = {}: the error does not name the key: {}", setting.key, value, said);
        }
    }

    #[test]
    fn any_toml_text_is_settings_or_an_error(text in any::<String>()) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gochat.toml");
        std::fs::write(&file, text).unwrap();
        let defaults = Serve::try_parse_from(["gochat"]).unwrap();
        let _ = layer(&defaults, Some(&file), Path::new("absent.toml"));
    }
}

#[test]
fn every_setting_has_a_flag_an_environment_variable_and_a_key() {
    let all = settings();
    assert!(all.len() > 30, "{all:?}");
    for s in &all {
        assert!(s.env.starts_with("GOCHAT_"), "{s:?}");
    }
}
