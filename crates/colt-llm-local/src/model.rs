//! The model itself: a dedicated thread owns the llama.cpp model and context.
//!
//! `LlamaContext<'a>` borrows the `LlamaModel` and is not `Send`, so instead of a
//! self-referential struct with `unsafe impl Send`, each [`LocalModel`] spawns one worker
//! thread that owns both and serves requests over a channel. `LocalModel` itself holds only
//! the channel, which is `Send`, so the search can call it from any thread.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::{LogOptions, send_logs_to_tracing};

use crate::config::LocalModelConfig;
use crate::error::LocalError;
use crate::kvstore;

/// Text the answer's grammar forces after what was generated so far, and whether the
/// answer is then complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forced {
    /// Characters every valid continuation starts with (empty: nothing forced).
    pub text: String,
    /// Nothing may follow `text`: generation ends without sampling another token.
    pub complete: bool,
}

/// Tells the model what its grammar forces after the text generated so far (see
/// [`CompletionRequest::forcing`]). Must only return text the grammar admits.
#[derive(Clone)]
pub struct Forcing(std::sync::Arc<dyn Fn(&str) -> Forced + Send + Sync>);

impl Forcing {
    /// Wraps the function from generated text to forced text.
    pub fn new(f: impl Fn(&str) -> Forced + Send + Sync + 'static) -> Forcing {
        Forcing(std::sync::Arc::new(f))
    }
}

impl std::fmt::Debug for Forcing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Forcing(..)")
    }
}

impl PartialEq for Forcing {
    fn eq(&self, other: &Forcing) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// One completion: the prompt is `stem + prefix + record + suffix`, as plain text.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
    /// Start of the prompt, shared by the prompts of other workloads too (instructions,
    /// action catalog, models); the model's BOS token is added in front of it. Tokenised
    /// on its own, and its KV state is stored apart from the prefix's (with a
    /// [`crate::LocalModelConfig::kv_dir`]), so the first call about a new workload
    /// evaluates only what follows it. May be empty.
    pub stem: String,
    /// The rest of the stable start of the prompt (the workload), tokenised on its own.
    /// Keep the part shared between calls here so its KV cache is reused.
    pub prefix: String,
    /// An append-only middle part (e.g. a shared search record), tokenised line by line
    /// (no BOS) so that appending lines never changes the tokens of the lines before:
    /// the KV entries of everything a previous call held stay valid.
    pub record: String,
    /// Rest of the prompt (tokenised separately, no BOS).
    pub suffix: String,
    /// GBNF grammar with a rule named `root`; `None` for free text.
    pub grammar: Option<String>,
    /// Upper bound on generated tokens.
    pub max_tokens: u32,
    /// 0 means greedy decoding.
    pub temperature: f32,
    /// Seed of the sampling distribution (unused when greedy).
    pub seed: u32,
    /// Give up (with [`LocalError::Timeout`]) once prompt evaluation and generation have
    /// taken this long; checked between decode steps. `None`: no limit.
    pub time_limit: Option<Duration>,
    /// Jump-forward decoding: after each sampled token, the text the grammar forces is
    /// appended and decoded with it in one batch (its tokens are fed to the grammar, not
    /// sampled), and generation ends as soon as the answer is complete. `None`: every
    /// token is sampled.
    pub forcing: Option<Forcing>,
}

