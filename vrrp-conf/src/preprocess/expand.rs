//! The pure parts of `~SEQ`, `~LST` and include patterns: argument
//! splitting, value lists and csh-style brace expansion.

pub(super) fn is_param_name(name: &str) -> bool {
    let mut c = name.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// Splits `~SEQ(a, b) rest` into the kind, the argument text and the rest.
pub(super) fn split_sequence(t: &str) -> Result<(&str, &str, &str), String> {
    let open = t.find('(').ok_or("sequence block without '('")?;
    let kind = &t[..open];
    if !matches!(kind, "~SEQ" | "~SEQx" | "~LST") {
        return Err(format!("unknown block {kind}"));
    }
    let mut level = 0usize;
    for (i, c) in t.bytes().enumerate().skip(open) {
        match c {
            b'(' => level += 1,
            b')' => {
                level = level.saturating_sub(1);
                if level == 0 {
                    return Ok((kind, &t[open + 1..i], t[i + 1..].trim_start()));
                }
            }
            _ => {}
        }
    }
    Err(format!("{kind}( without closing ')'"))
}

/// Splits at commas that are not inside `{...}`.
fn split_top(s: &str) -> Vec<&str> {
    split_commas(s, false)
}

/// Variable assignments for one step of a sequence or list.
pub(super) type Assignment = Vec<(String, String)>;

/// A number as C's `strtol(s, _, 0)` reads it (which keepalived uses):
/// `0x` hexadecimal, a leading `0` octal, decimal otherwise.
fn parse_int(s: &str) -> Result<i64, String> {
    let (neg, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (digits, radix) = match d.strip_prefix("0x").or_else(|| d.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if d.len() > 1 && d.starts_with('0') => (&d[1..], 8),
        None => (d, 10),
    };
    // from_str_radix takes a sign of its own: refuse a second one.
    let v = Some(digits)
        .filter(|d| !d.starts_with(['+', '-']))
        .and_then(|d| i64::from_str_radix(d, radix).ok())
        .ok_or_else(|| format!("'{s}' is not a number"))?;
    Ok(if neg { -v } else { v })
}

/// The steps of a `~SEQ`, made one at a time: a sequence as long as the
/// budget allows must not cost memory for all its values at once.
#[derive(Debug)]
pub(super) struct Seq {
    var: String,
    hex: bool,
    next: i64,
    step: i64,
    left: u64,
}

impl Iterator for Seq {
    type Item = Assignment;

    fn next(&mut self) -> Option<Assignment> {
        self.left = self.left.checked_sub(1)?;
        let v = self.next;
        self.next = v.saturating_add(self.step);
        let text = if self.hex {
            format!("{v:x}")
        } else {
            v.to_string()
        };
        Some(vec![(self.var.clone(), text)])
    }
}

pub(super) fn seq_values(args: &str, hex: bool, limit: usize) -> Result<Seq, String> {
    let a = split_top(args);
    let var = a[0];
    if !is_param_name(var) {
        return Err(format!("'{var}' is not a valid variable name"));
    }
    let nums = a[1..]
        .iter()
        .map(|s| parse_int(s))
        .collect::<Result<Vec<_>, _>>()?;
    let (start, step, end) = match nums[..] {
        [end] => (if end < 0 { -1 } else { 1 }, None, end),
        [start, end] => (start, None, end),
        [start, step, end] => (start, Some(step), end),
        _ => return Err("~SEQ takes (var, [start, [step,]] end)".into()),
    };
    let step = step.unwrap_or(if end >= start { 1 } else { -1 });
    if step == 0 || (step > 0 && start > end) || (step < 0 && start < end) {
        return Err(format!("~SEQ({start}, {step}, {end}) produces nothing"));
    }
    let count = (end.abs_diff(start) / step.unsigned_abs()).saturating_add(1);
    if count > limit as u64 {
        return Err(format!(
            "~SEQ would produce {count} lines, more than {limit}"
        ));
    }
    Ok(Seq {
        var: var.to_string(),
        hex,
        next: start,
        step,
        left: count,
    })
}

pub(super) fn lst_values(args: &str) -> Result<Vec<Assignment>, String> {
    let a = split_top(args);
    let unbrace = |s: &str| -> Vec<String> {
        let inner = s.strip_prefix('{').and_then(|x| x.strip_suffix('}'));
        match inner {
            Some(i) => i.split(',').map(|x| x.trim().to_string()).collect(),
            None => vec![s.to_string()],
        }
    };
    let vars = unbrace(a[0]);
    if let Some(bad) = vars.iter().find(|v| !is_param_name(v)) {
        return Err(format!("'{bad}' is not a valid variable name"));
    }
    if a.len() < 2 {
        return Err("~LST needs at least one value".into());
    }
    a[1..]
        .iter()
        .map(|v| {
            let vals = unbrace(v);
            if vals.len() != vars.len() {
                return Err(format!(
                    "~LST value {v} does not match {} variables",
                    vars.len()
                ));
            }
            Ok(vars.iter().cloned().zip(vals).collect())
        })
        .collect()
}

/// Longest include pattern expanded: no path is longer than Linux's
/// `PATH_MAX`, so a longer pattern could not match anything anyway.
const MAX_PATTERN: usize = 4096;

/// Expands csh-style braces: `a{b,c}d` gives `abd`, `acd`. Gives at most
/// `limit` patterns, in order. Iterative, with a bounded number of steps,
/// so that neither deep nor many brace groups can exhaust the stack or
/// take exponential time.
pub fn expand_braces(p: &str, limit: usize) -> Vec<String> {
    if p.len() > MAX_PATTERN {
        return vec![p.to_string()];
    }
    let mut out = Vec::new();
    // Patterns still to expand, the next one last.
    let mut todo = vec![p.to_string()];
    let mut steps = 0;
    while let Some(p) = todo.pop() {
        steps += 1;
        if out.len() >= limit || steps > MAX_PATTERN {
            break;
        }
        let Some((open, close)) = first_group(&p) else {
            out.push(p);
            continue;
        };
        let (pre, body, post) = (&p[..open], &p[open + 1..close], &p[close + 1..]);
        for alt in split_alternatives(body).into_iter().rev() {
            todo.push(format!("{pre}{alt}{post}"));
        }
    }
    out
}

/// Byte offsets of the first `{` and its matching `}`, if both exist. A
/// brace or comma after a backslash is a plain character, as glob(3)
/// has it: `\{a,b\}` names one file.
fn first_group(p: &str) -> Option<(usize, usize)> {
    let mut level = 0usize;
    let mut open = None;
    let mut escaped = false;
    for (i, c) in p.bytes().enumerate() {
        match c {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'{' => {
                open.get_or_insert(i);
                level += 1;
            }
            b'}' if level > 0 => {
                level -= 1;
                if level == 0 {
                    return open.map(|o| (o, i));
                }
            }
            _ => {}
        }
    }
    None
}

/// The alternatives of a brace group's body: split at top-level commas
/// not escaped by a backslash.
fn split_alternatives(s: &str) -> Vec<&str> {
    split_commas(s, true)
}

/// `s` split at the commas outside braces (and, with `escapes`, not
/// escaped by a backslash), each part trimmed.
fn split_commas(s: &str, escapes: bool) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut level, mut start, mut escaped) = (0i32, 0, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if escapes => escaped = true,
            '{' => level += 1,
            '}' => level -= 1,
            ',' if level == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}
