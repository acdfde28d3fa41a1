//! Where in an experiment file a key is written, so that an error can name its line.

use crate::error::ConfigError;
use std::path::Path;

/// Turns a TOML parse error into one line naming the key and line.
pub fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let key = line
        .and_then(|l| text.lines().nth(l - 1))
        .and_then(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .map(|k| format!("{}{k}", table_at(text, line.unwrap_or(1))))
        .unwrap_or_else(|| "(file)".into());
    ConfigError {
        path: path.into(),
        key,
        line,
        rule: e.message().trim().to_string(),
    }
}

/// The `[table].` prefix in force at a 1-based line.
fn table_at(text: &str, line: usize) -> String {
    text.lines()
        .take(line)
        .filter_map(|l| l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')))
        .last()
        .map(|t| format!("{}.", t.trim().trim_matches(|c| c == '[' || c == ']')))
        .unwrap_or_default()
}

/// The 1-based line where a dotted key is set, if it is written in the file.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
        } else if current == table && t.split_once('=').is_some_and(|(k, _)| k.trim() == leaf) {
            return Some(i + 1);
        }
    }
    None
}
