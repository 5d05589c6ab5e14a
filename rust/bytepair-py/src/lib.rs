//! pyo3 binding for bytepair-core (module `bytepair._core`).
//!
//! Extract, detach, build: arguments are copied into owned Rust values, the hot loop runs inside `py.detach`, and
//! Python objects are built afterwards. Core errors map once onto the exception hierarchy below.
use std::borrow::Cow;
use std::path::PathBuf;

use bytepair_core::batch::{self, BatchOptions, Padded, Padding, Side};
use bytepair_core::pretokenize::PreTokenizer;
use bytepair_core::reader::{ChunkReader, Utf8Errors, DEFAULT_CHUNK_BYTES};
use bytepair_core::special::SpecialTokens;
use bytepair_core::tokenizer::SpareBuffers;
use bytepair_core::train::{self, PretokenCounts, TrainOptions};
use bytepair_core::{Allowed, Error, Tokenizer};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1};
use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileNotFoundError, PyKeyboardInterrupt, PyOSError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

mod formats;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    // mimalloc's option API (compiled into the allocator above)
    fn mi_option_get(option: std::os::raw::c_int) -> std::os::raw::c_long;
    fn mi_option_set(option: std::os::raw::c_int, value: std::os::raw::c_long);
}

/// `mi_option_purge_delay` in mimalloc's `mi_option_e`.
const MI_OPTION_PURGE_DELAY: std::os::raw::c_int = 15;

/// While alive, mimalloc returns freed memory to the OS at once instead of after its delay (10 ms by default).
///
/// Training and counting free and reallocate large tables between phases, and purging at once keeps their peak
/// RSS at the working set (measured: multi at 32k, 274-316 MB with the delay, 229-232 MB without). Encoding keeps
/// the delay, so repeated calls reuse their memory instead of faulting pages back in. A `MIMALLOC_PURGE_DELAY` set
/// by the user wins: then this does nothing.
struct PurgeNow(Option<std::os::raw::c_long>);

impl PurgeNow {
    fn new() -> Self {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return Self(None);
        }
        // SAFETY: mimalloc's options are plain atomics, safe to read and set from any thread.
        unsafe {
            let previous = mi_option_get(MI_OPTION_PURGE_DELAY);
            mi_option_set(MI_OPTION_PURGE_DELAY, 0);
            Self(Some(previous))
        }
    }
}

impl Drop for PurgeNow {
    fn drop(&mut self) {
        if let Some(previous) = self.0 {
            // SAFETY: as in `new`.
            unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, previous) };
        }
    }
}

create_exception!(
    bytepair,
    BytepairError,
    PyValueError,
    "Base class of every error bytepair raises (a ValueError)."
);
create_exception!(
    bytepair,
    DisallowedSpecialError,
    BytepairError,
    "Special-token text in the input that was not allowed (tiktoken's rule)."
);
create_exception!(bytepair, FormatError, BytepairError, "A file or serialized tokenizer that is corrupt, truncated, inconsistent or of an unsupported version.");

fn to_py(e: Error) -> PyErr {
    match e {
        Error::DisallowedSpecial { .. } => DisallowedSpecialError::new_err(e.to_string()),
        Error::Format(_) => FormatError::new_err(e.to_string()),
        Error::Io { .. } => PyOSError::new_err(e.to_string()),
        Error::Interrupted => PyKeyboardInterrupt::new_err("training interrupted"),
        _ => BytepairError::new_err(e.to_string()),
    }
}

/// Text of a Python str. A str that is not valid Unicode text (it holds surrogates, which UTF-8 cannot) is
/// repaired as tiktoken repairs it, `text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")`: a high
/// surrogate followed by a low one is the char they encode, every other surrogate U+FFFD (DESIGN §3.6).
fn text_of<'a>(s: &'a Bound<'_, PyString>) -> PyResult<Cow<'a, str>> {
    match s.to_str() {
        Ok(t) => Ok(Cow::Borrowed(t)),
        Err(_) => {
            // str.encode itself, not a method a str subclass may override
            let encode = s.py().get_type::<PyString>().getattr("encode")?;
            let b = encode.call1((s, "utf-16-le", "surrogatepass"))?;
            let units: Vec<u16> = b
                .cast::<PyBytes>()?
                .as_bytes()
                .chunks_exact(2)
                .map(|u| u16::from_le_bytes([u[0], u[1]]))
                .collect();
            Ok(Cow::Owned(String::from_utf16_lossy(&units)))
        }
    }
}

fn texts_of(list: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let mut out = Vec::new();
    for (i, item) in list.try_iter()?.enumerate() {
        let item = item?;
        match item.cast::<PyString>() {
            Ok(s) => out.push(text_of(s)?.into_owned()),
            Err(_) => return Err(not_str(i, &item)),
        }
    }
    Ok(out)
}

/// The name of an object's type, for error messages.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// The TypeError for item `i` of a batch of texts that is not a str.
fn not_str(i: usize, item: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "texts[{i}] is of type {}, expected str",
        type_name(item)
    ))
}

/// Token ids from a Python iterable of ints: a TypeError names a non-integer and its position, a ValueError an
/// out-of-range id.
fn ids_of(tok: &Tokenizer, ids: &Bound<'_, PyAny>) -> PyResult<Vec<u32>> {
    let mut out = Vec::new();
    let iter = ids.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "token ids must be a sequence of int, got {}",
            type_name(ids)
        ))
    })?;
    for (i, item) in iter.enumerate() {
        let item = item?;
        out.push(id_of(tok, &item, Some(i))?);
    }
    Ok(out)
}

