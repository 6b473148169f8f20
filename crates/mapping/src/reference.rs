//! The mappings' part of the format reference (`ferry schema --markdown`, docs/formats.md):
//! this crate's README, its headings one level down so it sits under the reference's title.

/// The README as a `## Mappings` section of the format reference.
pub fn markdown() -> String {
    let mut out = String::new();
    let mut code = false;
    for line in include_str!("../README.md").lines() {
        if line.starts_with("```") {
            code = !code;
        }
        if !code && line.starts_with('#') {
            out.push('#');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn headings_go_one_level_down_and_code_stays() {
        let doc = super::markdown();
        assert!(doc.starts_with("## Mappings\n"));
        assert!(doc.contains("\n### Repeated column groups (`each`)\n"));
        assert!(doc.contains("\nversion = 1                                  # the only"));
        assert!(!doc.contains("\n##[[source]]"));
    }
}