impl Default for CompletionRequest {
    fn default() -> Self {
        CompletionRequest {
            stem: String::new(),
            prefix: String::new(),
            record: String::new(),
            suffix: String::new(),
            grammar: None,
            max_tokens: 128,
            temperature: 0.0,
            seed: 0,
            time_limit: None,
            forcing: None,
        }
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Finish {
    /// End-of-generation token (with a grammar: the grammar was complete).
    Stop,
    /// `max_tokens` reached.
    Length,
}

/// The answer and its accounting.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Generated text, without the end-of-generation token.
    pub text: String,
    /// Tokens in the prompt (BOS included).
    pub prompt_tokens: u32,
    /// Prompt tokens whose KV entries were kept from the previous call.
    pub reused_tokens: u32,
    /// `prompt_tokens - reused_tokens`: tokens evaluated for this prompt.
    pub evaluated_tokens: u32,
    /// Generated tokens (end-of-generation not counted), forced ones included.
    pub output_tokens: u32,
    /// Of those, tokens appended because the grammar forced them (not sampled).
    pub forced_tokens: u32,
    /// Wall time of prompt evaluation.
    pub prompt_ms: f64,
    /// Wall time of generation (sampling and decoding of generated tokens).
    pub gen_ms: f64,
    /// Why generation stopped.
    pub finish: Finish,
}

type Reply = mpsc::Sender<Result<Completion, LocalError>>;

/// An in-process llama.cpp model with a persistent KV cache (one sequence).
pub struct LocalModel {
    jobs: Option<mpsc::Sender<(CompletionRequest, Reply)>>,
    worker: Option<JoinHandle<()>>,
    n_params: u64,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("n_params", &self.n_params)
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Loads the GGUF file and creates a context; blocks until ready.
    pub fn load(cfg: &LocalModelConfig) -> Result<LocalModel, LocalError> {
        if !cfg.path.is_file() {
            return Err(LocalError::ModelMissing {
                path: cfg.path.clone(),
            });
        }
        let mut cfg = cfg.clone();
        if cfg.q4_0 {
            // A folder the conversion cannot be written to costs speed, not the run.
            match crate::requant::ensure_q4_0(&cfg.path, cfg.n_threads_batch) {
                Ok(p) => cfg.path = p,
                Err(e) => tracing::warn!("{e}; loading {} as it is", cfg.path.display()),
            }
        }
        let (ready_tx, ready_rx) = mpsc::channel();
        let (jobs_tx, jobs_rx) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("colt-llm-local".into())
            .spawn(move || worker(cfg, ready_tx, jobs_rx))
            .map_err(|e| LocalError::Load(format!("cannot spawn model thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(n_params)) => Ok(LocalModel {
                jobs: Some(jobs_tx),
                worker: Some(worker),
                n_params,
            }),
            Ok(Err(e)) => {
                let _ = worker.join();
                Err(e)
            }
            Err(_) => {
                let _ = worker.join();
                Err(LocalError::Load("model thread exited during load".into()))
            }
        }
    }

    /// Runs one completion, reusing the KV cache of the longest common token prefix with
    /// the previous call.
    pub fn complete(&mut self, req: &CompletionRequest) -> Result<Completion, LocalError> {
        let dead = || LocalError::Decode("model thread is gone".into());
        let (tx, rx) = mpsc::channel();
        self.jobs
            .as_ref()
            .ok_or_else(dead)?
            .send((req.clone(), tx))
            .map_err(|_| dead())?;
        rx.recv().map_err(|_| dead())?
    }

    /// Number of parameters, as llama.cpp counts them.
    pub fn param_count(&self) -> u64 {
        self.n_params
    }
}

impl Drop for LocalModel {
    fn drop(&mut self) {
        drop(self.jobs.take()); // ends the worker's loop
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// The process-wide backend, initialised once. llama.cpp logs are discarded unless
/// `COLT_LLAMA_LOG` is set (non-empty, not "0"), in which case they go to `tracing`.
pub(crate) fn backend() -> Result<&'static LlamaBackend, LocalError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let on = std::env::var("COLT_LLAMA_LOG").is_ok_and(|v| !v.is_empty() && v != "0");
            send_logs_to_tracing(LogOptions::default().with_logs_enabled(on));
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LocalError::Load(format!("llama backend: {e}")))
}

fn worker(
    cfg: LocalModelConfig,
    ready: mpsc::Sender<Result<u64, LocalError>>,
    jobs: mpsc::Receiver<(CompletionRequest, Reply)>,
) {
    let loaded = backend().and_then(|b| {
        LlamaModel::load_from_file(b, &cfg.path, &LlamaModelParams::default())
            .map(|m| (b, m))
            .map_err(|e| LocalError::Load(format!("{}: {e}", cfg.path.display())))
    });
    let (backend, model) = match loaded {
        Ok(x) => x,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let n_batch = cfg.n_batch.max(1);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(cfg.n_ctx))
        .with_n_batch(n_batch)
        .with_n_ubatch(n_batch)
        .with_n_threads(cfg.n_threads.max(1))
        .with_n_threads_batch(cfg.n_threads_batch.max(1))
        // Gemma 3 uses sliding-window attention; a full-size SWA cache keeps the old
        // positions, so rolling back to any common prefix stays valid.
        .with_swa_full(true);
    let ctx = match model.new_context(backend, params) {
        Ok(ctx) => ctx,
        Err(e) => {
            let _ = ready.send(Err(LocalError::Load(format!("context: {e}"))));
            return;
        }
    };
    let mut engine = Engine {
        model: &model,
        n_ctx: ctx.n_ctx(),
        ctx,
        n_batch,
        cached: Vec::new(),
        kv_dir: cfg.kv_dir.clone(),
        model_path: cfg.path.clone(),
        kv_looked: false,
    };
    if ready.send(Ok(model.n_params())).is_err() {
        return;
    }
    for (req, reply) in jobs {
        let _ = reply.send(engine.complete(&req));
    }
}

/// Lives on the worker thread: the context and the tokens whose KV entries it holds.
struct Engine<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    n_ctx: u32,
    n_batch: u32,
    /// Tokens at KV positions `0..cached.len()` of sequence 0.
    cached: Vec<LlamaToken>,
    /// Where prompt states are kept between processes (see [`crate::kvstore`]).
    kv_dir: Option<PathBuf>,
    model_path: PathBuf,
    /// Whether the first call has looked for a stored state.
    kv_looked: bool,
}