fn id_of(tok: &Tokenizer, item: &Bound<'_, PyAny>, pos: Option<usize>) -> PyResult<u32> {
    let at = pos.map(|i| format!(" at position {i}")).unwrap_or_default();
    if item.is_instance_of::<PyString>() || item.is_instance_of::<PyBytes>() || item.is_none() {
        return Err(PyTypeError::new_err(format!(
            "token ids must be int, got {}{at}: {}",
            item.get_type().name()?,
            item.repr()?
        )));
    }
    let index = item.call_method0("__index__").map_err(|_| {
        PyTypeError::new_err(format!(
            "token ids must be int, got {}{at}: {}",
            type_name(item),
            item.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })?;
    match index.extract::<i64>() {
        Ok(v)
            if v >= 0
                && (v as u64) < tok.n_vocab() as u64
                && tok.token_bytes(v as u32).is_some() =>
        {
            Ok(v as u32)
        }
        Ok(v) => {
            // the core's message, with the position of the id in the list when there is one
            let msg = tok.invalid_id(v).to_string();
            let from = format!("invalid token id {v}");
            Err(BytepairError::new_err(msg.replacen(
                &from,
                &format!("{from}{at}"),
                1,
            )))
        }
        Err(_) => Err(BytepairError::new_err(format!(
            "invalid token id {}{at}: ids must be from 0 to {} (n_vocab = {})",
            index.repr()?,
            tok.n_vocab() as i64 - 1,
            tok.n_vocab()
        ))),
    }
}

/// Batch encoding takes texts from the Python iterable at most about this many bytes ahead of the documents it
/// has handed back: the ids waiting to be handed back, and what a generator of texts has made, stay bounded
/// however long the batch.
const BATCH_AHEAD_BYTES: usize = 8 << 20;

/// At most this many documents are taken ahead of the documents handed back (the byte bound alone would let a
/// stream of empty texts be taken without end).
const BATCH_AHEAD_DOCS: usize = 1 << 16;

/// Consecutive small documents go to the pool together, up to about this many bytes or documents (one task each
/// would cost more in scheduling than in encoding for documents of a few bytes).
const BATCH_JOB_BYTES: usize = 64 << 10;
const BATCH_JOB_DOCS: usize = 1 << 10;

fn bytes_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `f` on a rayon pool with `num_threads` threads (the global pool when `None`).
fn with_threads<T: Send>(num_threads: Option<usize>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    Ok(run_in(&shared_pool(num_threads)?, f))
}

/// A kept pool ([`shared_pool`]), or `None` for the global pool.
type Pool = Option<std::sync::Arc<rayon::ThreadPool>>;

/// Runs `f` on `pool` (the global pool when `None`).
fn run_in<T: Send>(pool: &Pool, f: impl FnOnce() -> T + Send) -> T {
    match pool {
        None => f(),
        Some(p) => p.install(f),
    }
}

/// What a pool task reports for one document: its ids or error, or the panic that stopped it.
type Outcome = std::thread::Result<bytepair_core::Result<Vec<u32>>>;

/// A text as a pool task reads it: the UTF-8 bytes of a str that [`Held`] keeps alive, not a copy (copying every
/// text, and faulting in fresh memory for the copies, was a tenth of a batch's time).
#[derive(Clone, Copy)]
struct TextRef {
    ptr: *const u8,
    len: usize,
}

// SAFETY: a TextRef only points into memory that its `Held` owner keeps alive and unchanged until the tasks are
// done with it (Python strs are immutable, and so is the UTF-8 buffer a str keeps); any thread may read it.
unsafe impl Send for TextRef {}

impl TextRef {
    fn new(text: &str) -> Self {
        Self {
            ptr: text.as_ptr(),
            len: text.len(),
        }
    }

    /// # Safety
    /// The `Held` that keeps the text must still be alive.
    unsafe fn get(&self) -> &str {
        // SAFETY: made from a &str (valid UTF-8) whose memory the caller guarantees is still alive.
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.ptr, self.len)) }
    }
}

