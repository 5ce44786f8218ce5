//! A configured command line: split into words as keepalived does, or
//! handed to `/bin/sh -c` when it uses shell syntax.

use std::process::Stdio;

/// A script's command line (`script "/bin/check --x"`, `misc_path`,
/// `notify_master`, ...).
///
/// The line is split into words with `'...'`, `"..."` and `\` quoting and
/// run directly; only a line with shell syntax (pipes, redirections, `$`,
/// globs, `NAME=value` prefixes, ...) goes through `/bin/sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    line: String,
    /// The program and its arguments; `None` when a shell is needed.
    argv: Option<Vec<String>>,
}

impl CommandLine {
    /// Builds the command from the configured words (joined by spaces);
    /// `None` if empty.
    pub fn new(words: &[String]) -> Option<CommandLine> {
        Self::parse(&words.join(" "))
    }

    /// Parses one command line; `None` if it holds no word.
    pub fn parse(line: &str) -> Option<CommandLine> {
        let line = line.trim();
        let argv = split_words(line);
        if line.is_empty() || argv.as_ref().is_some_and(Vec::is_empty) {
            return None;
        }
        Some(CommandLine {
            line: line.to_owned(),
            argv,
        })
    }

    /// The line as configured (trimmed).
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The program keepalived names in its log lines: the first word.
    pub fn program(&self) -> &str {
        match &self.argv {
            Some(argv) => argv.first().map_or("", String::as_str),
            None => self.line.split_whitespace().next().unwrap_or(""),
        }
    }

    /// The program and its arguments, or `None` for a shell line.
    pub fn args(&self) -> Option<&[String]> {
        self.argv.as_deref()
    }

    /// keepalived's `cmd_str`: every word in single quotes (the line itself
    /// for a shell line), as its log lines show a script.
    pub fn quoted(&self) -> String {
        match &self.argv {
            Some(argv) => argv
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            None => self.line.clone(),
        }
    }

    /// True if the line goes through `/bin/sh -c`.
    pub fn needs_shell(&self) -> bool {
        self.argv.is_none()
    }

    /// The process to start, with `extra` arguments appended (keepalived's
    /// notify arguments), stdio on `/dev/null`, in its own process group.
    pub(crate) fn command(&self, extra: &[String]) -> tokio::process::Command {
        let mut c = match self.argv.as_deref() {
            Some([prog, args @ ..]) => {
                let mut c = tokio::process::Command::new(prog);
                c.args(args);
                c
            }
            // Never reached: `parse` refuses an empty word list.
            Some([]) => tokio::process::Command::new("/bin/false"),
            None => {
                let mut c = tokio::process::Command::new("/bin/sh");
                // `"$@"` passes the extra arguments through unchanged.
                c.arg("-c").arg(format!("{} \"$@\"", self.line)).arg("sh");
                c
            }
        };
        c.args(extra)
            .env_clear()
            .env("PATH", search_path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        c
    }
}

/// The `PATH` a script gets, and the one a bare program name is searched
/// in: this process's own, else glibc's `_CS_PATH`, as keepalived searches.
/// Scripts get no other variable of the daemon's environment (keepalived
/// passes its whole environment; here nothing leaks but the search path).
pub fn search_path() -> String {
    std::env::var("PATH")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| super::security::CS_PATH.to_owned())
}

/// keepalived's `cmd_str` of a configured script, as its dumps and SNMP
/// tables show it: the words split on white space, the program resolved
/// along [`search_path`] to its real path (kept as written if it cannot
/// be), every word in single quotes.
pub fn shown(words: &[String]) -> String {
    let mut args: Vec<String> = (words.iter())
        .flat_map(|w| w.split_whitespace())
        .map(str::to_owned)
        .collect();
    if let Some(real) = args.first().and_then(|p| real_program(p)) {
        args[0] = real;
    }
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    quoted.join(" ")
}

/// `prog` found as the kernel would run it, then made canonical.
fn real_program(prog: &str) -> Option<String> {
    let found = if prog.contains('/') {
        std::path::PathBuf::from(prog)
    } else {
        (search_path().split(':'))
            .map(|d| std::path::Path::new(d).join(prog))
            .find(|p| p.is_file())?
    };
    let real = std::fs::canonicalize(found).ok()?;
    Some(real.to_string_lossy().into_owned())
}

/// Splits a command line into words with `'...'`, `"..."` and `\` quoting,
/// or returns `None` if it uses shell syntax and needs a shell.
fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(cur.take()),
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        ch => w.push(ch),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' => return None,
                        '\\' => w.push(chars.next()?),
                        ch => w.push(ch),
                    }
                }
            }
            '\\' => cur.get_or_insert_with(String::new).push(chars.next()?),
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '[' | ']' | '~'
            | '{' | '}' | '\n' | '#' => return None,
            ch => cur.get_or_insert_with(String::new).push(ch),
        }
    }
    words.extend(cur);
    // `NAME=value cmd` is a shell assignment.
    if words.first().is_some_and(|w| w.contains('=')) {
        return None;
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_quotes_each_word_and_keeps_a_program_it_cannot_find() {
        let words = vec!["/nonexistent/x a".to_owned(), "b".to_owned()];
        assert_eq!(shown(&words), "'/nonexistent/x' 'a' 'b'");
    }

    fn line(s: &str) -> CommandLine {
        CommandLine::parse(s).unwrap_or_else(|| panic!("{s:?} is a command"))
    }

    #[test]
    fn shell_only_when_needed() {
        assert!(!line("/bin/true --flag").needs_shell());
        assert!(!line("/bin/check --opt=1").needs_shell());
        assert!(line("test -f /x && exit 0").needs_shell());
        assert!(line("echo $HOME").needs_shell());
        assert_eq!(CommandLine::new(&[" ".into()]), None);
        assert_eq!(CommandLine::parse(""), None);
    }

    #[test]
    fn words_are_joined_then_split() {
        let words = ["/bin/check".to_owned(), "--x".to_owned()];
        let c = CommandLine::new(&words).unwrap_or_else(|| panic!("non-empty"));
        assert_eq!(c.line(), "/bin/check --x");
        assert_eq!(c.program(), "/bin/check");
        assert_eq!(c.quoted(), "'/bin/check' '--x'");
        assert_eq!(line("  echo $HOME ").program(), "echo");
    }

    #[tokio::test]
    async fn scripts_get_only_path() {
        let env = line("/usr/bin/env")
            .command(&[])
            .stdout(Stdio::piped())
            .output()
            .await;
        let env = String::from_utf8(env.map(|o| o.stdout).unwrap_or_default()).unwrap_or_default();
        assert_eq!(env, format!("PATH={}\n", search_path()));
    }

    #[test]
    fn words_without_shell() {
        assert_eq!(
            split_words("/bin/check 'a b' \"c\\\"d\" e\\ f"),
            Some(vec![
                "/bin/check".into(),
                "a b".into(),
                "c\"d".into(),
                "e f".into()
            ])
        );
    }

    #[test]
    fn shell_syntax_needs_a_shell() {
        assert_eq!(split_words("check | grep ok"), None);
        assert_eq!(split_words("check > /dev/null"), None);
        assert_eq!(split_words("echo $HOME"), None);
        assert_eq!(split_words("X=1 check"), None);
        assert_eq!(split_words("'unterminated"), None);
    }
}
