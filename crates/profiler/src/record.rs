//! Recording: call sites, the one enabled flag, per-thread call stacks and
//! the per-thread tables that `Profile::disable` merges.
//!
//! The hot path (`enter` and the guard's drop) touches only thread-local
//! state and, on exit, the calling thread's own table behind an uncontended
//! mutex; the only global it reads is `ENABLED`, with one relaxed load.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::spin::SpinLock;

/// Whether a profile is recording. The design's one global flag: checking
/// it is the whole cost of an instrumented call when nothing is profiled.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Bumped by every `enable`, so each thread notices a new profile and data
/// from frames opened under an older one is never mixed in.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Every call site seen so far, indexed by `Site::index`.
static SITES: Mutex<Vec<&'static Site>> = Mutex::new(Vec::new());

/// Every thread's table, so `disable` can merge them.
static THREADS: Mutex<Vec<Arc<SpinLock<ThreadTable>>>> = Mutex::new(Vec::new());

/// The cycle counter and its calibration to seconds, set up by the first
/// `enable`.
static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

const UNREGISTERED: u32 = u32::MAX;
pub(crate) const NO_CALLER: u32 = u32::MAX;

/// A profiled function or scope: what pstats calls `file:line(function)`.
/// The `#[profile]` attribute and `profile_scope!` make one `static` per site.
#[derive(Debug)]
pub struct Site {
    name: &'static str,
    file: &'static str,
    line: u32,
    index: AtomicU32,
}

impl Site {
    /// A call site; meant for statics made by the macros.
    #[must_use]
    pub const fn new(name: &'static str, file: &'static str, line: u32) -> Self {
        Self {
            name,
            file,
            line,
            index: AtomicU32::new(UNREGISTERED),
        }
    }

    /// The function or scope name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The source file, as `file!()` gives it.
    #[must_use]
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line the function or scope starts on.
    #[must_use]
    pub fn line(&self) -> u32 {
        self.line
    }

    fn index(&'static self) -> u32 {
        match self.index.load(Ordering::Relaxed) {
            UNREGISTERED => self.register(),
            index => index,
        }
    }

    #[cold]
    fn register(&'static self) -> u32 {
        let mut sites = lock(&SITES);
        // Another thread may have registered this site while we waited.
        let index = self.index.load(Ordering::Relaxed);
        if index != UNREGISTERED {
            return index;
        }
        let index = u32::try_from(sites.len()).expect("fewer than 4 billion call sites");
        sites.push(self);
        self.index.store(index, Ordering::Relaxed);
        index
    }
}

/// The site registered under `index`.
pub(crate) fn site(index: u32) -> &'static Site {
    lock(&SITES)[index as usize]
}

/// Keeps a frame open until dropped; made by [`enter`]. Dropping it, also
/// during a panic's unwinding, closes the frame.
#[must_use = "the frame closes when the guard is dropped"]
pub struct Guard {
    active: bool,
}

/// Opens a frame for `site` if a profile is enabled: one relaxed atomic
/// load otherwise. Used by the macros; call it directly only for sites the
/// macros cannot annotate.
#[inline(always)]
pub fn enter(site: &'static Site) -> Guard {
    enter_frame(site, true)
}

/// Opens a frame whose time is added to `site` without counting a call:
/// the later polls of a future whose first poll was [`enter`]ed.
#[inline(always)]
pub(crate) fn enter_frame(site: &'static Site, counts_call: bool) -> Guard {
    if cfg!(feature = "enabled") && ENABLED.load(Ordering::Relaxed) {
        Guard {
            active: enter_slow(site, counts_call),
        }
    } else {
        Guard { active: false }
    }
}

impl Guard {
    /// Whether a frame was opened (a profile was recording).
    pub(crate) fn is_active(&self) -> bool {
        self.active
    }
}

impl Drop for Guard {
    #[inline(always)]
    fn drop(&mut self) {
        if self.active {
            exit_slow();
        }
    }
}

/// Allocations seen on this thread, counted by `CountingAllocator`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AllocCount {
    pub(crate) count: u64,
    pub(crate) bytes: u64,
}

impl AllocCount {
    fn minus(self, other: Self) -> Self {
        Self {
            count: self.count.wrapping_sub(other.count),
            bytes: self.bytes.wrapping_sub(other.bytes),
        }
    }