/// What keeps a batch text's bytes alive while tasks read them: the str itself (which keeps its UTF-8 buffer) or,
/// for a str with lone surrogates, the String made from it (moving a String does not move its bytes).
enum Held {
    Str(#[allow(dead_code)] Py<PyString>),
    Owned(#[allow(dead_code)] String),
}

/// A batch's encoder: appends a text's ids to the buffer.
type EncodeInto<'a> = dyn Fn(&str, &mut Vec<u32>) -> bytepair_core::Result<()> + Sync + 'a;

/// Documents handed to the pool and not yet given back, in order.
struct InFlight {
    /// Outcomes of documents `first..` (`None`: not encoded yet).
    outcomes: std::collections::VecDeque<Option<Outcome>>,
    first: usize,
    /// Pool tasks not finished.
    tasks: usize,
}

/// Encodes the texts of a Python iterable on a rayon pool (`num_threads` threads, the global pool when `None`)
/// and hands each document's ids to `consume`, in input order, on this thread with the GIL held. `prepare` runs
/// first, on this thread (outside the pool): it builds what `encode` would otherwise build lazily on the pool
/// (`Tokenizer::prepare`).
///
/// One pipeline for the whole batch: this thread takes texts from the iterable (up to [`BATCH_AHEAD_BYTES`] ahead
/// of the documents it has handed back; the tasks read the strs' own UTF-8 bytes, see [`TextRef`]) and spawns
/// them into the pool in tasks of about [`BATCH_JOB_BYTES`], then, GIL released, waits for the next document in
/// order. So the pool never stops between groups of documents, and taking texts and `consume` (building lists)
/// overlap encoding. Long documents are also cut by `encode` (`encode_parallel_into`), whose chunks the pool's
/// other threads take.
///
/// Errors, the first in input order, as a loop over the iterable encoding each text would raise them: a
/// document's error, a `TypeError` naming an item that is not a str, or an error the iterable raises (both raised
/// only after the documents before them are handed back, or one of them failed); `KeyboardInterrupt` (checked
/// after each document, every [`BATCH_JOB_DOCS`] documents taken and every 50 ms while waiting). Tasks in flight
/// then stop before their next document, and this function returns once none is running. A panic in a task is
/// resumed here. On a rayon pool's thread (a batch from a callback of another parallel job), the tasks run on the
/// calling thread ([`Stream`]'s `inline`).
fn stream_batch<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    num_threads: Option<usize>,
    prepare: impl FnOnce(),
    encode: impl Fn(&str, &mut Vec<u32>) -> bytepair_core::Result<()> + Sync,
    mut consume: impl FnMut(Python<'py>, &mut Vec<u32>) -> PyResult<()>,
) -> PyResult<()> {
    let pool = shared_pool(num_threads)?;
    prepare();
    let stream = Stream {
        encode: &encode,
        state: std::sync::Mutex::new(InFlight {
            outcomes: std::collections::VecDeque::new(),
            first: 0,
            tasks: 0,
        }),
        done: std::sync::Condvar::new(),
        stop: std::sync::atomic::AtomicBool::new(false),
        inline: rayon::current_thread_index().is_some(),
        spare: SpareBuffers::new(usize::MAX, usize::MAX),
    };
    let result = match &pool {
        Some(p) => p.in_place_scope_fifo(|scope| stream.guarded(scope, py, texts, &mut consume)),
        None => rayon::in_place_scope_fifo(|scope| stream.guarded(scope, py, texts, &mut consume)),
    };
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The state [`stream_batch`] shares with its pool tasks.
struct Stream<'a> {
    encode: &'a EncodeInto<'a>,
    state: std::sync::Mutex<InFlight>,
    /// Signalled when the next document in order is encoded, and when a task ends.
    done: std::sync::Condvar,
    /// Set when the batch fails: tasks stop before their next document.
    stop: std::sync::atomic::AtomicBool,
    /// Tasks run on the calling thread, at once: it is a rayon pool's worker (a batch called from a callback
    /// of another parallel job), and waiting there for tasks spawned into its own pool could wait forever.
    inline: bool,
    /// Id buffers handed back, for the next documents: fresh memory for each document's ids costs page faults
    /// (the kernel's page clearing was a tenth of a batch's time). Bounded by the documents in flight.
    spare: SpareBuffers,
}

impl<'a> Stream<'a> {
    fn lock(&self) -> std::sync::MutexGuard<'_, InFlight> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// [`Stream::run`]; when it fails or panics, stops the tasks in flight and waits for them with the GIL
    /// released (the scope would wait for them too, but holding the GIL).
    fn guarded<'scope, 'py>(
        &'scope self,
        scope: &rayon::ScopeFifo<'scope>,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        consume: &mut dyn FnMut(Python<'py>, &mut Vec<u32>) -> PyResult<()>,
    ) -> std::thread::Result<PyResult<()>>
    where
        'a: 'scope,
    {
        // the texts of the documents not handed back yet, with their byte lengths: dropped only after every task
        // is done with them (below, when the batch fails; in `run`, one by one, as documents are handed back)
        let mut held = std::collections::VecDeque::new();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run(scope, py, texts, consume, &mut held)
        }));
        if !matches!(result, Ok(Ok(()))) {
            self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
            py.detach(|| {
                let mut s = self.lock();
                while s.tasks > 0 {
                    s = self.done.wait(s).unwrap_or_else(|p| p.into_inner());
                }
            });
        }
        result
    }

    /// Makes room for the outcomes of the documents `first..` in `job` and encodes them on the pool (at once, on
    /// this thread, when `inline`).
    fn spawn<'scope>(
        &'scope self,
        scope: &rayon::ScopeFifo<'scope>,
        first: usize,
        job: Vec<TextRef>,
    ) where
        'a: 'scope,
    {
        {
            let mut s = self.lock();
            s.tasks += 1;
            s.outcomes
                .extend(std::iter::repeat_with(|| None).take(job.len()));
        }
        if self.inline {
            self.work(first, &job);
        } else {
            scope.spawn_fifo(move |_| self.work(first, &job));
        }
    }

    /// The body of a task: encodes the documents `first..` in `job`, recording each outcome.
    fn work(&self, first: usize, job: &[TextRef]) {
        for (k, text) in job.iter().enumerate() {
            if self.stop.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut ids = self.spare.take();
                // SAFETY: `guarded` keeps the text's Held until this document's outcome is recorded below, or
                // until no task runs
                let text = unsafe { text.get() };
                (self.encode)(text, &mut ids).map(|()| ids)
            }));
            let mut s = self.lock();
            let at = first + k - s.first;
            s.outcomes[at] = Some(outcome);
            if at == 0 {
                self.done.notify_one();
            }
        }
        self.lock().tasks -= 1;
        self.done.notify_one();
    }

    fn run<'scope, 'py>(
        &'scope self,
        scope: &rayon::ScopeFifo<'scope>,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        consume: &mut dyn FnMut(Python<'py>, &mut Vec<u32>) -> PyResult<()>,
        held: &mut std::collections::VecDeque<(Held, usize)>,
    ) -> PyResult<()>
    where
        'a: 'scope,
    {
        let mut items = texts.try_iter()?.enumerate();
        let mut exhausted = false;
        // an error met while taking texts, raised once the documents before it are handed back (theirs first)
        let mut pending: Option<PyErr> = None;
        // the bytes of the texts in `held`
        let mut ahead = 0;
        let mut taken = 0;
        loop {
            // take texts while not too far ahead, a task every BATCH_JOB_BYTES or BATCH_JOB_DOCS
            let (mut job, mut job_bytes) = (Vec::new(), 0);
            while !exhausted && ahead < BATCH_AHEAD_BYTES && held.len() < BATCH_AHEAD_DOCS {
                let Some((i, item)) = items.next() else {
                    exhausted = true;
                    break;
                };
                let taken_text = item.and_then(|item| {
                    let s = item.cast::<PyString>().map_err(|_| not_str(i, &item))?;
                    Ok(match text_of(s)? {
                        Cow::Borrowed(t) => (TextRef::new(t), Held::Str(s.clone().unbind())),
                        Cow::Owned(t) => (TextRef::new(&t), Held::Owned(t)),
                    })
                });
                let (text, kept) = match taken_text {
                    Ok(t) => t,
                    Err(e) => {
                        pending = Some(e);
                        exhausted = true;
                        break;
                    }
                };
                held.push_back((kept, text.len));
                ahead += text.len;
                job_bytes += text.len;
                job.push(text);
                taken += 1;
                if job_bytes >= BATCH_JOB_BYTES || job.len() >= BATCH_JOB_DOCS {
                    self.spawn(scope, taken - job.len(), std::mem::take(&mut job));
                    job_bytes = 0;
                    py.check_signals()?;
                }
            }
            if !job.is_empty() {
                self.spawn(scope, taken - job.len(), job);
            }
            if held.is_empty() {
                return pending.map_or(Ok(()), Err);
            }
            // the next document in order, waited for with the GIL released
            let outcome = loop {
                let ready = {
                    let mut s = self.lock();
                    let o = s.outcomes.front_mut().and_then(Option::take);
                    if o.is_some() {
                        s.outcomes.pop_front();
                        s.first += 1;
                    }
                    o
                };
                if let Some(o) = ready {
                    break o;
                }
                py.detach(|| {
                    let s = self.lock();
                    if s.outcomes.front().is_some_and(Option::is_none) {
                        let _ = self
                            .done
                            .wait_timeout(s, std::time::Duration::from_millis(50));
                    }
                });
                py.check_signals()?;
            };
            // the task is done with this text
            if let Some((_, len)) = held.pop_front() {
                ahead -= len;
            }
            match outcome {
                Ok(Ok(mut ids)) => {
                    consume(py, &mut ids)?;
                    self.spare.give(ids);
                }
                Ok(Err(e)) => return Err(to_py(e)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
            py.check_signals()?;
        }
    }
}

/// The most threads a pool may have (a typo such as `num_threads=10**6` would otherwise start threads for
/// minutes).
const MAX_THREADS: usize = 1024;

/// `num_threads` as given, when it is `None` (the global pool) or 1 to [`MAX_THREADS`].
fn thread_count(num_threads: Option<usize>) -> PyResult<Option<usize>> {
    match num_threads {
        Some(0) => Err(BytepairError::new_err("num_threads must be at least 1")),
        Some(n) if n > MAX_THREADS => Err(BytepairError::new_err(format!(
            "num_threads must be at most {MAX_THREADS}, got {n}"
        ))),
        n => Ok(n),
    }
}

/// The kept pool of [`pool_of`] for `num_threads`, or `None` for the global pool.
fn shared_pool(num_threads: Option<usize>) -> PyResult<Pool> {
    thread_count(num_threads)?.map(pool_of).transpose()
}

/// The rayon pool with `n` threads, made on first use and kept: its threads keep their piece caches warm from one
/// call to the next, and no call pays for starting threads.
fn pool_of(n: usize) -> PyResult<std::sync::Arc<rayon::ThreadPool>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    static POOLS: Mutex<Option<HashMap<usize, Arc<rayon::ThreadPool>>>> = Mutex::new(None);
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    let pools = pools.get_or_insert_with(HashMap::new);
    if let Some(p) = pools.get(&n) {
        return Ok(p.clone());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| BytepairError::new_err(format!("cannot start {n} threads: {e}")))?;
    let pool = Arc::new(pool);
    // (an unusual thread count is not kept, so odd calls cannot pile up idle threads)
    if n <= 64 {
        pools.insert(n, pool.clone());
    }
    Ok(pool)
}

/// The Rust tokenizer. Immutable; safe to share between threads.
#[pyclass(frozen, module = "bytepair._core", name = "CoreTokenizer")]
struct PyTokenizer {
    inner: Tokenizer,
}

impl PyTokenizer {
    fn new(inner: Tokenizer) -> Self {
        Self { inner }
    }

