//! `#[proflab::profile]` on `async fn`, driven by a tiny executor: a call is
//! one run of the future (counted at its first poll), timed only while it is
//! polled, so time while suspended is not charged to it.

use std::future::Future;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use proflab::{FunctionStats, Profile, Stats};

/// One profile records at a time, and the harness runs tests in parallel:
/// each test holds this lock while it profiles.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Polls `future` to completion on this thread, sleeping `pause` between
/// polls (the time a real executor would spend on other tasks or waiting).
fn block_on<F: Future>(future: F, pause: Duration) -> (F::Output, usize) {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return (value, polls);
        }
        std::thread::sleep(pause);
    }
}

/// Suspends once: `Pending` on the first poll, `Ready` on the next.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[proflab::profile]
async fn leaf(suspensions: u32) -> u32 {
    for _ in 0..suspensions {
        YieldNow(false).await;
    }
    suspensions
}

#[proflab::profile]
async fn parent() -> u32 {
    leaf(3).await + leaf(2).await
}

#[proflab::profile]
async fn fallible(text: &str) -> Result<u32, std::num::ParseIntError> {
    if text.is_empty() {
        return Ok(0);
    }
    let n: u32 = text.parse()?;
    YieldNow(false).await;
    Ok(n + leaf(1).await)
}

struct Counter(u32);

impl Counter {
    #[proflab::profile]
    async fn bump(&mut self) -> u32 {
        YieldNow(false).await;
        self.0 += 1;
        self.0
    }
}

fn entry<'a>(stats: &'a Stats, name: &str) -> &'a FunctionStats {
    stats
        .function(name)
        .unwrap_or_else(|| panic!("{name} was not recorded"))
        .1
}

#[test]
fn each_future_is_one_call_however_often_it_is_polled() {
    let _serial = serial();
    let profile = Profile::new();
    let (value, polls) = profile.run(|| block_on(parent(), Duration::ZERO));
    assert_eq!(value, 5);
    assert_eq!(polls, 6, "five suspensions, then completion");
    let stats = Stats::new(&profile);
    let (parent, leaf) = (entry(&stats, "parent"), entry(&stats, "leaf"));
    assert_eq!((parent.calls, parent.primitive_calls), (1, 1));
    assert_eq!((leaf.calls, leaf.primitive_calls), (2, 2));
    let (caller, edge) = leaf.callers.iter().next().expect("leaf has a caller");
    assert_eq!((&*caller.name, edge.calls), ("parent", 2));
    assert!(
        parent.cumtime >= leaf.cumtime,
        "the awaiting frame includes its awaits"
    );
}

#[test]
fn time_while_suspended_is_not_charged() {
    let _serial = serial();
    let profile = Profile::new();
    let pause = Duration::from_millis(30);
    let (value, polls) = profile.run(|| block_on(leaf(4), pause));
    assert_eq!((value, polls), (4, 5));
    let stats = Stats::new(&profile);
    let leaf = entry(&stats, "leaf");
    assert_eq!(leaf.calls, 1);
    // Four pauses of 30 ms passed between its polls: none of it is its time.
    assert!(
        leaf.cumtime < 0.030,
        "cumtime {} includes the suspensions",
        leaf.cumtime
    );
}

#[test]
fn question_marks_returns_and_methods_work_as_without_the_attribute() {
    let _serial = serial();
    let profile = Profile::new();
    let results = profile.run(|| {
        let mut counter = Counter(0);
        (
            block_on(fallible("41"), Duration::ZERO).0,
            block_on(fallible(""), Duration::ZERO).0,
            block_on(fallible("x"), Duration::ZERO).0.is_err(),
            block_on(counter.bump(), Duration::ZERO).0,
            block_on(counter.bump(), Duration::ZERO).0,
        )
    });
    assert_eq!(results, (Ok(42), Ok(0), true, 1, 2));
    let stats = Stats::new(&profile);
    assert_eq!(entry(&stats, "fallible").calls, 3);
    assert_eq!(entry(&stats, "bump").calls, 2);
    assert_eq!(entry(&stats, "leaf").calls, 1);
}

#[test]
fn a_future_first_polled_before_profiling_counts_when_next_polled_under_it() {
    let _serial = serial();
    let profile = Profile::new();
    let mut future = pin!(leaf(2));
    let mut context = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut context).is_pending());
    profile.run(|| while future.as_mut().poll(&mut context).is_pending() {});
    assert_eq!(entry(&Stats::new(&profile), "leaf").calls, 1);
}
