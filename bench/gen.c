/*
** gen.c -- a deterministic corpus of markdown notes for the benchmarks.
**
**   gen --seed S --size 200M --out DIR [--min-note 1K] [--max-note 200K]
**   gen --word RANK      print the vocabulary word at RANK (0 = commonest)
**
** The same seed and size give byte-identical output on every machine:
** everything comes from one xoshiro256** generator per note, seeded from
** (seed, note number), and nothing depends on the clock, the locale or
** the file system's order.  Notes are written one after another until
** their total reaches --size; the last one is cut to fit when it can.
**
** What a note looks like, and why:
**   - words follow a Zipf law (s = 1.0) over a fixed vocabulary of
**     VOCAB words: common English words on top, then the domain words and
**     technical tokens written out below (MoE, FSDP, reduce-scatter,
**     GPT-3.5, C++, v5e, ...) spread over the first few thousand ranks,
**     and pronounceable pseudo-words filling the long tail, so a corpus
**     has a few very common terms and many rare ones, as real text does.
**     Each note also leans on a couple of dozen "topic" words of its own,
**     which gives BM25 something to rank, and 0.5% of the words are made
**     up on the spot (names, typos, identifiers), so the vocabulary keeps
**     growing with the corpus as real text does and every size has words
**     found in only one or two notes.  The fixed vocabulary does not depend
**     on the seed, so a query word means the same thing in every corpus;
**   - sizes are log-normal (median 2x --min-note) clipped to
**     [--min-note, --max-note]: with the defaults, ~4.5 KB on average,
**     so 45 MB is ~9.7k notes, with a tail of 100-200 KB notes;
**   - structure: optional front matter (title, date, tags; 40% of notes),
**     an H1, ## and ### sections, paragraphs with **bold**, `code` and
**     #tags, bullet, numbered and task lists, fenced code blocks, quotes
**     and the odd table;
**   - 5-20 links per note of every kind md.c knows: inline, reference
**     (with definitions at the end), autolinks, bare URLs, wiki links and
**     relative links to earlier notes of the same corpus;
**   - folders tNN-word/word-NN/ of NOTES_PER_DIR notes each; 20% of the
**     file names start with a date.
** Speed: one pass, appending into a buffer, one write() per note; well
** over 100 MB/s on one core.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VOCAB 100000
#define NOTES_PER_DIR 100
#define DIRS_PER_TOP 10
#define VOCAB_SEED 0x636e7365617263ULL /* "cnsearc": the vocabulary is fixed */

/* ---- random numbers ----------------------------------------------- */

typedef struct rng {
  uint64_t s[4];
} rng;

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&x);
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