    /// The ids of every text of a batch, in order (for the numpy outputs), through [`stream_batch`].
    fn batch_ids(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        allowed_special: Option<Vec<String>>,
        disallowed_special: Option<Vec<String>>,
        num_threads: Option<usize>,
    ) -> PyResult<Vec<Vec<u32>>> {
        let a = allowed(&self.inner, &allowed_special);
        let d = allowed(&self.inner, &disallowed_special);
        let mut out: Vec<Vec<u32>> = Vec::new();
        let inner = &self.inner;
        stream_batch(
            py,
            texts,
            num_threads,
            || py.detach(|| inner.prepare()),
            |t, ids| inner.encode_parallel_into(t, a, d, ids),
            |_, ids| {
                out.push(std::mem::take(ids));
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// `encode_batch` as Python lists, pipelined ([`stream_batch`]): while the pool encodes (GIL released), this
    /// thread takes the GIL only to take texts and to turn each finished document, in order, into its list, so
    /// building lists (serial, about a fifth of the work) overlaps encoding instead of following it.
    ///
    /// Python's cyclic garbage collector is paused meanwhile ([`GcPause`]): the lists are containers, so every
    /// few hundred of them made a collection traverse all the young ones, item by item (visiting millions of
    /// ints that can never be in a cycle): 10-15% of a batch of the code corpus.
    fn batch_lists<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        a: Allowed<'_>,
        d: Allowed<'_>,
        num_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let inner = &self.inner;
        let _paused = GcPause::new(py);
        stream_batch(
            py,
            texts,
            num_threads,
            || py.detach(|| inner.prepare()),
            |t, ids| inner.encode_parallel_into(t, a, d, ids),
            |py, ids| out.append(self.id_list(py, ids)?),
        )?;
        Ok(out)
    }

    /// A Python list of the ids (all valid ids of this tokenizer), made of the process's cached ints
    /// ([`id_ints`]).
    ///
    /// Built with the list's own item setter (the full C API, not the limited one, whose function calls per item
    /// cost about a sixth of `encode` on English text), and no reference count increment where the cached ints
    /// are immortal.
    fn id_list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        let (ints, immortal) = id_ints(py, self.inner.dense_ids())?;
        let n = ids.len();
        // every id is below n_vocab (the encoder makes no other); checked in one cheap pass so that the loop below
        // stays in bounds without a second copy of the ids
        if let Some(&top) = ids.iter().max().filter(|&&m| m as usize >= ints.len()) {
            if top as usize >= self.inner.n_vocab() {
                return Err(to_py(self.inner.invalid_id(top as i64)));
            }
            // a special token far above the others (no cached int): each id converted on its own
            let items = ids
                .iter()
                .map(|&i| match ints.get(i as usize) {
                    // SAFETY: a cached int is a live object (never freed); the GIL is held
                    Some(&o) => unsafe { Bound::from_borrowed_ptr(py, o) },
                    None => i
                        .into_pyobject(py)
                        .unwrap_or_else(|e| match e {})
                        .into_any(),
                })
                .collect::<Vec<_>>();
            return PyList::new(py, items);
        }
        // SAFETY: the GIL is held; PyList_New(n) returns a new list of n NULL slots (or NULL with an exception
        // set), and each slot is filled exactly once with a live cached int (in bounds as checked above) and a
        // reference that PyList_SET_ITEM steals: a new one (Py_INCREF), or none where the ints are immortal (see
        // `id_ints`: the list's later decrements can never bring their counts to zero).
        unsafe {
            let list = pyo3::ffi::PyList_New(n as pyo3::ffi::Py_ssize_t);
            if list.is_null() {
                return Err(PyErr::fetch(py));
            }
            // The cached ints are spread over megabytes, and each id costs up to two dependent loads (the pointer,
            // then the object's refcount): they are prefetched a few ids ahead so that the misses overlap.
            for (k, &i) in ids.iter().enumerate() {
                if let Some(&far) = ids.get(k + PREFETCH_FAR) {
                    prefetch(ints.as_ptr().add(far as usize) as *const u8);
                }
                let o = *ints.get_unchecked(i as usize);
                if !immortal {
                    if let Some(&near) = ids.get(k + PREFETCH_NEAR) {
                        prefetch(*ints.get_unchecked(near as usize) as *const u8);
                    }
                    pyo3::ffi::Py_INCREF(o);
                }
                pyo3::ffi::PyList_SET_ITEM(list, k as pyo3::ffi::Py_ssize_t, o);
            }
            Ok(Bound::from_owned_ptr(py, list).cast_into_unchecked())
        }
    }
}

/// The ids below this have cached ints ([`id_ints`]): 8 MiB of address space for the pointers, filled (and
/// committed) only as far as the largest tokenizer used needs, and kept for the life of the process (about 40 B an
/// id: 8 MB for o200k, 40 MB at most); ids above it (a vocabulary of over a million tokens, or special tokens far
/// above the rest) get a new int each.
const ID_INTS_MAX: usize = 1 << 20;

/// One Python int per id, made on first use and shared by every tokenizer of the process (`filled` of them, in a
/// buffer of [`ID_INTS_MAX`] pointers that is never moved or freed): lists of ids are built from these instead of
/// allocating an int object per token, and a tokenizer dropped leaves nothing behind.
struct IdInts {
    base: std::sync::atomic::AtomicPtr<*mut pyo3::ffi::PyObject>,
    filled: std::sync::atomic::AtomicUsize,
}

static ID_INTS: IdInts = IdInts {
    base: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
    filled: std::sync::atomic::AtomicUsize::new(0),
};

/// Held while [`id_ints`] fills the table.
static ID_INTS_FILL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether the cached ints are made immortal: on 64-bit CPython before 3.12 only (see [`id_ints`]).
static IMMORTAL_INTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Added to a cached int's reference count on 64-bit CPython before 3.12: no process does 2**62 decrements (146
/// years at 10**9 a second). (0 on 32-bit targets, where the ints are not made immortal: a bias that fits there
/// could be used up.)
const IMMORTAL_BIAS: pyo3::ffi::Py_ssize_t = (1i64 << 62) as pyo3::ffi::Py_ssize_t;

/// The cached ints of ids `0..min(n, ID_INTS_MAX)` (made now if needed; the slice may be longer), and whether they
/// are immortal.
///
/// On 64-bit CPython before 3.12 each int made here has its reference count raised by 2**62 ([`IMMORTAL_BIAS`]):
/// a list can then take it without an increment, since the decrements of the lists freed later (one for each item
/// taken that way) cannot bring the count to zero in any process's lifetime. That is how the interpreter's own
/// immortal objects work from 3.12 (PEP 683), where the count has another layout, and the increment is kept. An
/// increment writes to the int's cache line: skipping it made `encode` on the code corpus 10-15% faster (lists
/// of ids were about a fifth of its time).
fn id_ints(py: Python<'_>, n: usize) -> PyResult<(&'static [*mut pyo3::ffi::PyObject], bool)> {
    use std::sync::atomic::Ordering::{Acquire, Release};
    let immortal = *IMMORTAL_INTS.get_or_init(|| {
        // (from the interpreter's version string: no Python code runs here; PyPy and GraalPy name themselves in it)
        let v = py.version_info();
        let version = Python::version_str();
        let other = version.contains("PyPy") || version.contains("GraalPy");
        !other && (v.major, v.minor) < (3, 12) && cfg!(target_pointer_width = "64")
    });
    let want = n.min(ID_INTS_MAX);
    let mut base = ID_INTS.base.load(Acquire);
    let mut filled = ID_INTS.filled.load(Acquire);
    if filled < want {
        // (one thread fills at a time, also on a free-threaded Python; nothing below runs Python code)
        let _fill = ID_INTS_FILL.lock().unwrap_or_else(|p| p.into_inner());
        base = ID_INTS.base.load(Acquire);
        filled = ID_INTS.filled.load(Acquire);
        if base.is_null() {
            let buf: Vec<*mut pyo3::ffi::PyObject> = vec![std::ptr::null_mut(); ID_INTS_MAX];
            base = Box::leak(buf.into_boxed_slice()).as_mut_ptr();
            ID_INTS.base.store(base, Release);
        }
        while filled < want {
            // SAFETY: the GIL is held (or the interpreter has none), and so is ID_INTS_FILL; PyLong_FromUnsignedLong
            // returns a new reference (kept by the table for the life of the process) or NULL with an exception
            // set; `base` has ID_INTS_MAX slots and slot `filled` is past every slice handed out so far (they
            // cover `..filled`).
            unsafe {
                let o = pyo3::ffi::PyLong_FromUnsignedLong(filled as std::os::raw::c_ulong);
                if o.is_null() {
                    ID_INTS.filled.store(filled, Release);
                    return Err(PyErr::fetch(py));
                }
                if immortal {
                    let count =
                        std::ptr::addr_of_mut!((*o).ob_refcnt) as *mut pyo3::ffi::Py_ssize_t;
                    *count += IMMORTAL_BIAS;
                }
                base.add(filled).write(o);
            }
            filled += 1;
        }
        ID_INTS.filled.store(filled, Release);
    }
    if base.is_null() {
        return Ok((&[], immortal));
    }
    // SAFETY: the first `filled` slots were written before `filled` was stored (Release/Acquire) and never change
    // again; the buffer is leaked, so it lives for the rest of the process.
    Ok((
        unsafe { std::slice::from_raw_parts(base, filled) },
        immortal,
    ))
}

/// Pauses Python's cyclic garbage collector, when it is enabled, until dropped (with the GIL held). Collection
/// is only delayed: the next allocation after the pause counts the objects made meanwhile, as usual. Lists of ints
/// cannot form cycles, so nothing the pause leaves uncollected is ours.
struct GcPause(bool);

impl GcPause {
    fn new(_py: Python<'_>) -> Self {
        // SAFETY: the GIL is held (a `Python` token); PyGC_Disable returns the previous state (Python >= 3.10).
        GcPause(unsafe { pyo3::ffi::PyGC_Disable() } == 1)
    }
}

impl Drop for GcPause {
    fn drop(&mut self) {
        if self.0 {
            // SAFETY: dropped where it was made, in a function that holds the GIL from start to end.
            unsafe {
                pyo3::ffi::PyGC_Enable();
            }
        }
    }
}

/// How far ahead `id_list` prefetches the pointer to an id's cached int, and the int itself.
const PREFETCH_FAR: usize = 64;
const PREFETCH_NEAR: usize = 32;

/// A hint that `p` will be read soon (no effect on other targets).
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint and never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Pads `lists` (GIL released) and returns the ids and mask as `(rows, seq_len)` numpy arrays (the vectors become
/// their buffers, no copy); the mask is `None` unless `with_mask`.
#[allow(clippy::type_complexity)]
fn pad_to_arrays<'py, I, M>(
    py: Python<'py>,
    lists: &[Vec<u32>],
    opts: &BatchOptions,
    with_mask: bool,
    num_threads: Option<usize>,
) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)>
where
    I: numpy::Element + From<u32> + Copy + Send + Sync,
    M: numpy::Element + From<bool> + Copy + Send + Sync,
{
    let p: Padded<I, M> = py
        .detach(|| with_threads(num_threads, || batch::pad(lists, opts, with_mask)))?
        .map_err(to_py)?;
    let shape = (p.rows, p.seq_len);
    let shape_err = |e: numpy::ndarray::ShapeError| BytepairError::new_err(e.to_string());
    let ids = Array2::from_shape_vec(shape, p.ids).map_err(shape_err)?;
    let mask = if with_mask {
        Some(Array2::from_shape_vec(shape, p.mask).map_err(shape_err)?)
    } else {
        None
    };
    Ok((
        ids.into_pyarray(py).into_any(),
        mask.map(|m| m.into_pyarray(py).into_any()),
    ))
}

