//! Templates that join columns: `"{first_name} {last_name}"`, with `{{` and `}}` for braces.

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Column(String),
}

/// What is wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template \"{0}\" has an empty or unclosed {{…}}")]
    Unclosed(String),
    #[error("the template \"{0}\" has a lone }} (write }}}} for a brace)")]
    LoneBrace(String),
}

/// The pieces of a template, or what is wrong with it.
pub fn parse(t: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed || name.trim().is_empty() || name.contains('{') {
                    return Err(TemplateError::Unclosed(t.to_string()));
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Column(name.trim().to_string()));
            }
            '}' => return Err(TemplateError::LoneBrace(t.to_string())),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_columns() {
        assert_eq!(
            parse("{first} {last}").unwrap(),
            vec![
                Piece::Column("first".into()),
                Piece::Text(" ".into()),
                Piece::Column("last".into())
            ]
        );
        assert_eq!(parse("{{x}}").unwrap(), vec![Piece::Text("{x}".into())]);
        assert!(parse("{first").is_err());
        assert!(parse("a}").is_err());
        assert!(parse("{}").is_err());
    }
}
