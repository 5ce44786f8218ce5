//! keepalived 2.2.7's processed copy of the configuration, which it saves
//! as `keepalived.conf.PID.N` under `config_save_dir`: every line read,
//! comments removed and trimmed, an include line left empty (so that line
//! numbers hold), `# FILE` before each file's lines, `!` after them, and
//! `#! MESSAGE` for each problem an include had.

use std::path::Path;

/// The processed copy being written.
#[derive(Debug, Default)]
pub(super) struct Copy {
    text: String,
}

impl Copy {
    /// The copy written so far.
    pub(super) fn into_text(self) -> String {
        self.text
    }

    /// A file starts: its name as keepalived's glob gave it.
    pub(super) fn file(&mut self, shown: &str) {
        self.push_line("# ", shown);
    }

    /// The file read last ends.
    pub(super) fn end(&mut self) {
        self.text.push_str("!\n");
    }

    /// A problem an include had, in keepalived's words.
    pub(super) fn problem(&mut self, message: &str) {
        self.push_line("#! ", message);
    }

    /// A line as read from a file (without its line end).
    pub(super) fn line(&mut self, raw: &str) {
        let line = decomment(raw);
        let kept = if is_include(&line) { "" } else { &line };
        self.push_line("", kept);
    }

    fn push_line(&mut self, prefix: &str, s: &str) {
        self.text.push_str(prefix);
        self.text.push_str(s);
        self.text.push('\n');
    }
}

/// The line as keepalived keeps it: leading blanks, the comment (from a
/// `#` or `!` outside quotes) and trailing blanks removed, a backslash
/// before `#` or `!` outside quotes dropped, and a final backslash (a
/// continuation) kept right after the last word.
pub(super) fn decomment(raw: &str) -> String {
    let s = raw.trim_start_matches([' ', '\t']);
    let mut out = String::with_capacity(s.len());
    let (mut quote, mut comment_at, mut cont) = (false, None, false);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                if comment_at.is_none() {
                    quote = !quote;
                }
                out.push(c);
            }
            '\\' => match chars.next() {
                None => {
                    cont = true;
                    break;
                }
                Some(e @ ('#' | '!')) if !quote => out.push(e),
                Some(e) => {
                    out.push(c);
                    out.push(e);
                }
            },
            '#' | '!' if !quote && comment_at.is_none() => {
                comment_at = Some(out.len());
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if let Some(at) = comment_at {
        out.truncate(at);
    }
    let kept = out.trim_end_matches([' ', '\t']).len();
    out.truncate(kept);
    if cont {
        out.push('\\');
    }
    out
}

/// True if keepalived takes `line` (decommented) for an include: the word
/// `include`, or `include` and one of `r`, `m`, `w`, `b`, `a`, followed by
/// white space.
pub(super) fn is_include(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("include") else {
        return false;
    };
    let space = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_whitespace() || c == 0x0b);
    let b = rest.as_bytes();
    match b.first() {
        Some(c) if b"rmwba".contains(c) => space(b.get(1).copied()),
        first => space(first.copied()),
    }
}

/// keepalived's words for a matched file it skips: a directory (which
/// glob(3) marks with a slash) or anything but a regular non-executable
/// file.
pub(super) fn skipped(shown: &str, dir: bool) -> String {
    if !dir {
        return format!(
            "Configuration file '{shown}' is not a regular non-executable file - skipping"
        );
    }
    let mark = if shown.ends_with('/') { "" } else { "/" };
    format!("Configuration file '{shown}{mark}' is a directory - skipping")
}

/// The name keepalived's glob gives the file `found` that pattern `alt`
/// (one brace alternative, as written) matched in the directory `pwd`:
/// the pattern itself without wildcards, else its literal directory part
/// as written followed by the rest of the matched path.
pub(super) fn shown_name(alt: &str, pwd: &str, found: &Path) -> String {
    let Some(magic) = alt.find(['*', '?', '[', '\\']) else {
        return alt.to_string();
    };
    let literal = alt[..magic].rfind('/').map_or("", |i| &alt[..=i]);
    let base = if Path::new(literal).is_absolute() || pwd.is_empty() {
        literal.to_string()
    } else {
        format!("{pwd}/{literal}")
    };
    let base = super::loader::normalize(&base);
    match found.strip_prefix(&base) {
        Ok(tail) => format!("{literal}{}", tail.display()),
        Err(_) => found.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_comments_and_blanks_as_in_keepalived() {
        assert_eq!(decomment("   router_id   lab1   # c"), "router_id   lab1");
        assert_eq!(decomment("\t10.0.0.1/24\t! vip"), "10.0.0.1/24");
        assert_eq!(decomment("# only"), "");
        assert_eq!(decomment("script \"a # b\" # c"), "script \"a # b\"");
        assert_eq!(decomment("a \\# b"), "a # b");
        assert_eq!(decomment("\"a \\# b\""), "\"a \\# b\"");
        assert_eq!(decomment("$X=a b   \\"), "$X=a b\\");
        assert_eq!(decomment("a # c \\"), "a\\");
    }

    #[test]
    fn include_lines_are_keepalived_s() {
        assert!(is_include("include a.conf"));
        assert!(is_include("includem\ta.conf"));
        assert!(!is_include("include"));
        assert!(!is_include("includet a.conf"));
        assert!(!is_include("include_check"));
        assert!(!is_include("@x include a.conf"));
    }

    #[test]
    fn names_are_the_pattern_s_as_glob_gives_them() {
        let f = Path::new("/etc/k/sub/a.conf");
        assert_eq!(shown_name("sub/a.conf", "/etc/k", f), "sub/a.conf");
        assert_eq!(shown_name("sub/*.conf", "/etc/k", f), "sub/a.conf");
        assert_eq!(shown_name("*/a.conf", "/etc/k", f), "sub/a.conf");
        assert_eq!(shown_name("/etc/k/sub/*", "/x", f), "/etc/k/sub/a.conf");
        assert_eq!(shown_name("x/../sub/a*", "/etc/k", f), "x/../sub/a.conf");
        let g = Path::new("/etc/k/{a,b}.conf");
        assert_eq!(shown_name("\\{a,b\\}.conf", "/etc/k", g), "{a,b}.conf");
    }
}

#[cfg(test)]
mod whole {
    use crate::preprocess::MemLoader;

    #[test]
    fn the_copy_has_keepalived_s_markers() {
        let loader = MemLoader::new()
            .with("/k/sub/a.conf", "  a 1 # c\n")
            .with("/k/inc/b.conf", "\tb 2\n");
        let text = "# c\ninclude sub/a.conf\ninclude /k/inc/*\ninclude nope.conf\n$X=1\n";
        let (parsed, copy) =
            crate::parse_with_copy("/k/main.conf", text, &loader, &Default::default());
        assert_eq!(parsed.sources.names().len(), 3);
        assert_eq!(
            copy,
            "# /k/main.conf\n\n\n# sub/a.conf\na 1\n!\n\n# /k/inc/b.conf\nb 2\n!\n\
             \n#! Config files missing 'nope.conf'.\n$X=1\n!\n"
        );
    }
}