/// Where a call stores prompt states (see [`crate::kvstore`]): the stem's, evaluated
/// alone first, when no stored state held it; the prefix's, after the call, when none
/// held that.
#[derive(Default)]
struct Saves {
    stem: Option<PathBuf>,
    prefix: Option<PathBuf>,
}

impl Engine<'_> {
    fn complete(&mut self, req: &CompletionRequest) -> Result<Completion, LocalError> {
        let vocab = self.model.vocab();
        let (prompt, n_stem, n_prefix) = self.tokenize(req);
        let n_prompt = prompt.len() as u32;
        let needed = n_prompt.saturating_add(req.max_tokens);
        if needed > self.n_ctx {
            return Err(LocalError::ContextOverflow {
                needed,
                n_ctx: self.n_ctx,
            });
        }
        let mut sampler = self.sampler(req)?;
        let started = Instant::now();
        let saves = self.restore(&prompt[..n_stem], &prompt[..n_prefix]);
        let check_time = || match req.time_limit {
            Some(limit) if started.elapsed() > limit => Err(LocalError::Timeout {
                ms: limit.as_millis() as u64,
            }),
            _ => Ok(()),
        };

        let t_prompt = Instant::now();
        let mut batch = LlamaBatch::new(self.n_batch as usize, 1);
        // A stem that no stored state holds yet is evaluated alone and stored first, so
        // that the next workload's first call starts from it.
        let stem_reuse = match &saves.stem {
            Some(path) => {
                let r = self.evaluate_prompt(&prompt[..n_stem], &mut batch, &check_time)?;
                self.save(path);
                Some(r)
            }
            None => None,
        };
        let reuse = self.evaluate_prompt(&prompt, &mut batch, &check_time)?;
        let reuse = stem_reuse.unwrap_or(reuse);
        let prompt_ms = t_prompt.elapsed().as_secs_f64() * 1e3;

        let t_gen = Instant::now();
        let (out, forced, finish) = self.generate(&mut sampler, &mut batch, req, &check_time)?;
        let gen_ms = t_gen.elapsed().as_secs_f64() * 1e3;

        if let Some(path) = saves.prefix {
            self.save(&path);
        }
        let text = String::from_utf8_lossy(&vocab.detokenize(&out, false, false)).into_owned();
        Ok(Completion {
            text,
            prompt_tokens: n_prompt,
            reused_tokens: reuse as u32,
            evaluated_tokens: n_prompt - reuse as u32,
            output_tokens: out.len() as u32,
            forced_tokens: forced as u32,
            prompt_ms,
            gen_ms,
            finish,
        })
    }

    /// The prompt's tokens, how many of them are the stem's, and how many the stem's and
    /// the prefix's together. Stem, prefix and suffix are tokenised separately, so a
    /// shared stem or prefix always gives the same tokens whatever follows it.
    /// Special-token text is not parsed (plain text).
    fn tokenize(&self, req: &CompletionRequest) -> (Vec<LlamaToken>, usize, usize) {
        let vocab = self.model.vocab();
        let mut prompt = vocab.tokenize(req.stem.as_bytes(), true, false);
        // Without a stem, the BOS token (if the model adds one) is all it holds.
        let n_stem = if req.stem.is_empty() { 0 } else { prompt.len() };
        prompt.extend(vocab.tokenize(req.prefix.as_bytes(), false, false));
        let n_prefix = prompt.len();
        for line in req.record.split_inclusive('\n') {
            prompt.extend(vocab.tokenize(line.as_bytes(), false, false));
        }
        prompt.extend(vocab.tokenize(req.suffix.as_bytes(), false, false));
        if prompt.is_empty() {
            prompt.push(vocab.bos());
        }
        (prompt, n_stem, n_prefix)
    }

    /// Bring the KV cache to `prompt` (which must not be empty), evaluating what is not
    /// cached in batches; returns how many tokens were reused.
    fn evaluate_prompt(
        &mut self,
        prompt: &[LlamaToken],
        batch: &mut LlamaBatch,
        check_time: &dyn Fn() -> Result<(), LocalError>,
    ) -> Result<usize, LocalError> {
        // Keep the common prefix, but always re-evaluate the last prompt token for logits.
        let mut reuse = common_prefix(&self.cached, prompt).min(prompt.len() - 1);
        if self
            .ctx
            .kv_cache_seq_rm(0, Some(reuse as u32), None)
            .is_err()
        {
            self.ctx.clear_kv_cache();
            reuse = 0;
        }
        self.cached.truncate(reuse);

        for chunk in prompt[reuse..].chunks(self.n_batch as usize) {
            check_time()?;
            batch.clear();
            for (i, &tok) in chunk.iter().enumerate() {
                let pos = self.cached.len() + i;
                self.add(batch, tok, pos, pos + 1 == prompt.len())?;
            }
            self.decode(batch)?;
            self.cached.extend_from_slice(chunk);
        }
        Ok(reuse)
    }

    /// Sample up to `req.max_tokens` tokens after the evaluated prompt; the tokens, how
    /// many of them were forced (see [`CompletionRequest::forcing`]) and why generation
    /// stopped.
    fn generate(
        &mut self,
        sampler: &mut Sampler,
        batch: &mut LlamaBatch,
        req: &CompletionRequest,
        check_time: &dyn Fn() -> Result<(), LocalError>,
    ) -> Result<(Vec<LlamaToken>, usize, Finish), LocalError> {
        let vocab = self.model.vocab();
        let max = req.max_tokens as usize;
        let mut out = Vec::new();
        // Appended to `out`, not decoded yet (decoded together before the next draw).
        let mut pending: Vec<LlamaToken> = Vec::new();
        let mut forced_n = 0;
        let mut complete = self.force(sampler, req, &mut out, &mut pending, &mut forced_n);
        let mut finish = Finish::Length;
        loop {
            if complete {
                finish = Finish::Stop;
                break; // nothing may follow: no logits needed (the next call trims the cache)
            }
            if out.len() >= max {
                break; // its logits are not needed; the next call trims the cache anyway
            }
            if !pending.is_empty() {
                batch.clear();
                for (i, &t) in pending.iter().enumerate() {
                    let pos = self.cached.len() + i;
                    self.add(batch, t, pos, i + 1 == pending.len())?;
                }
                self.decode(batch)?;
                self.cached.append(&mut pending);
            }
            check_time()?;
            let tok = sampler.next(&self.ctx, self.model)?;
            if vocab.is_eog(tok) {
                finish = Finish::Stop;
                break;
            }
            out.push(tok);
            pending.push(tok);
            complete = self.force(sampler, req, &mut out, &mut pending, &mut forced_n);
        }
        Ok((out, forced_n, finish))
    }

    /// Appends what `req.forcing` says the grammar forces after `out` (to `out` and
    /// `pending`, fed to the grammar, counted in `forced_n`) when it fits in
    /// `req.max_tokens`; whether the answer is then complete.
    fn force(
        &self,
        sampler: &mut Sampler,
        req: &CompletionRequest,
        out: &mut Vec<LlamaToken>,
        pending: &mut Vec<LlamaToken>,
        forced_n: &mut usize,
    ) -> bool {
        let Some(forcing) = &req.forcing else {
            return false;
        };
        let vocab = self.model.vocab();
        let so_far = String::from_utf8_lossy(&vocab.detokenize(out, false, false)).into_owned();
        let f = (forcing.0)(&so_far);
        let toks = self.forced_tokens(&f.text);
        let spelled = toks.is_empty() == f.text.is_empty();
        let fits = out.len() + toks.len() <= req.max_tokens as usize;
        if !spelled || !fits || !sampler.accept_all(&toks) {
            return false;
        }
        *forced_n += toks.len();
        out.extend_from_slice(&toks);
        pending.extend_from_slice(&toks);
        f.complete
    }

    /// The tokens of forced `text`, or none when they do not spell it exactly.
    fn forced_tokens(&self, text: &str) -> Vec<LlamaToken> {
        if text.is_empty() {
            return Vec::new();
        }
        let vocab = self.model.vocab();
        let toks = vocab.tokenize(text.as_bytes(), false, false);
        let back = vocab.detokenize(&toks, false, false);
        if back == text.as_bytes() {
            toks
        } else {
            Vec::new()
        }
    }

    /// On the first call: loads the stored state of this prefix, else of this stem (a
    /// state is used only if its tokens start with what it stands for). Returns where to
    /// save the states this call should store (see [`Saves`]).
    fn restore(&mut self, stem: &[LlamaToken], prefix: &[LlamaToken]) -> Saves {
        if std::mem::replace(&mut self.kv_looked, true) || !self.cached.is_empty() {
            return Saves::default();
        }
        let Some(full) = self.state_path(prefix) else {
            return Saves::default();
        };
        if self.load_state(&full, prefix) {
            return Saves::default();
        }
        // A stem as long as the prefix has no state of its own.
        if stem.is_empty() || stem.len() == prefix.len() {
            return Saves {
                stem: None,
                prefix: Some(full),
            };
        }
        let stem_path = self.state_path(stem);
        let stem_loaded = stem_path.as_ref().is_some_and(|p| self.load_state(p, stem));
        Saves {
            stem: stem_path.filter(|_| !stem_loaded),
            prefix: Some(full),
        }
    }

    /// Where the stored state of a prompt starting with `toks` lives (`None` without a
    /// state folder).
    fn state_path(&self, toks: &[LlamaToken]) -> Option<PathBuf> {
        let dir = self.kv_dir.as_ref()?;
        let ids: Vec<i32> = toks.iter().map(|t| t.0).collect();
        Some(kvstore::state_path(
            dir,
            &self.model_path,
            self.n_ctx,
            self.n_batch,
            &ids,
        ))
    }

    /// Loads the state at `path` if it exists and its tokens start with `want`; otherwise
    /// leaves the context empty.
    fn load_state(&mut self, path: &Path, want: &[LlamaToken]) -> bool {
        if !path.is_file() {
            return false;
        }
        match self.ctx.state_load_file(path, self.n_ctx as usize) {
            Ok(tokens) if tokens.len() >= want.len() && tokens[..want.len()] == *want => {
                tracing::debug!(path = %path.display(), tokens = tokens.len(), "prompt state restored");
                self.cached = tokens;
                kvstore::touch(path);
                true
            }
            other => {
                if let Err(e) = other {
                    tracing::debug!(path = %path.display(), "stored prompt state not loaded: {e}");
                }
                self.ctx.clear_kv_cache();
                self.cached.clear();
                false
            }
        }
    }

    /// Stores the context's state (prompt and answer tokens) for later processes; a
    /// failure costs only the next process's time.
    fn save(&self, path: &Path) {
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let tmp = kvstore::temp_path(path);
        let saved = self
            .ctx
            .state_save_file(&tmp, &self.cached)
            .map_err(|e| e.to_string())
            .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
        match saved {
            Ok(()) => kvstore::evict(dir, kvstore::KEEP),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                tracing::debug!(path = %path.display(), "prompt state not saved: {e}");
            }
        }
    }

    fn sampler(&self, req: &CompletionRequest) -> Result<Sampler, LocalError> {
        let grammar = match &req.grammar {
            Some(g) => Some(
                LlamaSampler::grammar(self.model, g, "root")
                    .map_err(|e| LocalError::Grammar(e.to_string()))?,
            ),
            None => None,
        };
        let pick = if req.temperature > 0.0 {
            LlamaSampler::chain_simple([
                LlamaSampler::temp(req.temperature),
                LlamaSampler::dist(req.seed),
            ])
        } else {
            LlamaSampler::greedy()
        };
        Ok(Sampler { grammar, pick })
    }

    fn add(
        &self,
        batch: &mut LlamaBatch,
        tok: LlamaToken,
        pos: usize,
        logits: bool,
    ) -> Result<(), LocalError> {
        batch
            .add(tok, pos as i32, &[0], logits)
            .map_err(|e| LocalError::Decode(e.to_string()))
    }

    /// Decodes a batch; on failure the KV state is unknown, so it is dropped entirely.
    fn decode(&mut self, batch: &mut LlamaBatch) -> Result<(), LocalError> {
        self.ctx.decode(batch).map_err(|e| {
            self.ctx.clear_kv_cache();
            self.cached.clear();
            LocalError::Decode(e.to_string())
        })
    }
}

