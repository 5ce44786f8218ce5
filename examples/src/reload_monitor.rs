//! keepalived's `reload_time_file`: the file holds the time of a reload
//! the daemon does to itself (a SIGHUP to its own pid, so that the
//! reload is the one an operator's SIGHUP starts).
//!
//! The file is re-read whenever its first line changes (keepalived
//! watches it with inotify; a poll every [`POLL`] gives the same
//! schedule). Its formats, checks and log lines are keepalived 2.2.7's:
//! `HH:MM:SS` (today, or tomorrow if past), `YY-MM-DD HH:MM:SS` or
//! `YYYY-MM-DD HH:MM:SS`, in local time or in UTC with a trailing `Z`.
//! When the time comes the file is removed, unless `reload_repeat` is set
//! and it holds a time of day only: then the next reload is tomorrow's.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Datelike, Local, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use tracing::info;

/// How often the file is looked at.
pub const POLL: Duration = Duration::from_millis(250);

/// A reload time read from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    /// Seconds since the epoch.
    pub at: i64,
    /// The file named a date, not only a time of day.
    pub date_specified: bool,
}

/// Why a reload time was ignored: keepalived's log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// Not a valid time; the line says why.
    Invalid(String),
    /// A date and time already past.
    Past(String),
}

/// Parses `text` (the file's first line) as keepalived does at `now`.
pub fn parse(text: &str, now: DateTime<Utc>) -> Result<When, Ignored> {
    let (body, utc) = match text.strip_suffix('Z') {
        Some(b) => (b, true),
        None => (text, false),
    };
    let invalid = |why: String| Ignored::Invalid(why);
    if ![8, 17, 19].contains(&body.len()) {
        return Err(invalid(format!(
            "Reload time {text} format is incorrect - ignoring"
        )));
    }
    let today = if utc {
        now.date_naive()
    } else {
        now.with_timezone(&Local).date_naive()
    };
    let fields = fields(body, today)
        .ok_or_else(|| invalid(format!("Reload date/time {text} invalid - ignoring")))?;
    let not_valid = || invalid(format!("Reload time {text} is not valid - ignoring"));
    let at = |naive: NaiveDateTime| -> Option<i64> {
        if utc {
            return Some(naive.and_utc().timestamp());
        }
        match Local.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp()),
            LocalResult::None => None,
        }
    };
    let [y, mo, da, h, m, s] = fields;
    let naive = i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, mo, da))
        .and_then(|d| d.and_hms_opt(h, m, s))
        .ok_or_else(not_valid)?;
    let mut t = at(naive).ok_or_else(not_valid)?;
    let date_specified = body.len() >= 17;
    if t <= now.timestamp() {
        if date_specified {
            return Err(Ignored::Past(format!(
                "Reload time {text} is in the past - ignoring"
            )));
        }
        let tomorrow = naive + chrono::Days::new(1);
        t = at(tomorrow).ok_or_else(not_valid)?;
    }
    Ok(When {
        at: t,
        date_specified,
    })
}

/// The fields `[year, month, day, hour, minute, second]` as `strptime`
/// reads them (fixed widths, each in its range; the date of `today` for a
/// time of day). A day past the month's end or second 60 reads, then
/// fails the validity check, as `mktime` would move it.
fn fields(body: &str, today: NaiveDate) -> Option<[u32; 6]> {
    let num = |s: &str| -> Option<u32> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, time) = match body.len() {
        8 => (None, body),
        _ => {
            let (d, t) = body.split_once(' ')?;
            (Some(d), t)
        }
    };
    let [h, m, s] = split3(time, ':')?.map(num);
    let (h, m, s) = (h?, m?, s?);
    if time.len() != 8 || h > 23 || m > 59 || s > 61 {
        return None;
    }
    let Some(d) = date else {
        let (y, mo, da) = (today.year(), today.month(), today.day());
        return Some([u32::try_from(y).ok()?, mo, da, h, m, s]);
    };
    let [y, mo, da] = split3(d, '-')?;
    let year = match y.len() {
        // glibc: 69-99 are 1969-1999, 00-68 are 2000-2068.
        2 => num(y).map(|y| if y >= 69 { 1900 + y } else { 2000 + y })?,
        4 => num(y)?,
        _ => return None,
    };
    let (mo, da) = (num(mo)?, num(da)?);
    if mo == 0 || mo > 12 || da == 0 || da > 31 {
        return None;
    }
    Some([year, mo, da, h, m, s])
}

fn split3(s: &str, sep: char) -> Option<[&str; 3]> {
    let mut it = s.split(sep);
    let out = [it.next()?, it.next()?, it.next()?];
    it.next().is_none().then_some(out)
}

