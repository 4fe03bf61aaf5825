//! The dashboard page: the [`Dashboard`] model embedded as JSON in a static
//! skeleton, drawn by `dashboard.js` with `dashboard.css`, both files of this
//! folder included whole. Nothing is fetched: the page opens from `file://`,
//! from a CI artifact and from GitHub Pages alike.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Dashboard;

const CSS: &str = include_str!("dashboard.css");
const SCRIPT: &str = include_str!("dashboard.js");

/// What the script reads: the model and how to link out of the page.
#[derive(Serialize)]
struct PageData<'a> {
    dashboard: &'a Dashboard,
    /// A commit's page on the forge, `{sha}` standing for the SHA.
    commit_url: Option<&'a str>,
    /// Criterion's page of each benchmark that has one, relative to the page.
    criterion: &'a BTreeMap<String, String>,
}

/// The whole page.
pub(super) fn render(
    dashboard: &Dashboard,
    commit_url: Option<&str>,
    criterion: &BTreeMap<String, String>,
) -> String {
    let data = PageData {
        dashboard,
        commit_url,
        criterion,
    };
    let json = serde_json::to_string(&data)
        .expect("the model is plain data: strings, numbers and lists only");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Benchmark history</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <noscript>This page draws its charts with JavaScript; the data is in the \
         script element <code>#data</code>.</noscript>\n\
         <script id=\"data\" type=\"application/json\">{}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        script_safe(&json)
    )
}

/// JSON that cannot end its `<script>` element early: every `<` (only ever
/// inside a string: an id, a commit subject) written as `\u003c`, so no
/// `</script>` or `<!--` can appear.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_cannot_close_the_data_element() {
        let hostile = r#"{"subject":"</script><script>alert(1)</script><!--"}"#;
        let safe = script_safe(hostile);
        assert!(!safe.contains('<'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(
            back["subject"], "</script><script>alert(1)</script><!--",
            "the same text once parsed"
        );
    }
}