/// How many of the most likely tokens the grammar masks before it masks the whole
/// vocabulary.
const GRAMMAR_TOP_K: i32 = 256;

/// Token choice with the grammar applied lazily (as llama.cpp's own `common_sampler`
/// does): draw from the unconstrained distribution, keep the token if the grammar admits
/// it, and only otherwise mask the whole vocabulary with the grammar and draw again.
/// When the draw is refused, the grammar masks the [`GRAMMAR_TOP_K`] most likely tokens
/// and the draw is repeated among the admitted ones; only if none of them is admitted is
/// the whole vocabulary masked. Masking all 262k tokens of Gemma's vocabulary at every
/// step made generation several times slower.
struct Sampler {
    grammar: Option<LlamaSampler>,
    /// Temperature + seeded draw, or greedy.
    pick: LlamaSampler,
}

impl Sampler {
    /// The next token from the logits of the last decoded position; the grammar's state
    /// advances past it (end-of-generation tokens are not fed to the grammar: they end
    /// the answer, and the grammar admitted them only if it was complete).
    fn next(
        &mut self,
        ctx: &LlamaContext<'_>,
        model: &LlamaModel,
    ) -> Result<LlamaToken, LocalError> {
        let none = || LocalError::Decode("the sampler selected no token".into());
        let candidates = || LlamaTokenDataArray::from_iter(ctx.candidates_ith(-1), false);
        let mut all = candidates();
        all.apply_sampler(&mut self.pick);
        let mut tok = all.selected_token().ok_or_else(none)?;
        if let Some(g) = &mut self.grammar {
            let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(tok, 1.0, 0.0)], false);
            one.apply_sampler(g);
            if one.data[0].logit() == f32::NEG_INFINITY {
                // Mask the most likely tokens first; the whole vocabulary only if none fits.
                let mut top = candidates();
                top.apply_sampler(&mut LlamaSampler::top_k(GRAMMAR_TOP_K));
                top.apply_sampler(g);
                // Keep the admitted tokens only; the array is no longer sorted (top-k
                // marked it so, and the draw would trust that).
                top.data.retain(|d| d.logit() > f32::NEG_INFINITY);
                top.sorted = false;
                top.selected = None;
                let mut masked = if !top.data.is_empty() {
                    top
                } else {
                    let mut all = candidates();
                    all.apply_sampler(g);
                    if all.data.iter().all(|d| d.logit() == f32::NEG_INFINITY) {
                        return Err(LocalError::Grammar(
                            "no token can continue the grammar".into(),
                        ));
                    }
                    all
                };
                masked.apply_sampler(&mut self.pick);
                tok = masked.selected_token().ok_or_else(none)?;
            }
            if !model.vocab().is_eog(tok) {
                g.try_accept(tok).map_err(|e| {
                    LocalError::Grammar(format!("grammar rejected the sampled token: {e}"))
                })?;
            }
        }
        Ok(tok)
    }
}

impl Sampler {
    /// Feeds forced tokens to the grammar; false (the grammar unchanged) when it would
    /// refuse one of them.
    fn accept_all(&mut self, toks: &[LlamaToken]) -> bool {
        let Some(g) = self.grammar.as_mut().filter(|_| !toks.is_empty()) else {
            return true;
        };
        // A refused token would leave the grammar half-advanced: try on a copy first.
        let mut probe = g.clone();
        if toks.iter().all(|&t| probe.try_accept(t).is_ok()) {
            *g = probe;
            true
        } else {
            false
        }
    }
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

// The search calls the model from a worker thread.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<LocalModel>();
};