    fn plus(self, other: Self) -> Self {
        Self {
            count: self.count.wrapping_add(other.count),
            bytes: self.bytes.wrapping_add(other.bytes),
        }
    }
}

thread_local! {
    /// This thread's allocation counters; `PAUSED` while the profiler's own
    /// bookkeeping allocates, so it is never charged to user code.
    static ALLOCATIONS: Cell<AllocCount> = const { Cell::new(AllocCount { count: 0, bytes: 0 }) };
    static PAUSED: Cell<bool> = const { Cell::new(false) };
    static STATE: RefCell<ThreadState> = RefCell::new(ThreadState::register());
}

/// Counts one allocation of `bytes` on this thread (called by the allocator).
#[inline]
pub(crate) fn count_allocation(bytes: usize) {
    // `try_with`: the allocator may run while thread-locals are torn down.
    let _ = PAUSED.try_with(|paused| {
        if !paused.get() {
            let _ = ALLOCATIONS.try_with(|a| {
                let now = a.get();
                a.set(AllocCount {
                    count: now.count + 1,
                    bytes: now.bytes + bytes as u64,
                });
            });
        }
    });
}

fn allocations() -> AllocCount {
    ALLOCATIONS.try_with(Cell::get).unwrap_or_default()
}

struct Frame {
    site: u32,
    caller: u32,
    /// This frame's node in the thread's calling-context tree.
    node: u32,
    generation: u64,
    start: u64,
    subcalls: u64,
    outermost_for_function: bool,
    outermost_for_edge: bool,
    /// False for a future's later polls: their time joins the call its
    /// first poll counted.
    counts_call: bool,
    allocations_at_start: AllocCount,
    child_allocations: AllocCount,
}

struct ThreadState {
    stack: Vec<Frame>,
    /// The calling-context tree's shape: which site each node is and which
    /// children it has. Only this thread touches it; the table holds the
    /// nodes' times.
    tree: Vec<TreeNode>,
    /// The tree's roots by site: frames opened with no profiled caller.
    roots: Vec<(u32, u32)>,
    /// How many frames of each site are open on this thread.
    recursion: Vec<u32>,
    generation: u64,
    table: Arc<SpinLock<ThreadTable>>,
}

impl ThreadState {
    fn register() -> Self {
        let table = Arc::new(SpinLock::default());
        lock(&THREADS).push(Arc::clone(&table));
        Self {
            stack: Vec::new(),
            tree: Vec::new(),
            roots: Vec::new(),
            recursion: Vec::new(),
            generation: 0,
            table,
        }
    }
}

struct TreeNode {
    site: u32,
    parent: u32,
    children: Vec<(u32, u32)>,
}

/// What one thread recorded for the current generation.
#[derive(Default)]
pub(crate) struct ThreadTable {
    generation: u64,
    pub(crate) functions: Vec<RawFunction>,
    /// Calling-context tree nodes, for flamegraphs: exact call paths.
    pub(crate) paths: Vec<PathNode>,
}

/// One calling context: a site reached through a particular chain of
/// callers, with the time spent in it itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PathNode {
    pub(crate) site: u32,
    /// The caller's context, or `NO_CALLER` at a root.
    pub(crate) parent: u32,
    pub(crate) inline_ticks: u64,
}

/// Everything a profile recorded: per-function entries and, per thread,
/// the calling-context trees.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recorded {
    pub(crate) functions: Vec<RawFunction>,
    pub(crate) paths: Vec<Vec<PathNode>>,
}

/// cProfile's per-function entry, in clock ticks.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawFunction {
    pub(crate) calls: u64,
    pub(crate) recursive_calls: u64,
    pub(crate) inline_ticks: u64,
    pub(crate) total_ticks: u64,
    pub(crate) allocations: AllocCount,
    /// Per caller site: cProfile's sub-entries.
    pub(crate) callers: Vec<(u32, RawEdge)>,
}

/// cProfile's per caller-callee pair entry, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RawEdge {
    pub(crate) calls: u64,
    pub(crate) recursive_calls: u64,
    pub(crate) inline_ticks: u64,
    pub(crate) total_ticks: u64,
}

impl RawEdge {
    /// Records a closed frame; `counts_call` is false for the later polls
    /// of a future, which add time to the call its first poll counted.
    fn record(&mut self, counts_call: bool, outermost: bool, total: u64, inline: u64) {
        if counts_call {
            self.calls += 1;
            if !outermost {
                self.recursive_calls += 1;
            }
        }
        if outermost {
            self.total_ticks += total;
        }
        self.inline_ticks += inline;
    }