/// Selects special tokens: `None` = none, a list = those (the whole set = all).
fn allowed<'a>(tok: &Tokenizer, list: &'a Option<Vec<String>>) -> Allowed<'a> {
    match list {
        None => Allowed::None,
        Some(l) if l.is_empty() => Allowed::None,
        Some(l)
            if l.len() == tok.specials().len()
                && l.iter().all(|t| tok.specials().id(t).is_some()) =>
        {
            Allowed::All
        }
        Some(l) => Allowed::Some(l),
    }
}

#[pymethods]
impl PyTokenizer {
    /// Builds from tiktoken-style ranks `{bytes: rank}` (rank = id), special tokens `[(str, id)]` and a pattern.
    #[staticmethod]
    fn from_ranks(
        py: Python<'_>,
        ranks: &Bound<'_, PyDict>,
        special_tokens: Vec<(String, u32)>,
        pattern: &str,
    ) -> PyResult<Self> {
        let mut r = rustc_hash::FxHashMap::default();
        r.reserve(ranks.len());
        for (k, v) in ranks.iter() {
            let k = k.cast::<PyBytes>().map_err(|_| {
                PyTypeError::new_err(format!("ranks keys must be bytes, got {}", type_name(&k)))
            })?;
            let v: u32 = v.extract().map_err(|_| {
                BytepairError::new_err(format!(
                    "rank of {:?} must be an int in 0..2**32-1, got {v}",
                    bytes_of(k.as_bytes())
                ))
            })?;
            r.insert(k.as_bytes().to_vec(), v);
        }
        let pattern = pattern.to_string();
        let inner = py
            .detach(move || Tokenizer::from_ranks(r, special_tokens, &pattern))
            .map_err(to_py)?;
        Ok(Self::new(inner))
    }

    /// Builds from a vocab `[(id, bytes)]`, merges `[(bytes, bytes)]`, special tokens `[(str, id)]` and a pattern.
    #[staticmethod]
    fn from_vocab_merges(
        py: Python<'_>,
        vocab: Vec<(u32, Vec<u8>)>,
        merges: Vec<(Vec<u8>, Vec<u8>)>,
        special_tokens: Vec<(String, u32)>,
        pattern: &str,
    ) -> PyResult<Self> {
        let pattern = pattern.to_string();
        let inner = py
            .detach(move || Tokenizer::from_vocab_merges(vocab, merges, special_tokens, &pattern))
            .map_err(to_py)?;
        Ok(Self::new(inner))
    }

    fn encode_ordinary<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyList>> {
        let text = text_of(text)?;
        let ids = py
            .detach(|| self.inner.encode_ordinary(&text))
            .map_err(to_py)?;
        self.id_list(py, &ids)
    }

