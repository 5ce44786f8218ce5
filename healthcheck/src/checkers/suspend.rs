//! A checker that runs only while a switch is on: keepalived's
//! `ha_suspend` pauses the checkers of a service while its address is not
//! on the host (`check_api.c` `update_checker_activity`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, Inline};

/// `inner`, run only while `active` is true; otherwise the check reports
/// [`CheckOutcome::Skipped`], which changes nothing.
#[derive(Debug, Clone)]
pub struct Suspendable {
    inner: Arc<dyn Checker>,
    active: Arc<AtomicBool>,
}

impl Suspendable {
    /// `inner` behind the switch `active` (shared with whoever flips it).
    pub fn new(inner: Arc<dyn Checker>, active: Arc<AtomicBool>) -> Self {
        Self { inner, active }
    }
}

impl Checker for Suspendable {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        if self.active.load(Ordering::Relaxed) {
            self.inner.check(ctx)
        } else {
            Box::pin(async { CheckOutcome::Skipped })
        }
    }

    fn inline(&self) -> Option<Inline> {
        if self.active.load(Ordering::Relaxed) {
            self.inner.inline()
        } else {
            Some(Inline::Outcome(CheckOutcome::Skipped))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    #[derive(Debug)]
    struct AlwaysUp;

    impl Checker for AlwaysUp {
        fn check<'a>(&'a self, _: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
            Box::pin(async { CheckOutcome::Up })
        }
    }

    #[tokio::test]
    async fn runs_only_while_active() {
        let active = Arc::new(AtomicBool::new(false));
        let c = Suspendable::new(Arc::new(AlwaysUp), active.clone());
        let ctx = CheckContext::new(
            "127.0.0.1:1".parse().unwrap(),
            std::time::Duration::from_secs(1),
        );
        assert_eq!(c.check(&ctx).await, CheckOutcome::Skipped);
        active.store(true, Ordering::Relaxed);
        assert_eq!(c.check(&ctx).await, CheckOutcome::Up);
    }
}