/// keepalived's `%Y-%m-%d %H:%M:%S` in local time.
fn shown(at: i64) -> String {
    Local.timestamp_opt(at, 0).single().map_or_else(
        || at.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

/// Starts the monitor once; it follows [`crate::process`]'s settings of
/// the configuration in force.
pub fn start() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("reload-monitor".into())
            .spawn(run);
        if let Err(e) = spawned {
            info!("cannot start the reload monitor: {e}");
        }
    });
}

fn run() {
    // `None`: not read yet (or again after a reload).
    let mut last: Option<Option<String>> = None;
    let mut scheduled: Option<When> = None;
    loop {
        std::thread::sleep(POLL);
        let Some((file, repeat)) = crate::process::reload_time() else {
            scheduled = None;
            last = None;
            continue;
        };
        let line = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.lines().next().map(str::to_owned));
        if last.as_ref() != Some(&line) {
            scheduled = reschedule(line.as_deref(), scheduled);
            last = Some(line);
        }
        let Some(when) = scheduled else {
            continue;
        };
        if Utc::now().timestamp() >= when.at {
            scheduled = None;
            last = None;
            if !repeat || when.date_specified {
                let _ = std::fs::remove_file(&file);
            }
            let me = nix::unistd::Pid::this();
            if let Err(e) = nix::sys::signal::kill(me, nix::sys::signal::Signal::SIGHUP) {
                info!("cannot signal the reload: {e}");
            }
        }
    }
}

/// keepalived's `read_file`: the new schedule for `line`, logged.
fn reschedule(line: Option<&str>, old: Option<When>) -> Option<When> {
    let cancel = |old: Option<When>| {
        if let Some(o) = old {
            info!("Cancelling reload scheduled for {}", shown(o.at));
        }
        None
    };
    let Some(line) = line.filter(|l| !l.is_empty()) else {
        return cancel(old);
    };
    match parse(line, Utc::now()) {
        Err(Ignored::Invalid(why)) => {
            info!("{why}");
            info!("Invalid reload time '{line}' specified - ignoring");
            cancel(old)
        }
        Err(Ignored::Past(why)) => {
            info!("{why}");
            info!("Reload date/time is in the past - ignoring");
            cancel(old)
        }
        Ok(new) if Some(new.at) == old.map(|o| o.at) => Some(new),
        Ok(new) => {
            match old {
                Some(o) => info!(
                    "Reload time updated from {} to {}",
                    shown(o.at),
                    shown(new.at)
                ),
                None => info!("Scheduling reload for {}", shown(new.at)),
            }
            Some(new)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
    }

    #[test]
    fn utc_times_dates_and_errors_read_as_keepalived() {
        let now = utc("2026-12-07 08:30:00");
        let at = |s: &str| utc(s).timestamp();
        let when = |s| parse(s, now);
        assert_eq!(
            when("08:30:05Z"),
            Ok(When {
                at: at("2026-12-07 08:30:05"),
                date_specified: false
            })
        );
        // A time of day already past is tomorrow's.
        assert_eq!(
            when("08:30:00Z"),
            Ok(When {
                at: at("2026-12-08 08:30:00"),
                date_specified: false
            })
        );
        assert_eq!(
            when("2026-12-31 23:59:59Z"),
            Ok(When {
                at: at("2026-12-31 23:59:59"),
                date_specified: true
            })
        );
        assert_eq!(
            when("27-01-02 03:04:05Z"),
            Ok(When {
                at: at("2027-01-02 03:04:05"),
                date_specified: true
            })
        );
        assert_eq!(
            when("2026-12-07 08:29:59Z"),
            Err(Ignored::Past(
                "Reload time 2026-12-07 08:29:59Z is in the past - ignoring".into()
            ))
        );
        assert_eq!(
            when("8:30:05Z"),
            Err(Ignored::Invalid(
                "Reload time 8:30:05Z format is incorrect - ignoring".into()
            ))
        );
        assert_eq!(
            when("24:00:00Z"),
            Err(Ignored::Invalid(
                "Reload date/time 24:00:00Z invalid - ignoring".into()
            ))
        );
        assert_eq!(
            when("2027-02-30 00:00:00Z"),
            Err(Ignored::Invalid(
                "Reload time 2027-02-30 00:00:00Z is not valid - ignoring".into()
            ))
        );
        assert_eq!(
            when("2027-13-01 00:00:00Z"),
            Err(Ignored::Invalid(
                "Reload date/time 2027-13-01 00:00:00Z invalid - ignoring".into()
            ))
        );
    }
}
