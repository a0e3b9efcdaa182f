//! The module paths a Rust source file names, for the architecture check: a small
//! lexer (identifiers and `::`, skipping comments, strings and chars), use trees
//! expanded (`a::{b, c::{self, d}}`), and `crate::`, `super::`, `self::` and child
//! module paths resolved to absolute module paths. Text only: it must not be trusted
//! for macros, `#[path]` or re-exports.

use super::Module;

/// A token of Rust source, comments and literals already dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Identifiers, `::` and single punctuation, skipping comments, strings and chars.
fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(&chars, i + 1, 0);
        } else if (c == 'r' || c == 'b') && raw_string_hashes(&chars, i).is_some() {
            let (hashes, open) = raw_string_hashes(&chars, i).unwrap_or((0, i));
            i = skip_string(&chars, open + 1, hashes);
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c == ':' && next == Some(':') {
            out.push(Token::PathSep);
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    out
}

/// For `r"`, `r#"`, `br"`… at `i`: the number of `#` and the index of the quote.
fn raw_string_hashes(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let before_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if !before_ok {
        return None;
    }
    let mut j = i;
    if chars[j] == 'b' {
        j += 1;
        if chars.get(j) == Some(&'"') {
            return Some((0, j));
        }
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some((hashes, j))
}

/// The index just past the string that started before `i` (closing quote plus
/// `hashes` × `#`; escapes only in non-raw strings).
fn skip_string(chars: &[char], mut i: usize, hashes: usize) -> usize {
    while i < chars.len() {
        if hashes == 0 && chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == '"' && (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// Every module path the file names, resolved to absolute paths from the crate root.
/// `is_module` says whether a path is a known module (for paths relative to a child).
pub(super) fn references(
    text: &str,
    file_module: &Module,
    is_module: &dyn Fn(&Module) -> bool,
) -> Vec<Module> {
    let tokens = tokens(text);
    let mut out = Vec::new();
    // Inline `mod name { … }` blocks: (name, brace depth inside the block).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let here: Module = file_module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(name, _)| name.clone()))
            .collect();
        match &tokens[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            Token::Ident(kw) if kw == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Punct('{'))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    inline.push((name.clone(), depth + 1));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Token::Ident(kw) if kw == "use" => {
                let end = tokens[i..]
                    .iter()
                    .position(|t| *t == Token::Punct(';'))
                    .map_or(tokens.len(), |p| i + p);
                let mut paths = Vec::new();
                use_tree(&tokens[i + 1..end], Vec::new(), &mut paths);
                out.extend(paths.iter().filter_map(|p| resolve(p, &here, is_module)));
                i = end + 1;
                continue;
            }
            Token::Ident(first) if tokens.get(i + 1) == Some(&Token::PathSep) => {
                let preceded_by_sep = i > 0 && tokens[i - 1] == Token::PathSep;
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while tokens.get(j) == Some(&Token::PathSep) {
                    match tokens.get(j + 1) {
                        Some(Token::Ident(seg)) => path.push(seg.clone()),
                        _ => break,
                    }
                    j += 2;
                }
                if !preceded_by_sep {
                    out.extend(resolve(&path, &here, is_module));
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Expands a use tree (`a::{b, c::{self, d}}`, `a::*`, `a as b`) into flat paths.
fn use_tree(tokens: &[Token], prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut prefix = prefix;
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        match token {
            Token::Punct('{') => {
                let inner = &tokens[i + 1..tokens.len().saturating_sub(1)];
                for item in split_top_level(inner) {
                    use_tree(item, prefix.clone(), out);
                }
                return;
            }
            Token::Punct('*') => break,
            Token::Ident(kw) if kw == "as" => break,
            Token::Ident(seg) if seg == "self" && !prefix.is_empty() => {}
            Token::Ident(seg) => prefix.push(seg.clone()),
            _ => {}
        }
        i += 1;
    }
    if !prefix.is_empty() {
        out.push(prefix);
    }
}

/// Splits a use group's items at commas outside nested braces.
fn split_top_level(tokens: &[Token]) -> Vec<&[Token]> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => depth -= 1,
            Token::Punct(',') if depth == 0 => {
                items.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..]);
    items.into_iter().filter(|item| !item.is_empty()).collect()
}

/// An absolute module path for `path` written in module `here`; `None` for paths into
/// other crates.
fn resolve(path: &[String], here: &Module, is_module: &dyn Fn(&Module) -> bool) -> Option<Module> {
    let mut base: Module = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" => here.clone(),
        "super" => here[..here.len().checked_sub(1)?].to_vec(),
        first => {
            let mut child = here.clone();
            child.push(first.to_owned());
            if !is_module(&child) {
                return None;
            }
            return Some(child.into_iter().chain(path[1..].iter().cloned()).collect());
        }
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}
