//! The manifests against the code: scopes, events, and every Web API method the code names.

use std::collections::BTreeSet;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use super::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn strings(y: &Yaml) -> BTreeSet<String> {
    y.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares one manifest's bot scopes and events with the code's; the error names each
/// difference and what to do about it.
fn compare(manifest: &str) -> Result<(), String> {
    let docs = YamlLoader::load_from_str(manifest).map_err(|e| format!("not YAML: {e}"))?;
    let doc = &docs[0];
    let granted = strings(&doc["oauth_config"]["scopes"]["bot"]);
    let needed: BTreeSet<String> = needed().into_iter().map(String::from).collect();
    let mut problems = Vec::new();
    for s in needed.difference(&granted) {
        problems.push(format!(
            "scope {s} is used by the code but not granted: add it"
        ));
    }
    for s in granted.difference(&needed) {
        problems.push(format!(
            "scope {s} is granted but nothing uses it: remove it"
        ));
    }
    let events = strings(&doc["settings"]["event_subscriptions"]["bot_events"]);
    let wanted: BTreeSet<String> = EVENTS.iter().map(|(e, _)| e.to_string()).collect();
    if events != wanted {
        problems.push(format!(
            "bot_events are {events:?}, the code handles {wanted:?}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join("config").join(name)).unwrap()
}

#[test]
fn both_manifests_grant_exactly_the_scopes_the_code_uses() {
    for name in ["slack-app-manifest.yaml", "slack-app-manifest.socket.yaml"] {
        assert_eq!(compare(&read(name)), Ok(()), "{name}");
    }
}

#[test]
fn socket_variant_enables_socket_mode_and_names_no_public_url() {
    let http = &YamlLoader::load_from_str(&read("slack-app-manifest.yaml")).unwrap()[0];
    let socket = &YamlLoader::load_from_str(&read("slack-app-manifest.socket.yaml")).unwrap()[0];
    assert_eq!(
        http["settings"]["socket_mode_enabled"].as_bool(),
        Some(false)
    );
    assert_eq!(
        socket["settings"]["socket_mode_enabled"].as_bool(),
        Some(true)
    );
    assert!(!read("slack-app-manifest.socket.yaml").contains("https://"));
    assert_eq!(
        socket["features"]["slash_commands"][0]["command"].as_str(),
        Some("/okta-reset")
    );
}

#[test]
fn a_manifest_that_differs_is_refused_with_each_difference_named() {
    let m = read("slack-app-manifest.yaml")
        .replace("      - users:read.email\n", "")
        .replace(
            "      - chat:write\n",
            "      - chat:write\n      - channels:manage\n",
        );
    assert_eq!(
        compare(&m),
        Err(
            "scope users:read.email is used by the code but not granted: add it; \
             scope channels:manage is granted but nothing uses it: remove it"
                .into()
        )
    );
}

/// Every Web API method the code names in an error (`err("method", …)`, `failed("method", …)`,
/// `method: "…"`) is in
/// the table, so a new call cannot be added without deciding its scope.
#[test]
fn every_method_the_code_calls_is_in_the_table() {
    let mut called = BTreeSet::new();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // The simulators answer methods; they do not call them.
                if !path.ends_with("sim") {
                    stack.push(path);
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for pat in ["err(\"", "failed(\"", "method: \""] {
                for part in text.split(pat).skip(1) {
                    let name = part.split('"').next().unwrap();
                    if name.contains('.') && !name.contains(' ') {
                        called.insert(name.to_string());
                    }
                }
            }
        }
    }
    let table: BTreeSet<String> = METHODS.iter().map(|(m, _)| m.to_string()).collect();
    assert!(called.contains("chat.postMessage"), "scan found {called:?}");
    assert!(
        called.contains("files.completeUploadExternal"),
        "scan found {called:?}"
    );
    let missing: Vec<_> = called.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "methods called but not in METHODS: {missing:?}"
    );
}