    pub(crate) fn add(&mut self, other: &Self) {
        self.calls += other.calls;
        self.recursive_calls += other.recursive_calls;
        self.inline_ticks += other.inline_ticks;
        self.total_ticks += other.total_ticks;
    }
}

impl RawFunction {
    pub(crate) fn merge(&mut self, other: &Self) {
        self.calls += other.calls;
        self.recursive_calls += other.recursive_calls;
        self.inline_ticks += other.inline_ticks;
        self.total_ticks += other.total_ticks;
        self.allocations = self.allocations.plus(other.allocations);
        for (caller, edge) in &other.callers {
            self.edge_mut(*caller).add(edge);
        }
    }

    fn edge_mut(&mut self, caller: u32) -> &mut RawEdge {
        // Callers per function are few: a linear scan beats hashing.
        let position = match self.callers.iter().position(|(c, _)| *c == caller) {
            Some(position) => position,
            None => {
                self.callers.push((caller, RawEdge::default()));
                self.callers.len() - 1
            }
        };
        &mut self.callers[position].1
    }
}

/// The node for `site` called from `parent` (`NO_CALLER` for a root),
/// created on first use.
fn tree_child(
    tree: &mut Vec<TreeNode>,
    roots: &mut Vec<(u32, u32)>,
    parent: u32,
    site: u32,
) -> u32 {
    let next = u32::try_from(tree.len()).expect("fewer than 4 billion calling contexts");
    let siblings = if parent == NO_CALLER {
        roots
    } else {
        &mut tree[parent as usize].children
    };
    if let Some((_, node)) = siblings.iter().find(|(s, _)| *s == site) {
        return *node;
    }
    siblings.push((site, next));
    tree.push(TreeNode {
        site,
        parent,
        children: Vec::new(),
    });
    next
}

fn now() -> u64 {
    CLOCK.get().map_or(0, quanta::Clock::raw)
}

