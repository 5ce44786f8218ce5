//! Plain lines split as keepalived 2.2.7's `alloc_strvec_r` does (only `"`
//! quotes, no escapes), script lines with its full quoting, and comments as
//! its `decomment` finds them. Every expected value here was read back
//! from keepalived 2.2.7 itself (`keepalived -d` dump or `-t` messages).
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use vrrp_conf::{parse_str, Code, Options, Parsed};

fn instance(body: &str) -> Parsed {
    let text = format!(
        "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n{body}\n  \
         virtual_ipaddress {{\n    10.0.0.1/32\n  }}\n}}\n"
    );
    parse_str("q.conf", &text, &Options::default())
}

fn password(line: &str) -> (Option<String>, Parsed) {
    let p = instance(&format!(
        "  authentication {{\n    auth_type PASS\n    {line}\n  }}"
    ));
    let pw = p.config.vrrp_instances[0]
        .authentication
        .as_ref()
        .and_then(|a| a.auth_pass.clone());
    (pw, p)
}

fn password_of(line: &str) -> String {
    let (pw, p) = password(line);
    assert!(!p.has_errors(), "{line}: {:?}", p.diagnostics);
    pw.unwrap()
}

#[test]
fn single_quotes_are_part_of_a_plain_word() {
    // keepalived -d: "Password = 'abc'", the five bytes.
    assert_eq!(password_of("auth_pass 'abc'"), "'abc'");
    assert_eq!(password_of("auth_pass a'b"), "a'b");
    // 'a b' is two words; the password is the first.
    assert_eq!(password_of("auth_pass 'a b'"), "'a");
}

#[test]
fn double_quotes_hold_spaces() {
    assert_eq!(password_of("auth_pass \"a b\""), "a b");
}

#[test]
fn a_quote_ends_the_word_before_it() {
    // keepalived -d: "Password = x".
    assert_eq!(password_of("auth_pass x\"1 2\""), "x");
}

#[test]
fn plain_lines_have_no_escapes() {
    assert_eq!(password_of(r"auth_pass a\tb"), r"a\tb");
    assert_eq!(password_of(r#"auth_pass "a\tb""#), r"a\tb");
    assert_eq!(password_of(r"auth_pass a\ b"), r"a\");
    // keepalived -t: "invalid number '1\0'".
    let p = instance(r"  priority 1\0");
    assert_eq!(p.count(Code::InvalidValue), 1, "{:?}", p.diagnostics);
}

#[test]
fn comments_as_keepalived_finds_them() {
    // `'` does not protect a comment; `"` does.
    assert_eq!(password_of("auth_pass a'b#c'"), "a'b");
    assert_eq!(password_of("auth_pass \"x # y\""), "x # y");
    // keepalived 2.2.7 drops `\#` with the comment: "Password = a".
    assert_eq!(password_of(r"auth_pass a\#b"), "a");
    assert_eq!(password_of(r"auth_pass a\!b"), "a");
    let (_, p) = password(r"auth_pass a\#b");
    let warn = p.diagnostics.iter().find(|d| d.code == Code::CommentInWord);
    assert!(
        warn.unwrap().message.contains("the word is 'a'"),
        "{:?}",
        p.diagnostics
    );
    // Inside quotes the backslash stays: "Password = x\#y".
    assert_eq!(password_of(r#"auth_pass "x\#y""#), r"x\#y");
}

#[test]
fn an_unmatched_quote_drops_the_rest_of_a_plain_line() {
    // keepalived: "Unmatched quote: 'auth_pass a\"b'", "Password = a\".
    let (pw, p) = password(r#"auth_pass a\"b # c""#);
    assert_eq!(pw.as_deref(), Some(r"a\"));
    assert_eq!(p.count(Code::UnterminatedQuote), 1, "{:?}", p.diagnostics);
    // `\"` inside quotes neither closes the quote for comments nor escapes:
    // "Password = a\" and "Unmatched quote".
    let (pw, p) = password(r#"auth_pass "a\"b # c""#);
    assert_eq!(pw.as_deref(), Some(r"a\"));
    assert_eq!(p.count(Code::UnterminatedQuote), 1, "{:?}", p.diagnostics);
}

#[test]
fn script_lines_keep_the_full_rules() {
    let text = "vrrp_script chk {\n  script \"/usr/bin/echo 'a b' \\x41\"\n  interval 1\n}\n";
    let p = parse_str("q.conf", text, &Options::default());
    assert!(!p.has_errors(), "{:?}", p.diagnostics);
    // keepalived re-reads this word once more into the command
    // '/usr/bin/echo' 'a b' 'A'.
    assert_eq!(
        p.config.vrrp_scripts[0].script.as_deref().unwrap(),
        ["/usr/bin/echo 'a b' A"]
    );
    let p = instance("  notify_master \"/usr/bin/echo x\\ty\" root");
    assert!(!p.has_errors(), "{:?}", p.diagnostics);
    assert_eq!(
        p.config.vrrp_instances[0].notify.master.as_deref().unwrap(),
        ["/usr/bin/echo x\ty", "root"]
    );
    let p = instance("  notify 'a b'c\\ d");
    assert_eq!(
        p.config.vrrp_instances[0].notify.any.as_deref().unwrap(),
        ["a bc d"]
    );
}

#[test]
fn words_after_a_single_value_are_dropped_with_a_warning() {
    // keepalived 2.2.7 splits the line at the braces and reads only
    // strvec[1] for connect_timeout: retry and delay_before_retry keep
    // their defaults.
    let text =
        "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 192.168.1.10 8080 {\n    \
                TCP_CHECK { connect_timeout 3 retry 2 delay_before_retry 1.5 }\n  }\n}\n";
    let p = parse_str("t.conf", text, &Options::default());
    let k = &p.config.virtual_servers[0].real_servers[0].checkers[0];
    let timeout = k.connect_timeout.unwrap();
    assert_eq!(*timeout, std::time::Duration::from_secs(3));
    assert_eq!((timeout.span.line, timeout.span.col), (4, 17));
    assert_eq!((k.retry, k.delay_before_retry), (None, None));
    let d: Vec<_> = p
        .diagnostics
        .iter()
        .map(|d| d.display(&p.sources).to_string())
        .collect();
    assert_eq!(
        d,
        [
            "t.conf:4:17: warning: 'connect_timeout' takes one value; keepalived ignores the rest \
          of the line: 'retry 2 delay_before_retry 1.5'"
        ]
    );
    assert_eq!(p.count(Code::Ignored), 1);
}