    #[pyo3(signature = (text, allowed_special, disallowed_special))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
        allowed_special: Option<Vec<String>>,
        disallowed_special: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let text = text_of(text)?;
        let a = allowed(&self.inner, &allowed_special);
        let d = allowed(&self.inner, &disallowed_special);
        let ids = py
            .detach(|| self.inner.encode(&text, a, d))
            .map_err(to_py)?;
        self.id_list(py, &ids)
    }

    /// Like `encode`, as a 1-D uint32 numpy array (the ids vector becomes the array's buffer, no copy).
    #[pyo3(signature = (text, allowed_special, disallowed_special))]
    fn encode_to_numpy<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
        allowed_special: Option<Vec<String>>,
        disallowed_special: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let text = text_of(text)?;
        let a = allowed(&self.inner, &allowed_special);
        let d = allowed(&self.inner, &disallowed_special);
        let ids = py
            .detach(|| self.inner.encode(&text, a, d))
            .map_err(to_py)?;
        Ok(ids.into_pyarray(py))
    }

    /// Like `encode_batch`, as flat uint32 ids and int64 offsets (length n + 1): text i is `ids[offsets[i]:offsets[i+1]]`.
    #[pyo3(signature = (texts, allowed_special, disallowed_special, num_threads=None))]
    #[allow(clippy::type_complexity)]
    fn encode_batch_to_numpy<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        allowed_special: Option<Vec<String>>,
        disallowed_special: Option<Vec<String>>,
        num_threads: Option<usize>,
    ) -> PyResult<(Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<i64>>)> {
        let lists = self.batch_ids(py, texts, allowed_special, disallowed_special, num_threads)?;
        let (flat, offsets) = py.detach(|| {
            let total: usize = lists.iter().map(|l| l.len()).sum();
            let mut flat = Vec::with_capacity(total);
            let mut offsets = Vec::with_capacity(lists.len() + 1);
            offsets.push(0i64);
            for l in &lists {
                flat.extend_from_slice(l);
                offsets.push(flat.len() as i64);
            }
            (flat, offsets)
        });
        Ok((flat.into_pyarray(py), offsets.into_pyarray(py)))
    }

    /// Like `encode_batch`, padded and/or truncated into `(batch, seq)` ids (uint32, or int64 with `int64`) and,
    /// with `return_attention_mask`, a `(batch, seq)` mask (uint8, or bool with `mask_bool`; 1 = real token).
    /// The options are checked before encoding; encoding and padding run with the GIL released.
    #[pyo3(signature = (
        texts, allowed_special, disallowed_special, num_threads=None, *, max_length=None, padding="longest",
        truncation=None, padding_side="right", pad_id=None, allow_any_pad_id=false, bos=None, eos=None,
        return_attention_mask=true, int64=false, mask_bool=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn encode_batch_padded<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        allowed_special: Option<Vec<String>>,
        disallowed_special: Option<Vec<String>>,
        num_threads: Option<usize>,
        max_length: Option<usize>,
        padding: &str,
        truncation: Option<&str>,
        padding_side: &str,
        pad_id: Option<u32>,
        allow_any_pad_id: bool,
        bos: Option<u32>,
        eos: Option<u32>,
        return_attention_mask: bool,
        int64: bool,
        mask_bool: bool,
    ) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)> {
        let opts = BatchOptions {
            max_length,
            padding: Padding::parse(padding).map_err(to_py)?,
            truncation: truncation
                .map(|t| Side::parse(t, "truncation"))
                .transpose()
                .map_err(to_py)?,
            padding_side: Side::parse(padding_side, "padding_side").map_err(to_py)?,
            pad_id,
            bos,
            eos,
        };
        opts.check_for(&self.inner, allow_any_pad_id)
            .map_err(to_py)?;
        let lists = self.batch_ids(py, texts, allowed_special, disallowed_special, num_threads)?;
        let m = return_attention_mask;
        match (int64, mask_bool) {
            (false, false) => pad_to_arrays::<u32, u8>(py, &lists, &opts, m, num_threads),
            (false, true) => pad_to_arrays::<u32, bool>(py, &lists, &opts, m, num_threads),
            (true, false) => pad_to_arrays::<i64, u8>(py, &lists, &opts, m, num_threads),
            (true, true) => pad_to_arrays::<i64, bool>(py, &lists, &opts, m, num_threads),
        }
    }

    /// Number of tokens `encode_ordinary` would give, without building the list.
    fn count_tokens(&self, py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<usize> {
        let text = text_of(text)?;
        py.detach(|| self.inner.count_tokens(&text)).map_err(to_py)
    }

    fn encode_bytes<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
        let ids = py.detach(|| self.inner.encode_bytes(data)).map_err(to_py)?;
        self.id_list(py, &ids)
    }

    #[pyo3(signature = (texts, allowed_special, disallowed_special, num_threads=None))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        allowed_special: Option<Vec<String>>,
        disallowed_special: Option<Vec<String>>,
        num_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let a = allowed(&self.inner, &allowed_special);
        let d = allowed(&self.inner, &disallowed_special);
        self.batch_lists(py, texts, a, d, num_threads)
    }

    fn decode_bytes<'py>(
        &self,
        py: Python<'py>,
        ids: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ids = ids_of(&self.inner, ids)?;
        let bytes = py.detach(|| self.inner.decode_bytes(&ids)).map_err(to_py)?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn decode_single_token_bytes<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let id = id_of(&self.inner, id, None)?;
        let b = self
            .inner
            .token_bytes(id)
            .ok_or_else(|| to_py(self.inner.invalid_id(id as i64)))?;
        Ok(PyBytes::new(py, b))
    }

    /// Validates ids (TypeError / ValueError as for decode) and returns them as a list.
    fn check_ids(&self, ids: &Bound<'_, PyAny>) -> PyResult<Vec<u32>> {
        ids_of(&self.inner, ids)
    }

    #[getter]
    fn n_vocab(&self) -> usize {
        self.inner.n_vocab()
    }

    #[getter]
    fn pattern(&self) -> &str {
        self.inner.pattern()
    }

    #[getter]
    fn special_tokens(&self) -> Vec<(String, u32)> {
        self.inner.special_tokens().to_vec()
    }

    /// Whether the tokenizer was built from (or trained into) merges rather than ranks.
    #[getter]
    fn has_merges(&self) -> bool {
        self.inner.has_merges()
    }

    /// `[(id, bytes)]` for every assigned id, special tokens included.
    fn vocab<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items: Vec<(u32, Bound<'py, PyBytes>)> = self
            .inner
            .vocab()
            .map(|(i, b)| (i, PyBytes::new(py, b)))
            .collect();
        PyList::new(py, items)
    }

    /// `[(left, right)]` in merge order.
    fn merges<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let merges = py.detach(|| self.inner.merges());
        let items: Vec<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> = merges
            .iter()
            .map(|(a, b)| (PyBytes::new(py, a), PyBytes::new(py, b)))
            .collect();
        PyList::new(py, items)
    }

    /// `{bytes: rank}` of the mergeable (non-special) tokens.
    fn ranks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.inner.ranks() {
            d.set_item(PyBytes::new(py, k), self.inner.rank_id(*v))?;
        }
        Ok(d)
    }
}

/// Documents taken from a Python iterable per batch (counted on a worker thread while the next batch is read).
const ITER_BATCH_BYTES: usize = 8 << 20;
const ITER_BATCH_DOCS: usize = 4096;

/// Checks for Ctrl-C and calls `progress(n)` (if any), with the GIL.
fn report(py: Python<'_>, progress: &Option<Py<PyAny>>, n: u64) -> PyResult<()> {
    py.check_signals()?;
    if let Some(cb) = progress {
        cb.call1(py, (n,))?;
    }
    Ok(())
}