/// Converts clock ticks to seconds.
pub(crate) fn seconds(ticks: u64) -> f64 {
    CLOCK
        .get()
        .map_or(0.0, |clock| clock.delta_as_nanos(0, ticks) as f64 * 1e-9)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a profiler lock leaves counters, never broken
    // invariants, so the data stays usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[inline(never)]
fn enter_slow(site: &'static Site, counts_call: bool) -> bool {
    let index = site.index();
    PAUSED.with(|p| p.set(true));
    let pushed = STATE
        .try_with(|state| {
            let mut state = state.borrow_mut();
            let generation = GENERATION.load(Ordering::Acquire);
            if state.generation != generation {
                state.generation = generation;
                state.recursion.clear();
                state.tree.clear();
                state.roots.clear();
            }
            let slot = index as usize;
            if state.recursion.len() <= slot {
                state.recursion.resize(slot + 1, 0);
            }
            let open = state.recursion[slot];
            state.recursion[slot] += 1;
            let (caller, parent_node) = match state.stack.last() {
                Some(parent) if parent.generation == generation => (parent.site, parent.node),
                _ => (NO_CALLER, NO_CALLER),
            };
            let ThreadState { tree, roots, .. } = &mut *state;
            let node = tree_child(tree, roots, parent_node, index);
            // The pair caller -> callee can only be open already if the
            // callee is: scan the stack only in that (recursive) case.
            let outermost_for_edge = open == 0
                || !state.stack.windows(2).any(|w| {
                    w[1].site == index && w[0].site == caller && w[1].generation == generation
                });
            state.stack.push(Frame {
                site: index,
                caller,
                node,
                generation,
                start: 0,
                subcalls: 0,
                outermost_for_function: open == 0,
                outermost_for_edge,
                counts_call,
                allocations_at_start: AllocCount::default(),
                child_allocations: AllocCount::default(),
            });
            let frame = state.stack.last_mut().expect("just pushed");
            frame.allocations_at_start = allocations();
            // Read the clock last, so the bookkeeping above is not charged.
            frame.start = now();
        })
        .is_ok();
    PAUSED.with(|p| p.set(false));
    pushed
}

#[inline(never)]
fn exit_slow() {
    // Read the clock first, so the bookkeeping below is not charged.
    let end = now();
    let allocations_at_end = allocations();
    PAUSED.with(|p| p.set(true));
    let _ = STATE.try_with(|state| {
        let mut state = state.borrow_mut();
        let Some(frame) = state.stack.pop() else {
            return;
        };
        if frame.generation != state.generation {
            return;
        }
        state.recursion[frame.site as usize] -= 1;
        let allocations = allocations_at_end.minus(frame.allocations_at_start);
        close_frame(&mut state, &frame, end, allocations);
    });
    PAUSED.with(|p| p.set(false));
}

/// Records a frame that ends at `end` into the thread's table and charges
/// its time to the parent, exactly as cProfile's `Stop` does.
fn close_frame(
    state: &mut ThreadState,
    frame: &Frame,
    end: u64,
    inclusive_allocations: AllocCount,
) {
    let total = end.saturating_sub(frame.start);
    let inline = total.saturating_sub(frame.subcalls);
    if let Some(parent) = state.stack.last_mut()
        && parent.generation == frame.generation
    {
        parent.subcalls += total;
        parent.child_allocations = parent.child_allocations.plus(inclusive_allocations);
    }
    let mut table = state.table.lock();
    if table.generation != frame.generation {
        table.generation = frame.generation;
        table.functions.clear();
        table.paths.clear();
    }
    // Copy the tree's shape into the table up to this frame's node, so the
    // collector sees every node that has times.
    let known = table.paths.len();
    table.paths.extend(
        state
            .tree
            .iter()
            .skip(known)
            .take((frame.node as usize + 1).saturating_sub(known))
            .map(|node| PathNode {
                site: node.site,
                parent: node.parent,
                inline_ticks: 0,
            }),
    );
    table.paths[frame.node as usize].inline_ticks += inline;
    let slot = frame.site as usize;
    if table.functions.len() <= slot {
        table.functions.resize_with(slot + 1, RawFunction::default);
    }
    let function = &mut table.functions[slot];
    if frame.counts_call {
        function.calls += 1;
        if !frame.outermost_for_function {
            function.recursive_calls += 1;
        }
    }
    if frame.outermost_for_function {
        function.total_ticks += total;
    }
    function.inline_ticks += inline;
    function.allocations = function
        .allocations
        .plus(inclusive_allocations.minus(frame.child_allocations));
    if frame.caller != NO_CALLER {
        function.edge_mut(frame.caller).record(
            frame.counts_call,
            frame.outermost_for_edge,
            total,
            inline,
        );
    }
}

/// Starts recording a new generation; returns it.
pub(crate) fn start_recording() -> u64 {
    CLOCK.get_or_init(quanta::Clock::new);
    let generation = GENERATION.fetch_add(1, Ordering::AcqRel) + 1;
    ENABLED.store(true, Ordering::Release);
    generation
}

/// Stops recording, closes this thread's frames still open (as cProfile's
/// `disable` does), and returns every thread's functions recorded under
/// `generation`, indexed by site and merged.
pub(crate) fn stop_recording(generation: u64) -> Recorded {
    ENABLED.store(false, Ordering::Release);
    let end = now();
    let allocations_now = allocations();
    PAUSED.with(|p| p.set(true));
    let _ = STATE.try_with(|state| {
        let mut state = state.borrow_mut();
        // Close open frames innermost first, each charging its parent, then
        // put them back marked as closed so their guards only pop them.
        let mut closed = Vec::with_capacity(state.stack.len());
        while let Some(frame) = state.stack.pop() {
            if frame.generation == generation {
                let allocations = allocations_now.minus(frame.allocations_at_start);
                close_frame(&mut state, &frame, end, allocations);
            }
            closed.push(frame);
        }
        for mut frame in closed.into_iter().rev() {
            frame.generation = u64::MAX;
            state.stack.push(frame);
        }
    });
    PAUSED.with(|p| p.set(false));
    let mut recorded = Recorded::default();
    for table in lock(&THREADS).iter() {
        let table = table.lock();
        if table.generation != generation {
            continue;
        }
        let merged = &mut recorded.functions;
        if merged.len() < table.functions.len() {
            merged.resize_with(table.functions.len(), RawFunction::default);
        }
        for (into, from) in merged.iter_mut().zip(&table.functions) {
            into.merge(from);
        }
        recorded.paths.push(table.paths.clone());
    }
    recorded
}

/// Whether a profile is recording right now.
#[must_use]
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}