static inline uint64_t next64(rng *r) {
  uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

/* Uniform in [0, n). */
static inline uint32_t below(rng *r, uint32_t n) {
  return (uint32_t)(((next64(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static inline int range(rng *r, int lo, int hi) {
  return lo + (int)below(r, (uint32_t)(hi - lo + 1));
}

/* True with probability pct/100. */
static inline int chance(rng *r, unsigned pct) { return below(r, 100) < pct; }

static double unit(rng *r) { return (next64(r) >> 11) * (1.0 / 9007199254740992.0); }

static double gauss(rng *r) {
  double u = unit(r), v = unit(r);
  if (u < 1e-300) u = 1e-300;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- the vocabulary -------------------------------------------------- */

/* The commonest words, commonest first; they take ranks 0..N-1. */
static const char *const english[] = {
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as",
    "with", "on", "be", "this", "by", "are", "we", "from", "at", "an", "or",
    "not", "which", "can", "but", "have", "all", "when", "each", "one",
    "more", "than", "so", "if", "into", "only", "its", "also", "other",
    "then", "two", "use", "how", "our", "per", "time", "first", "new",
    "same", "after", "between", "both", "over", "most", "any", "some",
    "these", "much", "where", "about", "while", "still", "without",
    "because", "under", "there", "what", "does", "was", "will", "they",
    "you", "do", "no", "up", "out", "just", "like", "here", "now", "way",
    "less", "fast", "slow", "large", "small", "every", "next", "before",
    "three", "four", "half", "whole", "across", "through", "since",
    "until", "again", "always", "never", "often", "only", "even", "well",
    "high", "low", "good", "bad", "long", "short", "own", "few", "many",
    "need", "make", "take", "keep", "run", "see", "get", "set", "put",
    "give", "show", "find", "read", "write", "move", "call", "work",
};

/* Domain words: ordinary English that technical notes repeat. */
static const char *const domain[] = {
    "model", "training", "gradient", "memory", "layer", "tensor", "kernel",
    "batch", "throughput", "latency", "attention", "token", "compiler",
    "cache", "bandwidth", "shard", "weight", "optimizer", "checkpoint",
    "pipeline", "cluster", "node", "scheduler", "benchmark", "dataset",
    "loss", "precision", "accuracy", "inference", "parameter", "activation",
    "embedding", "quantization", "sparsity", "partition", "register",
    "vector", "matrix", "buffer", "queue", "thread", "process", "allocator",
    "network", "switch", "topology", "collective", "communication",
    "overlap", "step", "epoch", "sequence", "context", "window", "head",
    "expert", "router", "capacity", "routing", "decode", "prefill", "prompt",
    "sampling", "temperature", "vocabulary", "tokenizer", "corpus", "shuffle",
    "stride", "tile", "warp", "block", "grid", "occupancy", "stall",
    "fusion", "graph", "operator", "schedule", "lowering", "dialect", "pass",
    "profile", "trace", "timeline", "bottleneck", "roofline", "flop",
    "utilization", "efficiency", "scaling", "replica", "rank", "world",
    "group", "barrier", "stream", "event", "launch", "copy", "transfer",
    "host", "device", "driver", "firmware", "runtime", "library", "binary",
    "build", "release", "version", "patch", "regression", "bug", "fix",
    "issue", "review", "design", "proposal", "meeting", "notes", "summary",
    "result", "experiment", "baseline", "ablation", "sweep", "config",
    "option", "flag", "default", "setting", "limit", "budget", "cost",
    "price", "hour", "day", "week", "deadline", "owner", "team", "paper",
    "author", "figure", "table", "section", "appendix", "citation", "draft",
    "storage", "disk", "file", "format", "record", "index", "query",
    "search", "ranking", "filter", "prefix", "phrase", "regex", "match",
    "score", "snippet", "server", "client", "request", "response", "error",
    "retry", "timeout", "failure", "recovery", "restart", "preemption",
    "fault", "straggler", "heartbeat", "health", "monitor", "alert", "metric",
    "dashboard", "log", "counter", "histogram", "percentile", "median",
    "mean", "variance", "noise", "seed", "determinism", "reproducible",
    "compression", "decompression", "encoding", "serialization", "schema",
    "migration", "upgrade", "compatibility", "interface", "contract",
    "invariant", "assertion", "test", "coverage", "fuzzing", "sanitizer",
    "leak", "race", "deadlock", "lock", "mutex", "atomic", "fence",
    "ordering", "consistency", "replication", "consensus", "leader",
    "follower", "election", "quorum", "partitioning", "sharding",
    "placement", "affinity", "locality", "prefetch", "eviction", "miss",
    "hit", "page", "fault", "swap", "spill", "offload", "recompute",
};

/* Technical tokens, as they are written. */
static const char *const tech[] = {
    "MoE", "FSDP", "reduce-scatter", "all-reduce", "all-gather",
    "all-to-all", "GPT-3.5", "GPT-4", "C++", "C#", "F#", "v5e", "v4",
    "v5p", "H100", "A100", "B200", "MI300X", "TPU", "GPU", "NVLink",
    "NVSwitch", "InfiniBand", "RoCE", "PCIe", "HBM3", "bf16", "fp16", "fp8",
    "int8", "int4", "ZeRO-3", "ZeRO-1", "DeepSpeed", "Megatron-LM",
    "llama.cpp", "vLLM", "PagedAttention", "FlashAttention-2", "KV-cache",
    "RoPE", "SwiGLU", "RMSNorm", "LayerNorm", "AdamW", "Adafactor", "LoRA",
    "QLoRA", "DPO", "RLHF", "PPO", "SFT", "JAX", "XLA", "PyTorch", "Triton",
    "CUDA", "cuBLAS", "NCCL", "MPI", "gRPC", "protobuf", "k8s", "Kubernetes",
    "Slurm", "Ray", "x86-64", "AArch64", "AVX-512", "SIMD", "SVE", "RISC-V",
    "LLVM", "MLIR", "GCC", "clang", "WebAssembly", "io_uring", "epoll",
    "mmap", "NUMA", "TLB", "L2", "SRAM", "DRAM", "O(n log n)", "O(n^2)",
    "1e-4", "3e-4", "128k", "4096", "8x7B", "70B", "405B", "top-k", "top-p",
    "beam-search", "Q4_K_M", "GGUF", "safetensors", "ONNX", "TensorRT",
    "sm_90", "wgmma", "TMA", "cp.async", "ldmatrix", "nvcc", "ptxas",
    "SASS", "PTX", "HLO", "StableHLO", "GSPMD", "pjit", "shard_map", "vmap",
    "jit", "torch.compile", "TorchInductor", "Dynamo", "FX", "CUTLASS",
    "cuDNN", "NVSHMEM", "UCX", "EFA", "TCPXO", "GPUDirect", "RDMA", "DMA",
    "ICI", "DCN", "SparseCore", "MXU", "VPU", "ALU", "FMA", "GEMM", "GEMV",
    "SpMM", "FFT", "BLAS", "LAPACK", "OpenMP", "pthreads", "SQLite",
    "FTS5", "BM25", "PCRE2", "UTF-8", "JSON", "YAML", "TOML", "CSV",
    "Parquet", "Arrow", "HDF5", "Zstd", "LZ4", "gzip", "tar.gz", "S3",
    "GCS", "NFS", "ext4", "XFS", "btrfs", "ZFS", "SSD", "NVMe", "p99",
    "p50", "QPS", "RPS", "SLO", "SLA", "MTBF", "OOM", "SIGKILL", "SIGTERM",
    "EINTR", "ENOSPC", "errno", "stdout", "stderr", "argv", "malloc",
    "free()", "realloc", "memcpy", "strlen", "printf", "sizeof(int)",
    "uint64_t", "size_t", "#pragma", "__restrict__", "constexpr", "std::vector",
    "std::move", "unique_ptr", "Rust", "Go", "Python", "numpy", "pandas",
    "2:4", "NF4", "GPTQ", "AWQ", "SmoothQuant", "Mamba", "RWKV", "ViT",
    "CLIP", "T5", "BERT", "Llama-3", "Mixtral", "Gemma", "Chinchilla",
    "μP", "naïve", "café", "Pérez",
};

/* Terms of more than one word. */
static const char *const phrases[] = {
    "mixed precision", "pipeline parallelism", "tensor parallelism",
    "data parallelism", "expert parallelism", "gradient checkpointing",
    "gradient accumulation", "speculative decoding", "continuous batching",
    "load balancing", "activation recomputation", "sequence parallelism",
    "context length", "learning rate", "warmup schedule", "loss spike",
    "mixture of experts", "scaling law", "roofline model",
    "memory bandwidth", "arithmetic intensity", "critical path",
    "tail latency", "cold start", "hot path", "page cache", "write amplification",
    "prefix sum", "ring buffer", "work stealing",
};

static const char *const tags[] = {
    "training", "inference", "moe", "kernels", "compilers", "networking",
    "hardware", "storage", "search", "reading", "meeting", "paper",
    "idea", "todo", "bug", "perf", "design", "howto", "reference", "log",
    "jax", "pytorch", "cuda", "tpu", "gpu", "scaling", "quantization",
    "data", "eval", "infra", "oncall", "postmortem", "release", "draft",
    "archive", "weekly", "project/alpha", "project/beta", "lang/c",
    "lang/rust",
};

static const char *const hosts[] = {
    "github.com", "arxiv.org/abs", "docs.example.org", "blog.example.com",
    "wiki.example.net", "news.example.com", "people.example.edu",
    "gist.github.com", "discuss.example.org", "developer.example.com",
    "openreview.net/forum", "www.example.org/papers",
};

static const char *const langs[] = {"python", "c", "bash", "yaml", "json",
                                    "cpp", "rust", "text", "sql", ""};

#define N(a) (sizeof(a) / sizeof *(a))

typedef struct word {
  const char *s;
  uint16_t len;
  uint8_t ident; /* usable in identifiers and file names: [a-z]+ only */
} word;

static word vocab[VOCAB];
static uint32_t alias_thr[VOCAB], alias_to[VOCAB];

/* A tiny open-addressing set of strings, to keep the vocabulary unique. */
#define SET_SIZE (1u << 18)
static const char *set_slot[SET_SIZE];

static uint32_t hash_str(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* Add s to the set; 0 if it was there already. */
static int set_add(const char *s) {
  uint32_t i = hash_str(s) & (SET_SIZE - 1);
  while (set_slot[i]) {
    if (strcmp(set_slot[i], s) == 0) return 0;
    i = (i + 1) & (SET_SIZE - 1);
  }
  set_slot[i] = s;
  return 1;
}

static int all_lower(const char *s) {
  for (; *s; s++)
    if (*s < 'a' || *s > 'z') return 0;
  return 1;
}

/* Words live in one arena, each followed by 16 NUL bytes, so that short
** ones can be copied with one fixed-size (inlined) memcpy. */
static char *arena;
static size_t arena_len, arena_cap;

static void put_word(uint32_t rank, const char *s) {
  size_t n = strlen(s);
  if (arena_len + n + 16 > arena_cap) {
    /* words already placed point into the arena: never move it */
    arena_cap = 1 << 21;
    arena = calloc(1, arena_cap);
    arena_len = 0;
    if (!arena) exit(2);
  }
  memcpy(arena + arena_len, s, n);
  vocab[rank].s = arena + arena_len;
  arena_len += n + 16;
  vocab[rank].len = (uint16_t)n;
  vocab[rank].ident = (uint8_t)all_lower(s);
}

/* Place s at rank want, or the next free rank after it. */
static void place(uint8_t *used, uint32_t want, const char *s) {
  if (!set_add(s)) return;
  while (want < VOCAB && used[want]) want++;
  if (want >= VOCAB) return;
  used[want] = 1;
  put_word(want, s);
}

/* Write a pronounceable word of syl syllables (at least 3 letters) to
** tmp (>= 64 bytes); returns its length. */
static size_t syllables(rng *r, int syl, char *tmp) {
  static const char *on[] = {"b",  "c",  "d",  "f",  "g",  "h",  "k",
                             "l",  "m",  "n",  "p",  "r",  "s",  "t",
                             "v",  "w",  "z",  "br", "cr", "dr", "fl",
                             "gr", "pl", "st", "tr", "ch", "sh", "th",
                             "",   "qu", "sp", "gl"};
  static const char *vo[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "io",
                             "y", "oo", "ei"};
  static const char *co[] = {"", "", "", "n", "r", "s", "l", "t", "m", "x",
                             "nd", "st", "rk", "ng"};
  size_t n = 0;
  for (int i = 0; i < syl || n < 3; i++) {
    const char *parts[3] = {on[below(r, N(on))], vo[below(r, N(vo))],
                            co[below(r, N(co))]};
    for (int k = 0; k < 3; k++) {
      size_t l = strlen(parts[k]);
      memcpy(tmp + n, parts[k], l);
      n += l;
    }
  }
  tmp[n] = 0;
  return n;
}

static char *pseudo_word(rng *r) {
  char tmp[64];
  unsigned roll = below(r, 100); /* 1-3 syllables, mostly 2: ~6 letters */
  syllables(r, roll < 25 ? 1 : roll < 80 ? 2 : 3, tmp);
  return strdup(tmp);
}

/* Zipf weights 1/(r+1) and Vose's alias table for O(1) sampling. */
static void build_alias(void) {
  static double p[VOCAB];
  static uint32_t small[VOCAB], large[VOCAB];
  double h = 0;
  for (uint32_t i = 0; i < VOCAB; i++) h += 1.0 / (i + 1);
  uint32_t ns = 0, nl = 0;
  for (uint32_t i = 0; i < VOCAB; i++) {
    p[i] = VOCAB / ((i + 1) * h);
    if (p[i] < 1.0) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns && nl) {
    uint32_t s = small[--ns], l = large[--nl];
    alias_thr[s] = (uint32_t)(p[s] * 4294967295.0);
    alias_to[s] = l;
    p[l] -= 1.0 - p[s];
    if (p[l] < 1.0) small[ns++] = l;
    else large[nl++] = l;
  }
  while (nl) {
    uint32_t l = large[--nl];
    alias_thr[l] = 0xffffffffu;
    alias_to[l] = l;
  }
  while (ns) {
    uint32_t s = small[--ns];
    alias_thr[s] = 0xffffffffu;
    alias_to[s] = s;
  }
}

static void build_vocab(void) {
  static uint8_t used[VOCAB];
  uint32_t r = 0;
  for (size_t i = 0; i < N(english); i++) place(used, r++, english[i]);
  /* Domain words fill the next ranks every 3rd place, tech tokens every
  ** 20th from 160 on, phrases every 90th from 300 on: all common enough
  ** to show up, none as common as "the". */
  for (size_t i = 0; i < N(domain); i++) place(used, r + (uint32_t)i * 3, domain[i]);
  for (size_t i = 0; i < N(tech); i++) place(used, 160 + (uint32_t)i * 20, tech[i]);
  for (size_t i = 0; i < N(phrases); i++) place(used, 300 + (uint32_t)i * 90, phrases[i]);
  rng vr;
  rng_seed(&vr, VOCAB_SEED, 0);
  for (uint32_t i = 0; i < VOCAB; i++) {
    if (used[i]) continue;
    char *w;
    while (!set_add(w = pseudo_word(&vr))) free(w);
    put_word(i, w);
  }
  build_alias();
}

static inline uint32_t zipf(rng *r) {
  uint64_t x = next64(r);
  uint32_t i = (uint32_t)(((x >> 32) * (uint64_t)VOCAB) >> 32);
  return (uint32_t)x < alias_thr[i] ? i : alias_to[i];
}

/* ---- the output buffer ----------------------------------------------- */

typedef struct out {
  char *p;
  size_t len, cap;
} out;

static void grow(out *o, size_t n) {
  if (o->len + n <= o->cap) return;
  while (o->len + n > o->cap) o->cap = o->cap ? o->cap * 2 : 1 << 20;
  o->p = realloc(o->p, o->cap);
  if (!o->p) {
    fprintf(stderr, "gen: out of memory\n");
    exit(2);
  }
}

static inline void add(out *o, const char *s, size_t n) {
  grow(o, n);
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static inline void adds(out *o, const char *s) { add(o, s, strlen(s)); }

/* A vocabulary word: short ones in one fixed-size copy (see put_word). */
static inline void addw(out *o, const word *w) {
  grow(o, w->len > 16 ? w->len : 16);
  if (w->len <= 16) memcpy(o->p + o->len, w->s, 16);
  else memcpy(o->p + o->len, w->s, w->len);
  o->len += w->len;
}

static inline void addc(out *o, char c) {
  grow(o, 1);
  o->p[o->len++] = c;
}

static void addf(out *o, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  add(o, tmp, n < (int)sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- notes ------------------------------------------------------------ */

typedef struct gen {
  uint64_t seed;
  size_t min_note, max_note;
  const char *outdir;
} gen;

/* One note in the making. */
typedef struct note {
  rng r;
  out *o;
  uint64_t idx;
  uint32_t topic[24];
  int links_left;       /* links still to place */
  int refs;             /* reference links whose definitions are owed */
  char refurl[32][96];
  double link_p;        /* chance of a link per sentence */
} note;

static const word *pick(note *n) {
  if (chance(&n->r, 12)) return &vocab[n->topic[below(&n->r, N(n->topic))]];
  return &vocab[zipf(&n->r)];
}

/* An identifier-friendly word (lower-case letters only, not one of the
** commonest English words). */
static const word *pick_ident(rng *r) {
  for (;;) {
    uint32_t i = zipf(r);
    if (i >= N(english) && vocab[i].ident && vocab[i].len > 2) return &vocab[i];
  }
}

/* The folder index f's names, "tNN-word/word-NN". */
static void dir_name(const gen *g, uint64_t f, char *buf, size_t cap) {
  rng r;
  rng_seed(&r, g->seed ^ 0xd1f, f / DIRS_PER_TOP);
  const word *a = pick_ident(&r);
  rng_seed(&r, g->seed ^ 0xd2f, f);
  const word *b = pick_ident(&r);
  snprintf(buf, cap, "t%02llu-%s/%s-%02llu",
           (unsigned long long)(f / DIRS_PER_TOP), a->s, b->s,
           (unsigned long long)(f % DIRS_PER_TOP));
}

/* Note idx's file name (no folder) and its title words. */
static void note_name(const gen *g, uint64_t idx, char *buf, size_t cap,
                      char *title, size_t tcap) {
  rng r;
  rng_seed(&r, g->seed ^ 0x4e4d, idx);
  int nw = range(&r, 2, 4);
  size_t n = 0, t = 0;
  buf[0] = title[0] = 0;
  if (chance(&r, 20))
    n += (size_t)snprintf(buf, cap, "%04d-%02d-%02d-", range(&r, 2019, 2025),
                          range(&r, 1, 12), range(&r, 1, 28));
  for (int i = 0; i < nw; i++) {
    const word *w = pick_ident(&r);
    n += (size_t)snprintf(buf + n, cap - n, "%s-", w->s);
    t += (size_t)snprintf(title + t, tcap - t, "%s%c%s", i ? " " : "",
                          w->s[0] - (i == 0 ? 32 : 0), w->s + 1);
  }
  snprintf(buf + n, cap - n, "%llu.md", (unsigned long long)idx);
}

/* Relative link from note `from` to note `to` (both at depth 2). */
static void rel_link(const gen *g, uint64_t from, uint64_t to, char *buf,
                     size_t cap) {
  char name[160], title[160], dir[160];
  note_name(g, to, name, sizeof name, title, sizeof title);
  uint64_t ff = from / NOTES_PER_DIR, tf = to / NOTES_PER_DIR;
  dir_name(g, tf, dir, sizeof dir);
  if (ff == tf) snprintf(buf, cap, "%s", name);
  else if (ff / DIRS_PER_TOP == tf / DIRS_PER_TOP)
    snprintf(buf, cap, "../%s/%s", strchr(dir, '/') + 1, name);
  else snprintf(buf, cap, "../../%s/%s", dir, name);
}

static void url(note *n, char *buf, size_t cap) {
  const char *h = hosts[below(&n->r, N(hosts))];
  if (strncmp(h, "arxiv", 5) == 0) {
    snprintf(buf, cap, "https://%s/%02d%02d.%05d", h, range(&n->r, 17, 25),
             range(&n->r, 1, 12), range(&n->r, 0, 29999));
    return;
  }
  const word *a = pick_ident(&n->r), *b = pick_ident(&n->r);
  snprintf(buf, cap, "https://%s/%s/%s%s", h, a->s, b->s,
           chance(&n->r, 30) ? ".html" : "");
}

static void words(note *n, int count) {
  for (int i = 0; i < count; i++) {
    if (i) addc(n->o, ' ');
    const word *w = pick(n);
    addw(n->o, w);
  }
}

static void put_link(note *n, const gen *g) {
  char u[512];
  out *o = n->o;
  unsigned k = below(&n->r, 100);
  n->links_left--;
  if (k < 25 && n->idx > 0) { /* a relative link to an earlier note */
    uint64_t back = 1 + below(&n->r, 400);
    uint64_t to = back > n->idx ? below(&n->r, (uint32_t)n->idx) : n->idx - back;
    rel_link(g, n->idx, to, u, sizeof u);
    addc(o, '[');
    words(n, range(&n->r, 1, 4));
    addf(o, "](%s)", u);
  } else if (k < 55) { /* inline, sometimes with a title */
    url(n, u, sizeof u);
    addc(o, '[');
    words(n, range(&n->r, 1, 5));
    addf(o, "](%s", u);
    if (chance(&n->r, 15)) {
      adds(o, " \"");
      words(n, 2);
      addc(o, '"');
    }
    addc(o, ')');
  } else if (k < 70 && n->refs < 32) { /* reference, defined at the end */
    url(n, n->refurl[n->refs], sizeof n->refurl[0]);
    addc(o, '[');
    words(n, range(&n->r, 1, 3));
    addf(o, "][r%d]", n->refs + 1);
    n->refs++;
  } else if (k < 85) { /* autolink */
    url(n, u, sizeof u);
    addf(o, "<%s>", u);
  } else if (k < 93) { /* bare URL */
    url(n, u, sizeof u);
    adds(o, u);
  } else { /* wiki link */
    char name[160], title[160];
    note_name(g, n->idx ? below(&n->r, (uint32_t)n->idx) : 0, name,
              sizeof name, title, sizeof title);
    addf(o, "[[%s]]", title);
  }
}

static void code_span(note *n) {
  out *o = n->o;
  addc(o, '`');
  switch (below(&n->r, 4)) {
  case 0: addf(o, "%s_%s()", pick_ident(&n->r)->s, pick_ident(&n->r)->s); break;
  case 1: addf(o, "--%s-%s", pick_ident(&n->r)->s, pick_ident(&n->r)->s); break;
  case 2: adds(o, tech[below(&n->r, N(tech))]); break;
  default: addf(o, "%s.%s = %d", pick_ident(&n->r)->s, pick_ident(&n->r)->s,
                range(&n->r, 0, 4096));
  }
  addc(o, '`');
}

/* One sentence with the inline elements a note has. */
static void sentence(note *n, const gen *g) {
  out *o = n->o;
  int nw = range(&n->r, 6, 18);
  int want_link = n->links_left > 0 && unit(&n->r) < n->link_p;
  int link_at = want_link ? range(&n->r, 0, nw - 1) : -1;
  for (int i = 0; i < nw; i++) {
    if (i) addc(o, ' ');
    if (i == link_at) {
      put_link(n, g);
      continue;
    }
    unsigned k = below(&n->r, 1000);
    if (k < 15) {
      adds(o, "**");
      words(n, range(&n->r, 1, 3));
      adds(o, "**");
    } else if (k < 30) {
      code_span(n);
    } else if (k < 33) {
      addf(o, "#%s", tags[below(&n->r, N(tags))]);
    } else if (k < 45) {
      addf(o, "%d", range(&n->r, 0, 9999));
    } else if (k < 50) { /* a word from outside the vocabulary: names,
                         ** typos, identifiers; keeps the vocabulary growing
                         ** with the corpus (Heaps' law), so that every size
                         ** has words found in one or two notes */
      char tmp[64];
      add(o, tmp, syllables(&n->r, range(&n->r, 3, 4), tmp));
    } else {
      const word *w = pick(n);
      size_t at = o->len;
      addw(o, w);
      if (i == 0 && o->p[at] >= 'a' && o->p[at] <= 'z') o->p[at] -= 32;
    }
    if (i + 1 < nw && chance(&n->r, 6)) addc(o, ',');
  }
  adds(o, chance(&n->r, 8) ? "? " : ". ");
}

static void paragraph(note *n, const gen *g) {
  int ns = range(&n->r, 2, 7);
  for (int i = 0; i < ns; i++) sentence(n, g);
  n->o->p[n->o->len - 1] = '\n';
  addc(n->o, '\n');
}

static void list(note *n, const gen *g) {
  out *o = n->o;
  int items = range(&n->r, 3, 8), kind = (int)below(&n->r, 4);
  for (int i = 0; i < items; i++) {
    int nested = i > 0 && chance(&n->r, 15);
    if (nested) adds(o, "  ");
    if (kind == 0) addf(o, "%d. ", i + 1);
    else if (kind == 1) adds(o, chance(&n->r, 50) ? "- [ ] " : "- [x] ");
    else adds(o, kind == 2 ? "- " : "* ");
    if (n->links_left > 0 && unit(&n->r) < n->link_p) {
      put_link(n, g);
      addc(o, ' ');
    }
    if (chance(&n->r, 20)) {
      adds(o, "**");
      words(n, range(&n->r, 1, 2));
      adds(o, "**: ");
    }
    words(n, range(&n->r, 3, 12));
    addc(o, '\n');
  }
  addc(o, '\n');
}

static void code_block(note *n) {
  out *o = n->o;
  const char *lang = langs[below(&n->r, N(langs))];
  addf(o, "```%s\n", lang);
  int lines = range(&n->r, 3, 15);
  for (int i = 0; i < lines; i++) {
    const char *a = pick_ident(&n->r)->s, *b = pick_ident(&n->r)->s,
               *c = pick_ident(&n->r)->s;
    switch (below(&n->r, 6)) {
    case 0: addf(o, "def %s_%s(%s, n=%d):\n", a, b, c, range(&n->r, 1, 512)); break;
    case 1: addf(o, "    %s = %s(%s) * %d\n", a, b, c, range(&n->r, 2, 64)); break;
    case 2: addf(o, "for (size_t i = 0; i < %s_len; i++) %s[i] += %s[i];\n", a, b, c); break;
    case 3: addf(o, "%s: %s  # %s\n", a, b, c); break;
    case 4: addf(o, "$ %s --%s=%d %s/%s.md\n", a, b, range(&n->r, 1, 99), c, a); break;
    default: addf(o, "    return %s.%s(%s)\n", a, b, c);
    }
  }
  adds(o, "```\n\n");
}

static void quote(note *n, const gen *g) {
  adds(n->o, "> ");
  sentence(n, g);
  n->o->p[n->o->len - 1] = '\n';
  addc(n->o, '\n');
}

static void table(note *n) {
  out *o = n->o;
  int cols = range(&n->r, 2, 4), rows = range(&n->r, 2, 6);
  for (int r = -1; r < rows; r++) {
    for (int c = 0; c < cols; c++) {
      adds(o, c ? " | " : "| ");
      if (r == -1) words(n, 1);
      else if (c == 0) words(n, range(&n->r, 1, 3));
      else addf(o, "%d.%d", range(&n->r, 0, 999), range(&n->r, 0, 9));
    }
    adds(o, " |\n");
    if (r == -1) {
      for (int c = 0; c < cols; c++) adds(o, c ? " | ---" : "| ---");
      adds(o, " |\n");
    }
  }
  addc(o, '\n');
}

static void heading(note *n, int level) {
  out *o = n->o;
  add(o, "#####", (size_t)level);
  addc(o, ' ');
  int nw = range(&n->r, 1, 5);
  for (int i = 0; i < nw; i++) {
    if (i) addc(o, ' ');
    const word *w = pick(n);
    size_t at = o->len;
    addw(o, w);
    if (o->p[at] >= 'a' && o->p[at] <= 'z') o->p[at] -= 32;
  }
  adds(o, "\n\n");
}

static void front_matter(note *n, const char *title) {
  out *o = n->o;
  adds(o, "---\n");
  if (chance(&n->r, 80)) addf(o, "title: \"%s\"\n", title);
  if (chance(&n->r, 70))
    addf(o, "date: %04d-%02d-%02d\n", range(&n->r, 2019, 2025),
         range(&n->r, 1, 12), range(&n->r, 1, 28));
  int nt = range(&n->r, 1, 4);
  if (chance(&n->r, 70)) {
    adds(o, "tags: [");
    for (int i = 0; i < nt; i++)
      addf(o, "%s%s", i ? ", " : "", tags[below(&n->r, N(tags))]);
    adds(o, "]\n");
  } else {
    adds(o, "tags:\n");
    for (int i = 0; i < nt; i++) addf(o, "  - %s\n", tags[below(&n->r, N(tags))]);
  }
  adds(o, "---\n\n");
}

/* Write note idx of about `size` bytes into o. */
static void make_note(const gen *g, uint64_t idx, size_t size, out *o) {
  note n;
  char name[160], title[160];
  memset(&n, 0, sizeof n);
  n.o = o;
  n.idx = idx;
  rng_seed(&n.r, g->seed, idx + 1);
  for (size_t i = 0; i < N(n.topic); i++) /* log-uniform over ranks 200.. */
    n.topic[i] = (uint32_t)(200 * exp(unit(&n.r) * log(VOCAB / 200.0)));
  n.links_left = range(&n.r, 5, 20);
  /* ~100 bytes a sentence; place ~70% of the links in the text */
  n.link_p = 0.7 * n.links_left / (size / 100.0 + 1);
  note_name(g, idx, name, sizeof name, title, sizeof title);
  if (chance(&n.r, 40)) front_matter(&n, title);
  if (chance(&n.r, 90)) addf(o, "# %s\n\n", title);
  size_t tail = 80 + (size_t)n.links_left * 60; /* room for the links list */
  int level = 2;
  while (o->len + tail < size) {
    unsigned k = below(&n.r, 100);
    if (k < 12) {
      level = chance(&n.r, 60) ? 2 : 3;
      heading(&n, level);
    } else if (k < 62) paragraph(&n, g);
    else if (k < 80) list(&n, g);
    else if (k < 90) code_block(&n);
    else if (k < 96) quote(&n, g);
    else table(&n);
  }
  if (n.links_left > 0) {
    adds(o, chance(&n.r, 50) ? "## See also\n\n" : "## References\n\n");
    while (n.links_left > 0) {
      adds(o, "- ");
      put_link(&n, g);
      addc(o, '\n');
    }
    addc(o, '\n');
  }
  for (int i = 0; i < n.refs; i++) addf(o, "[r%d]: %s\n", i + 1, n.refurl[i]);
}

/* ---- main ------------------------------------------------------------- */

static int mkdirs(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    int rc = mkdir(path, 0777);
    *p = '/';
    if (rc != 0 && errno != EEXIST) return -1;
  }
  if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
  return 0;
}

static size_t parse_size(const char *s, const char *opt) {
  char *end;
  double v = strtod(s, &end);
  size_t m = 1;
  switch (*end) {
  case 'k': case 'K': m = 1 << 10; end++; break;
  case 'm': case 'M': m = 1 << 20; end++; break;
  case 'g': case 'G': m = 1 << 30; end++; break;
  }
  if (*end == 'B' || *end == 'b') end++;
  if (end == s || *end || v <= 0) {
    fprintf(stderr, "gen: bad size '%s' for %s\n", s, opt);
    exit(2);
  }
  return (size_t)(v * (double)m);
}

static void usage(void) {
  fprintf(stderr,
          "usage: gen --seed S --size SIZE --out DIR [--min-note 1K] "
          "[--max-note 200K]\n"
          "       gen --word RANK\n"
          "SIZE takes K, M or G (powers of 1024).  DIR must be empty or "
          "missing.\n");
  exit(2);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  gen g = {1, 1 << 10, 200 << 10, NULL};
  size_t total = 0;
  long word_rank = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (strcmp(a, "--seed") == 0) g.seed = strtoull(v, NULL, 0);
    else if (strcmp(a, "--size") == 0) total = parse_size(v, a);
    else if (strcmp(a, "--out") == 0) g.outdir = v;
    else if (strcmp(a, "--min-note") == 0) g.min_note = parse_size(v, a);
    else if (strcmp(a, "--max-note") == 0) g.max_note = parse_size(v, a);
    else if (strcmp(a, "--word") == 0) word_rank = strtol(v, NULL, 10);
    else usage();
    i++;
  }
  build_vocab();
  if (word_rank >= 0) {
    if (word_rank >= VOCAB) usage();
    printf("%s\n", vocab[word_rank].s);
    return 0;
  }
  if (!g.outdir || !total || g.min_note > g.max_note) usage();
  if (mkdir(g.outdir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "gen: cannot create '%s': %s\n", g.outdir, strerror(errno));
    return 2;
  }
  if (rmdir(g.outdir) == 0) mkdir(g.outdir, 0777); /* empty: fine */
  else {
    fprintf(stderr, "gen: '%s' is not empty\n", g.outdir);
    return 2;
  }
  double t0 = now();
  out o = {0};
  size_t done = 0;
  uint64_t idx = 0;
  char path[4096], dir[256], name[160], title[160];
  double mu = log(2.0 * g.min_note), lo = (double)g.min_note,
         hi = (double)g.max_note;
  while (done < total) {
    rng sr;
    rng_seed(&sr, g.seed ^ 0x5153, idx);
    double sz;
    do sz = exp(mu + 1.1 * gauss(&sr));
    while (sz < lo || sz > hi);
    size_t want = (size_t)sz;
    if (total - done < want)
      want = total - done < g.min_note ? g.min_note : total - done;
    if (idx % NOTES_PER_DIR == 0) {
      dir_name(&g, idx / NOTES_PER_DIR, dir, sizeof dir);
      snprintf(path, sizeof path, "%s/%s", g.outdir, dir);
      if (mkdirs(path) != 0) {
        fprintf(stderr, "gen: cannot create '%s': %s\n", path, strerror(errno));
        return 2;
      }
    }
    note_name(&g, idx, name, sizeof name, title, sizeof title);
    snprintf(path, sizeof path, "%s/%s/%s", g.outdir, dir, name);
    o.len = 0;
    make_note(&g, idx, want, &o);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || write(fd, o.p, o.len) != (ssize_t)o.len || close(fd) != 0) {
      fprintf(stderr, "gen: cannot write '%s': %s\n", path, strerror(errno));
      return 2;
    }
    done += o.len;
    idx++;
  }
  double dt = now() - t0;
  fprintf(stderr, "gen: %llu notes, %zu bytes in %llu folders, %.2f s (%.0f MB/s)\n",
          (unsigned long long)idx, done,
          (unsigned long long)((idx + NOTES_PER_DIR - 1) / NOTES_PER_DIR), dt,
          done / 1048576.0 / (dt > 0 ? dt : 1e-9));
  free(o.p);
  return 0;
}