/// How texts are counted: the pre-tokenizer, special tokens, thread pool and file-reading options.
struct CountConfig {
    pretok: PreTokenizer,
    specials: SpecialTokens,
    pool: Pool,
    errors: Utf8Errors,
    chunk_bytes: usize,
}

/// Streams one file into `counts`, GIL released, calling `progress(bytes)` after each chunk with the GIL (which
/// also checks for Ctrl-C).
fn count_file(
    py: Python<'_>,
    counts: &mut PretokenCounts,
    cfg: &CountConfig,
    path: PathBuf,
    progress: &Option<Py<PyAny>>,
) -> PyResult<()> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(&path).map_err(|e| {
        let message = format!("{shown}: {e}");
        match e.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
            _ => PyOSError::new_err(message),
        }
    })?;
    let mut reader = ChunkReader::new(
        file,
        shown,
        cfg.chunk_bytes,
        cfg.errors,
        &cfg.pretok,
        &cfg.specials,
    );
    let mut failure: Option<PyErr> = None;
    let mut last = 0u64;
    let result = py.detach(|| {
        let mut on_chunk = |read: u64| -> bool {
            let delta = read - last;
            last = read;
            Python::attach(|py| match report(py, progress, delta) {
                Ok(()) => true,
                Err(e) => {
                    failure = Some(e);
                    false
                }
            })
        };
        run_in(&cfg.pool, || {
            counts.add_reader(&mut reader, &cfg.pretok, &cfg.specials, &mut on_chunk)
        })
    });
    match result {
        Ok(()) => Ok(()),
        Err(Error::Interrupted) => {
            Err(failure.unwrap_or_else(|| PyKeyboardInterrupt::new_err("counting interrupted")))
        }
        Err(e) => Err(to_py(e)),
    }
}

/// Pre-token counts being accumulated from texts and files (streamed), and training from them.
#[pyclass(module = "bytepair._core", name = "Counts")]
struct PyCounts {
    counts: PretokenCounts,
    cfg: CountConfig,
}

impl PyCounts {
    fn build(
        counts: PretokenCounts,
        num_threads: Option<usize>,
        errors: &str,
        chunk_bytes: Option<usize>,
    ) -> PyResult<Self> {
        let pretok = PreTokenizer::new(counts.pattern()).map_err(to_py)?;
        let specials = SpecialTokens::new(
            counts
                .special_tokens()
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), i as u32))
                .collect(),
        )
        .map_err(to_py)?;
        let errors = match errors {
            "strict" => Utf8Errors::Strict,
            "replace" => Utf8Errors::Replace,
            other => {
                return Err(BytepairError::new_err(format!(
                    "errors must be 'strict' or 'replace', got {other:?}"
                )))
            }
        };
        if chunk_bytes == Some(0) {
            return Err(BytepairError::new_err("chunk_bytes must be at least 1"));
        }
        Ok(Self {
            counts,
            cfg: CountConfig {
                pretok,
                specials,
                pool: shared_pool(num_threads)?,
                errors,
                chunk_bytes: chunk_bytes.unwrap_or(DEFAULT_CHUNK_BYTES),
            },
        })
    }
}

type Job<'s> = std::thread::ScopedJoinHandle<'s, (&'s mut PretokenCounts, Result<(), Error>, u64)>;

/// Waits (GIL released) for the batch being counted, puts the counts back in `slot`, reports its bytes.
/// The counts table handed back by [`wait_job`] (always there after it returned `Ok`; an error, not a panic, if
/// that ever did not hold).
fn counts_back<T>(slot: Option<T>) -> PyResult<T> {
    slot.ok_or_else(|| {
        pyo3::exceptions::PyRuntimeError::new_err(
            "internal error: the counts table was not handed back",
        )
    })
}

fn wait_job<'s>(
    py: Python<'_>,
    job: &mut Option<Job<'s>>,
    slot: &mut Option<&'s mut PretokenCounts>,
    progress: &Option<Py<PyAny>>,
) -> PyResult<()> {
    if let Some(h) = job.take() {
        let (c, r, n) = py
            .detach(|| h.join())
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        *slot = Some(c);
        r.map_err(to_py)?;
        report(py, progress, n)?;
    }
    Ok(())
}

#[pymethods]
impl PyCounts {
    #[new]
    #[pyo3(signature = (pattern, special_tokens, num_threads=None, errors="strict", chunk_bytes=None))]
    fn new(
        pattern: &str,
        special_tokens: Vec<String>,
        num_threads: Option<usize>,
        errors: &str,
        chunk_bytes: Option<usize>,
    ) -> PyResult<Self> {
        let pattern = bytepair_core::pretokenize::resolve_pattern(pattern).to_string();
        Self::build(
            PretokenCounts::with_config(&pattern, special_tokens),
            num_threads,
            errors,
            chunk_bytes,
        )
    }

    /// Counts the pre-tokens of a batch of documents (a list of str) with the GIL released.
    fn add_texts(&mut self, py: Python<'_>, texts: &Bound<'_, PyAny>) -> PyResult<()> {
        let _purge = PurgeNow::new();
        let texts = texts_of(texts)?;
        let (counts, cfg) = (&mut self.counts, &self.cfg);
        py.detach(|| {
            run_in(&cfg.pool, || {
                counts.add_texts(&texts, &cfg.pretok, &cfg.specials)
            })
        })
        .map_err(to_py)
    }

    /// Streams a UTF-8 file into the counts (the file is one document; special tokens split it). Memory stays
    /// bounded by the chunk size (and the longest stretch without a safe cut). `progress(n)` gets the bytes read
    /// since the last call.
    #[pyo3(signature = (path, progress=None))]
    fn add_file(
        &mut self,
        py: Python<'_>,
        path: PathBuf,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let _purge = PurgeNow::new();
        count_file(py, &mut self.counts, &self.cfg, path, &progress)
    }

    /// Counts an iterable of documents (str) and files (os.PathLike). Documents are taken in batches; each batch
    /// is counted on a worker thread (GIL released) while the next one is read from Python. `progress(n)` gets the
    /// bytes counted since the last call.
    #[pyo3(signature = (data, progress=None))]
    fn add_iterable(
        &mut self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let _purge = PurgeNow::new();
        let iter = data.try_iter()?;
        let os = py.import("os")?;
        let path_like = os.getattr("PathLike")?;
        let fspath = os.getattr("fspath")?;
        let (counts, cfg) = (&mut self.counts, &self.cfg);
        std::thread::scope(|scope| -> PyResult<()> {
            let mut slot: Option<&mut PretokenCounts> = Some(counts);
            let mut job: Option<Job<'_>> = None;
            let mut batch: Vec<String> = Vec::new();
            let mut size = 0usize;
            for (i, item) in iter.enumerate() {
                let item = item?;
                if let Ok(s) = item.cast::<PyString>() {
                    let t = text_of(s)?.into_owned();
                    size += t.len();
                    batch.push(t);
                    if size >= ITER_BATCH_BYTES || batch.len() >= ITER_BATCH_DOCS {
                        wait_job(py, &mut job, &mut slot, &progress)?;
                        let c = counts_back(slot.take())?;
                        let docs = std::mem::take(&mut batch);
                        let n = std::mem::take(&mut size) as u64;
                        job = Some(scope.spawn(move || {
                            let r = run_in(&cfg.pool, || {
                                c.add_texts(&docs, &cfg.pretok, &cfg.specials)
                            });
                            (c, r, n)
                        }));
                    }
                } else if item.is_instance(&path_like)? {
                    let path: PathBuf = fspath.call1((&item,))?.extract()?;
                    wait_job(py, &mut job, &mut slot, &progress)?;
                    let c = counts_back(slot.as_deref_mut())?;
                    count_file(py, c, cfg, path, &progress)?;
                } else {
                    return Err(PyTypeError::new_err(format!(
                        "training data item {i} is of type {}; expected str (a document) or os.PathLike (a file)",
                        item.get_type().name()?
                    )));
                }
            }
            wait_job(py, &mut job, &mut slot, &progress)?;
            if !batch.is_empty() {
                let c = counts_back(slot.take())?;
                let n = size as u64;
                py.detach(|| {
                    run_in(&cfg.pool, || {
                        c.add_texts(&batch, &cfg.pretok, &cfg.specials)
                    })
                })
                .map_err(to_py)?;
                report(py, &progress, n)?;
            }
            Ok(())
        })
    }

    /// Adds the counts of `other` (same pattern and special tokens, else BytepairError).
    fn merge(&mut self, other: &PyCounts) -> PyResult<()> {
        let _purge = PurgeNow::new();
        self.counts.merge(&other.counts).map_err(to_py)
    }

    /// A copy of the table (for `a + b`).
    fn copy(&self) -> PyResult<Self> {
        Self::build(self.counts.clone(), None, "strict", None)
    }

    fn __len__(&self) -> usize {
        self.counts.len()
    }

    /// Total number of pre-tokens counted.
    #[getter]
    fn total(&self) -> u64 {
        self.counts.total()
    }

    /// The pattern (regex) the counts were made with.
    #[getter]
    fn pattern(&self) -> &str {
        self.counts.pattern()
    }

    /// The special tokens the texts were split at.
    #[getter]
    fn special_tokens(&self) -> Vec<String> {
        self.counts.special_tokens().to_vec()
    }

    /// The `n` most frequent pre-tokens as `[(bytes, count)]`, most frequent first (ties by bytes).
    fn most_common<'py>(&self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyList>> {
        let items: Vec<(Bound<'py, PyBytes>, u64)> = self
            .counts
            .most_common(n)
            .into_iter()
            .map(|(b, c)| (PyBytes::new(py, b), c))
            .collect();
        PyList::new(py, items)
    }

    /// Every entry as `[(bytes, count)]` (unordered).
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items: Vec<(Bound<'py, PyBytes>, u64)> = self
            .counts
            .counts()
            .iter()
            .map(|(b, c)| (PyBytes::new(py, b), *c))
            .collect();
        PyList::new(py, items)
    }

    /// The serialized table (versioned binary format).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let b = py.detach(|| self.counts.to_bytes());
        PyBytes::new(py, &b)
    }

    /// Reads what `to_bytes` wrote; FormatError when corrupt.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let counts = py
            .detach(|| PretokenCounts::from_bytes(data))
            .map_err(to_py)?;
        Self::build(counts, None, "strict", None)
    }

    fn __eq__(&self, other: &PyCounts) -> bool {
        self.counts == other.counts
    }

    /// Learns the merges and returns the tokenizer. `progress(done, total)` is called from time to time (with the
    /// GIL); Ctrl-C raises KeyboardInterrupt promptly. With `consume`, the table is handed to the trainer (and
    /// this object left empty) so its memory is freed before the merge loop runs.
    #[pyo3(signature = (vocab_size, special_tokens, min_frequency=1, max_token_length=None, progress=None, consume=false))]
    #[allow(clippy::too_many_arguments)]
    fn train(
        &mut self,
        py: Python<'_>,
        vocab_size: usize,
        special_tokens: Vec<String>,
        min_frequency: u64,
        max_token_length: Option<usize>,
        progress: Option<Py<PyAny>>,
        consume: bool,
    ) -> PyResult<PyTokenizer> {
        let _purge = PurgeNow::new();
        let opts = TrainOptions {
            vocab_size,
            special_tokens,
            min_frequency,
            max_token_length,
        };
        train::check_options(&opts).map_err(to_py)?;
        let pattern = self.counts.pattern().to_string();
        let special = self.counts.special_tokens().to_vec();
        let mut callback_error: Option<PyErr> = None;
        let trained = py.detach(|| {
            let mut on_merges = |done: usize, total: usize| -> bool {
                Python::attach(|py| {
                    if let Err(e) = py.check_signals() {
                        callback_error = Some(e);
                        return false;
                    }
                    if let Some(cb) = &progress {
                        if let Err(e) = cb.call1(py, (done, total)) {
                            callback_error = Some(e);
                            return false;
                        }
                    }
                    true
                })
            };
            if consume {
                let owned = std::mem::replace(
                    &mut self.counts,
                    PretokenCounts::with_config(&pattern, special.clone()),
                );
                train::train_owned(owned, &opts, &mut on_merges)
            } else {
                train::train(&self.counts, &opts, &mut on_merges)
            }
        });
        let trained = match trained {
            Ok(t) => t,
            Err(Error::Interrupted) => {
                return Err(callback_error
                    .unwrap_or_else(|| PyKeyboardInterrupt::new_err("training interrupted")))
            }
            Err(e) => return Err(to_py(e)),
        };
        let inner = py
            .detach(move || {
                Tokenizer::from_vocab_merges(
                    trained.vocab,
                    trained.merges,
                    trained.special_tokens,
                    &pattern,
                )
            })
            .map_err(to_py)?;
        Ok(PyTokenizer::new(inner))
    }
}

/// Pre-tokenizes `text` with a pattern (name or regex); `use_regex` forces the regex engine even for the built-in
/// patterns (which otherwise use the hand-written scanner; the two give identical pieces).
#[pyfunction]
#[pyo3(signature = (text, pattern, use_regex=false))]
fn pretokenize(
    py: Python<'_>,
    text: &Bound<'_, PyString>,
    pattern: &str,
    use_regex: bool,
) -> PyResult<Vec<String>> {
    let text = text_of(text)?;
    let pretok = PreTokenizer::new(pattern).map_err(to_py)?;
    py.detach(|| {
        let mut out = Vec::new();
        let r = if use_regex {
            pretok.split_regex(&text, |p| out.push(p.to_string()))
        } else {
            pretok.split(&text, |p| out.push(p.to_string()))
        };
        r.map(|_| out)
    })
    .map_err(to_py)
}

/// Empties every thread's piece cache (see `bytepair_core::tokenizer::clear_piece_caches`).
#[pyfunction]
fn clear_piece_caches() {
    bytepair_core::tokenizer::clear_piece_caches();
}

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("BytepairError", py.get_type::<BytepairError>())?;
    m.add(
        "DisallowedSpecialError",
        py.get_type::<DisallowedSpecialError>(),
    )?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    m.add_class::<PyTokenizer>()?;
    m.add_class::<PyCounts>()?;
    m.add_function(wrap_pyfunction!(pretokenize, m)?)?;
    m.add_function(wrap_pyfunction!(clear_piece_caches, m)?)?;
    let patterns = PyDict::new(py);
    for (name, pat) in bytepair_core::pretokenize::BUILTIN_PATTERNS {
        patterns.set_item(name, pat)?;
    }
    m.add("PATTERNS", patterns)?;
    formats::register(m)?;
    Ok(())
}
