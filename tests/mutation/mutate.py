#!/usr/bin/env python3
"""mutate.py - seeded mutation testing of mdatt's own tests (make mutation).

A copy of the source tree is configured once in a scratch directory; each
mutant changes one token (or one term) of one source file, the test programs
that cover that file are rebuilt incrementally and run with a time limit, and
the file is restored.  A mutant is killed when a test program fails, crashes
or exceeds its time limit.  Survivors are rerun in a second copy built with
--enable-sanitizers (AddressSanitizer + UndefinedBehaviorSanitizer), the
pass CI runs; a sanitizer error kills them too.  Mutants that do not compile
are counted apart and left out of the score.

Survivors are classified in tests/mutation/classified.tsv (equivalent, with
the reason, or gap); the score of a module is killed / (mutants - equivalent).
Outputs: reports/mutation.csv (one row per module and a total),
reports/mutation-mutants.csv (every mutant) and reports/mutation.md.

Operators: aor (+ - * / and their compound assignments swapped), ror
(< <= > >= == != moved across the boundary or negated), bound (the same in a
for-loop condition: off-by-one loops), const (integer k -> k+1 / k-1, floating
c -> 2c / c/2, 0.0 -> 1.0), neg (an if/while condition negated), del (a
+/- term deleted), minmax (fmin <-> fmax), logic (&& <-> ||).
"""
import argparse
import csv
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

# The modules, by file globs relative to the source tree (git-tracked .c
# files), so that a file split into several or renamed stays in its module:
# (name, globs, [(glob, test programs fastest first)]).  A file runs the
# programs of the first pattern it matches; "*" covers the files of the
# module that no earlier pattern names.  Programs whose coverage of a file
# duplicates a faster one's are left out (the slow proofs-check programs and
# test_faults, whose library copies would double every compilation); test_alloc,
# which fails every allocation in turn, comes last for the files whose
# out-of-memory branches it reaches.  The report lists the programs run per file.
ORACLE_TESTS = ["tests/test_oracle_methods", "tests/test_linalg", "tests/test_oracle",
                "tests/test_wrows", "proofs-check/claim_duality", "tests/test_alloc"]
MODULE_SPEC = [
    ("trainer", ["src/model*.c", "src/mirror*.c", "src/train*.c", "src/eval*.c",
                 "src/grad*.c", "src/step*.c"],
     [("src/mirror*.c", ["tests/test_mirror", "proofs-check/claim_norms", "tests/test_train",
                         "proofs-check/claim_bregman_lower", "tests/test_check"]),
      ("src/train*.c", ["tests/test_train", "proofs-check/claim_md_identities",
                        "proofs-check/claim_token_selection"]),
      ("*", ["tests/test_model", "tests/test_train", "proofs-check/claim_md_identities",
             "tests/test_alloc"])]),
    ("metrics", ["src/metrics*.c", "src/rate*.c"],
     [("*", ["tests/test_check", "tests/test_rate"])]),
    ("check", ["src/check*.c", "src/cli/cmd_check*.c", "src/svmio*.c"],
     [("*", ["tests/test_check"])]),
    ("oracle", ["oracle/*.c"], [("*", ORACLE_TESTS)]),
]
MODULES = []    # [(name, {file: programs})], resolved from MODULE_SPEC by resolve_modules


def tracked_files(srcdir):
    rc, out = run(["git", "ls-files", "-z"], srcdir)
    if rc != 0:
        sys.exit("mutate.py: %s is not a git checkout" % srcdir)
    return [f for f in out.split("\0") if f and os.path.isfile(os.path.join(srcdir, f))]


def module_of(path):
    """The module whose globs match path (None if none does)."""
    for name, globs, _ in MODULE_SPEC:
        if any(fnmatch.fnmatchcase(path, g) for g in globs):
            return name
    return None


def resolve_modules(srcdir):
    """MODULES from MODULE_SPEC: every tracked .c file a module's globs match
    (in the order of the globs, then of the names), with its programs."""
    files = sorted(f for f in tracked_files(srcdir) if f.endswith(".c"))
    out = []
    for name, globs, tests in MODULE_SPEC:
        mine = {}
        for g in globs:
            for f in files:
                if fnmatch.fnmatchcase(f, g) and f not in mine and module_of(f) == name:
                    mine[f] = next(ts for pat, ts in tests if pat == "*"
                                   or fnmatch.fnmatchcase(f, pat))
        if not mine:
            sys.exit("mutate.py: no file matches the module %s (%s)" % (name, " ".join(globs)))
        out.append((name, mine))
    return out


# -O1: the same IEEE arithmetic as -O2 (no FMA contraction under -std=c11),
# compiled in a third of the time
PLAIN_CONFIGURE = ["CFLAGS=-O1", "--disable-shared"]
SAN_CONFIGURE = ["CFLAGS=-O1 -g", "--disable-shared", "--enable-sanitizers"]
NEEDS_MDATT = {"tests/test_check", "tests/test_rate"}   # these run the mdatt program

# ------------------------------------------------------------ tokenizer
TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<str>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<num>0[xX][0-9a-fA-F.]+(?:[pP][+-]?\d+)?[fFlLuU]*|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFlLuU]*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%<>=!&|^~?:;,.()\[\]{}])
""", re.S | re.X)

TYPE_WORDS = {"int", "double", "char", "void", "float", "long", "short", "unsigned", "signed",
              "size_t", "const", "static", "struct", "unsigned", "uint64_t", "int64_t", "FILE",
              "uint32_t", "uint8_t", "ptrdiff_t", "va_list", "volatile", "restrict", "bool"}
KEYWORDS = {"return", "case", "sizeof", "else", "do", "goto"}


class Tok:
    __slots__ = ("kind", "text", "start", "end", "line")

    def __init__(self, kind, text, start, end, line):
        self.kind, self.text, self.start, self.end, self.line = kind, text, start, end, line


def tokenize(src):
    """Tokens of the code that may be mutated: preprocessor lines, code under
    #ifdef MDATT_FAULTS (the planted faults) and lines naming MDATT_FAULT are
    left out (their tokens are returned with kind 'skip')."""
    toks, pos, line = [], 0, 1
    skip_lines = set()
    depth_fault, lines = 0, src.split("\n")
    in_directive = False
    stack = []
    for ln, text in enumerate(lines, 1):
        s = text.strip()
        if in_directive or s.startswith("#"):
            skip_lines.add(ln)
            in_directive = s.endswith("\\")
            if s.startswith("#if"):
                stack.append("MDATT_FAULTS" in s)
                depth_fault += stack[-1]
            elif s.startswith("#endif") and stack:
                depth_fault -= stack.pop()
            continue
        if depth_fault or "MDATT_FAULT" in text:
            skip_lines.add(ln)
    while pos < len(src):
        m = TOKEN_RE.match(src, pos)
        if not m:       # a stray character: keep going
            pos += 1
            continue
        kind = m.lastgroup
        text = m.group()
        if kind not in ("ws", "comment"):
            toks.append(Tok("skip" if line in skip_lines else kind, text, pos, m.end(), line))
        line += text.count("\n")
        pos = m.end()
    return toks


# ------------------------------------------------------------ operators
AOR = {"+": "-", "-": "+", "*": "/", "/": "*", "+=": "-=", "-=": "+=", "*=": "/=", "/=": "*="}
ROR = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
TERM_STOP = {"+", "-", ")", "]", "}", ",", ";", "?", ":", "<", ">", "<=", ">=", "==", "!=",
             "&&", "||", "=", "+=", "-=", "*=", "/=", "|", "&", "^"}


def is_operand_end(t):
    return (t.kind in ("id", "num") and t.text not in KEYWORDS) or t.text in (")", "]")


def binary_at(toks, i):
    """toks[i] is a binary operator (not unary, not a pointer declarator)."""
    if i == 0 or toks[i - 1].kind == "skip":
        return False
    prev = toks[i - 1]
    if not is_operand_end(prev):
        return False
    if toks[i].text == "*":
        if prev.kind == "id" and (prev.text in TYPE_WORDS or prev.text.endswith("_t")
                                  or re.match(r"^(mdatt|attsvm|glp)_\w+$", prev.text)
                                  or re.match(r"^[A-Z]\w*[a-z]\w*$", prev.text)
                                  or prev.text in ("Tok",)):
            # a type name followed by '*' is a declarator, unless a call follows
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is None or nxt.kind == "id" or nxt.text in ("*", ")"):
                return False
        if i + 1 < len(toks) and toks[i + 1].text in (")", "*", ","):
            return False
    return True


def for_condition_ranges(toks):
    """Token index ranges of for-loop conditions."""
    out = []
    for i, t in enumerate(toks):
        if t.kind == "id" and t.text == "for" and i + 1 < len(toks) and toks[i + 1].text == "(":
            depth, j, semis = 0, i + 1, []
            while j < len(toks):
                x = toks[j].text
                if x in ("(", "["):
                    depth += 1
                elif x in (")", "]"):
                    depth -= 1
                    if depth == 0:
                        break
                elif x == ";" and depth == 1:
                    semis.append(j)
                j += 1
            if len(semis) == 2:
                out.append((semis[0], semis[1]))
    return out


def matching(toks, i):
    """Index of the parenthesis closing toks[i] == '('."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text in ("(", "["):
            depth += 1
        elif toks[j].text in (")", "]"):
            depth -= 1
            if depth == 0:
                return j
    return None


def term_end(toks, i):
    """Index one past the term that starts at toks[i] (for deletion)."""
    depth, j = 0, i
    while j < len(toks):
        x = toks[j].text
        if depth == 0 and j > i and x in TERM_STOP:
            break
        if x in ("(", "["):
            depth += 1
        elif x in (")", "]", "}"):
            if depth == 0:
                break
            depth -= 1
        j += 1
    return j


def fmt_float(v, like):
    if like.lower().startswith("0x"):
        return v.hex()
    r = repr(v)
    return r if any(c in r for c in ".en") else r + ".0"


def nudges(text):
    """Constant nudges of a numeric literal: [(replacement, note)]."""
    m = re.match(r"^(.*?)([fFlLuU]*)$", text)
    body, suf = m.group(1), m.group(2)
    isfloat = body.lower().startswith("0x") and "p" in body.lower() or (
        not body.lower().startswith("0x") and any(c in body for c in ".eE"))
    if isfloat:
        v = float.fromhex(body) if body.lower().startswith("0x") else float(body)
        if v == 0:
            return [("1.0" + suf, "0 -> 1")]
        return [(fmt_float(v * 2, body) + suf, "x2"), (fmt_float(v / 2, body) + suf, "/2")]
    k = int(body, 0)
    out = [(str(k + 1) + suf, "+1")]
    if k > 0:
        out.append((str(k - 1) + suf, "-1"))
    return out


def sites(path, src):
    """All candidate mutations of one file: dicts with the replaced byte
    range [start, end), the replacement text, the operator and a note."""
    toks = tokenize(src)
    conds = for_condition_ranges(toks)
    in_cond = set()
    for a, b in conds:
        in_cond.update(range(a + 1, b))
    out = []

    def add(op, a, b, repl, line, orig=None):
        out.append({"file": path, "op": op, "start": a, "end": b, "repl": repl, "line": line,
                    "orig": src[a:b] if orig is None else orig})

    for i, t in enumerate(toks):
        if t.kind == "skip":
            continue
        x = t.text
        if x in AOR and (len(x) == 2 or binary_at(toks, i)):
            add("aor", t.start, t.end, AOR[x], t.line)
        if x in ROR:
            add("bound" if i in in_cond else "ror", t.start, t.end, ROR[x], t.line)
        if x in ("&&", "||"):
            add("logic", t.start, t.end, "||" if x == "&&" else "&&", t.line)
        if t.kind == "num":
            prev = toks[i - 1].text if i else ""
            if prev != "[" or (i + 1 < len(toks) and toks[i + 1].text != "]"):
                for repl, _ in nudges(x):
                    add("const", t.start, t.end, repl, t.line)
        if t.kind == "id" and x in ("fmin", "fmax", "fminl", "fmaxl"):
            add("minmax", t.start, t.end, x.replace("min", "MAX").replace("max", "min")
                .replace("MAX", "max"), t.line)
        if t.kind == "id" and x in ("if", "while") and i + 1 < len(toks) and toks[i + 1].text == "(":
            j = matching(toks, i + 1)
            if j is not None and all(toks[k].kind != "skip" for k in range(i, j + 1)):
                a, b = toks[i + 1].start, toks[j].end
                add("neg", a, b, "(!" + src[a:b] + ")", t.line)
        if x in ("+", "-") and binary_at(toks, i):
            j = term_end(toks, i + 1)
            if j > i + 1 and all(toks[k].kind != "skip" for k in range(i, j)):
                add("del", t.start, toks[j - 1].end, "", t.line)
    return out


def describe(m, src):
    orig = src[m["start"]:m["end"]]
    orig = " ".join(orig.split())
    if len(orig) > 60:
        orig = orig[:57] + "..."
    repl = " ".join(m["repl"].split())
    if m["op"] == "neg":
        return "condition negated: if (!%s)" % orig if len(orig) < 50 else "condition negated"
    if m["op"] == "del":
        return "term deleted: %s" % orig
    return "%s -> %s" % (orig, repl)


def line_text(src, start):
    a = src.rfind("\n", 0, start) + 1
    b = src.find("\n", start)
    return src[a:b if b >= 0 else len(src)], start - a


def mutant_key(m, src):
    """Identifies a mutant independently of line numbers: the file, the text
    of its line, the column and the change; "#k" is appended for the k-th
    (k >= 2) line of the file with the same text."""
    text, col = line_text(src, m["start"])
    stripped = " ".join(text.split())
    col -= len(text) - len(text.lstrip())
    first = src.rfind("\n", 0, m["start"]) + 1
    k = 1 + sum(1 for l in src[:first].split("\n") if " ".join(l.split()) == stripped)
    key = "%s\t%s\t%d\t%s" % (m["file"], stripped, col, m["desc"])
    return key if k == 1 else key + "\t#%d" % k


# ------------------------------------------------------------- building
def run(cmd, cwd, log=None, timeout=None, env=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, env=env)
        out = p.stdout.decode(errors="replace")
        if log:
            with open(log, "a") as f:
                f.write(out)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        return None, ""


def prepare_tree(srcdir, dest, configure_args, log):
    """Copy the source tree (tracked files, as in the working tree) into
    dest and configure it once; later calls copy only the files that
    changed, so the build stays incremental."""
    rc, out = run(["git", "ls-files", "-z"], srcdir)
    if rc != 0:
        sys.exit("mutate.py: %s is not a git checkout" % srcdir)
    os.makedirs(dest, exist_ok=True)
    for rel in out.split("\0"):
        src = os.path.join(srcdir, rel)
        dst = os.path.join(dest, rel)
        if not rel or not os.path.isfile(src):
            continue
        with open(src, "rb") as f:
            data = f.read()
        if os.path.exists(dst):
            with open(dst, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        shutil.copymode(src, dst)
    if os.path.exists(os.path.join(dest, "config.status")):
        return
    for cmd in (["autoreconf", "-fi"], ["./configure", "-q"] + configure_args):
        rc, _ = run(cmd, dest, log)
        if rc != 0:
            sys.exit("mutate.py: '%s' failed in %s (see %s)" % (" ".join(cmd), dest, log))


def targets_for(tests):
    t = list(tests)
    if any(x in NEEDS_MDATT for x in tests):
        t.append("mdatt")
    return t


def build(tree, tests, log):
    rc, out = run(["make", "-j2"] + targets_for(tests), tree, log)
    return rc == 0, out


def test_env(tree, sanitizers):
    env = dict(os.environ)
    env.update({"OPENBLAS_NUM_THREADS": "1", "CRITERION_NO_EARLY_EXIT": "1",
                "MDATT": os.path.join(tree, "mdatt"), "MDATT_SRCDIR": tree,
                "MDATT_BUILDDIR": tree})
    if sanitizers:
        env["LSAN_OPTIONS"] = "suppressions=%s" % os.path.join(tree, "tests/lsan.supp")
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def build_and_run(tree, tests, limits, log, sanitizers):
    """Build and run the programs one at a time until one fails (a killed
    mutant costs one link): (verdict, program); verdict is 'killed',
    'timeout', 'survived' or 'not compiled' (the first build failed)."""
    env = test_env(tree, sanitizers)
    for k, t in enumerate(tests):
        ok, _ = build(tree, [t], log)
        if not ok:
            return "not compiled", t
        rc, _ = run(["./" + t], tree, timeout=limits[t], env=env)
        if rc is None:
            return "timeout", t
        if rc != 0:
            return "killed", t
    return "survived", ""


# ------------------------------------------------------------ the driver
class KeyTable:
    """Values by mutant key (file, line text, column, change[, #k]), found
    again after a file was renamed or split.  A key that is not in the table
    is looked up by (module, line text, column, change) among the entries that
    are orphaned (their key is no candidate site of the current tree any
    more), provided that one current site of the module only has that line
    text and change, and that those entries agree (first element)."""

    def __init__(self):
        self.exact, self.loose = {}, {}
        self.current, self.count = None, {}

    @staticmethod
    def loose_key(key, module):
        return "\t".join([module or "?"] + key.split("\t")[1:4])

    def add(self, key, module, value):
        self.exact[key] = value
        self.loose.setdefault(self.loose_key(key, module), []).append((key, value))

    def bind(self, sites):
        """sites: (key, module) of every candidate site of the current tree."""
        self.current = {k for k, _ in sites}
        self.count = {}
        for k, mod in sites:
            lk = self.loose_key(k, mod)
            self.count[lk] = self.count.get(lk, 0) + 1

    def get(self, key, module, default=None):
        if key in self.exact:
            return self.exact[key]
        lk = self.loose_key(key, module)
        if self.current is None or self.count.get(lk) != 1:
            return default
        vals = [v for k, v in self.loose.get(lk, []) if k not in self.current]
        if vals and all(v[0] == vals[0][0] for v in vals):
            return vals[0]
        return default

    def __len__(self):
        return len(self.exact)


def load_classified(path):
    """tests/mutation/classified.tsv as a KeyTable of (classification, reason);
    the module of an entry is the one whose globs match its file name."""
    out = KeyTable()
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for raw in f:
            if not raw.strip() or raw.startswith("#"):
                continue
            parts = raw.rstrip("\n").split("\t")
            nk = 5 if len(parts) > 4 and parts[4].startswith("#") else 4
            if len(parts) < nk + 2:
                continue
            out.add("\t".join(parts[:nk]), module_of(parts[0]), (parts[nk], parts[nk + 1]))
    return out


SHARES = {"trainer": 2, "metrics": 1, "check": 1, "oracle": 2}
OPS = ["aor", "ror", "bound", "const", "neg", "del", "minmax", "logic"]


def site_rank(seed, module, key, nth):
    """A site's seeded rank: a hash of the seed and of what identifies the
    site independently of its file and line number (module, line text,
    column, change, and its occurrence nth among the module's sites with the
    same text), so that renaming or splitting a file keeps the sample."""
    ident = "\t".join([str(seed), module] + key.split("\t")[1:4] + [str(nth)])
    return hashlib.sha256(ident.encode()).hexdigest()


def sample_module(seed, name, cand, q):
    """q sites of one module, spread evenly over the operators: rounds that
    take, for each operator in turn, its site of lowest seeded rank."""
    seen, ranked = {}, []
    for m in cand:
        lk = KeyTable.loose_key(m["key"], name)
        seen[lk] = seen.get(lk, 0) + 1
        ranked.append((site_rank(seed, name, m["key"], seen[lk]), m))
    ranked.sort(key=lambda rm: rm[0], reverse=True)
    pools = {op: [m for _, m in ranked if m["op"] == op] for op in OPS}
    out = []
    while len(out) < q and any(pools.values()):
        for op in OPS:
            if pools.get(op) and len(out) < q:
                out.append(pools[op].pop())
    return out


CHUNK = 4


def candidates(srcdir):
    """Every candidate site of every module's files: [(module, [mutant])]."""
    per_module = []
    for name, files in MODULES:
        cand = []
        for f, tests in files.items():
            with open(os.path.join(srcdir, f)) as fh:
                src = fh.read()
            for m in sites(f, src):
                m["module"] = name
                m["desc"] = describe(m, src)
                m["key"] = mutant_key(m, src)
                m["tests"] = tests
                cand.append(m)
        per_module.append((name, cand))
    return per_module


def choose(per_module, total, seed, rotate=False):
    """Sample the mutants: per module (shares SHARES of the total) a seeded
    sample of its candidate sites spread over the operators."""
    wsum = sum(SHARES.values())
    quotas = [total * SHARES[name] // wsum for name, _ in per_module]
    quotas[0] += total - sum(quotas)
    chosen = []
    for (name, cand), q in zip(per_module, quotas):
        chosen.extend(sample_module(seed, name, cand, q))
    # grouped by file (one restoring rebuild per file), then by position;
    # with rotate, chunks of CHUNK mutants of each module in turn, so that a
    # run stopped early has measured every module
    order = {f: k for k, (_, files) in enumerate(MODULES) for f in files}
    chosen.sort(key=lambda m: (order[m["file"]], m["file"], m["start"], m["repl"]))
    if rotate:
        rank, seen = {}, {}
        for m in chosen:
            seen[m["module"]] = seen.get(m["module"], 0) + 1
            rank[id(m)] = (seen[m["module"]] - 1) // CHUNK
        chosen.sort(key=lambda m: (rank[id(m)], order[m["file"]]))
    return chosen, {name: len(c) for name, c in per_module}


def apply(tree, m, original):
    src = original[:m["start"]] + m["repl"] + original[m["end"]:]
    path = os.path.join(tree, m["file"])
    with open(path, "w") as f:
        f.write(src)
    now = time.time()
    os.utime(path, (now, now))


def restore(tree, f, original):
    path = os.path.join(tree, f)
    with open(path, "w") as fh:
        fh.write(original)
    now = time.time()
    os.utime(path, (now, now))


def baseline(tree, log, sanitizers, skip=False, selected=None):
    """Build the programs of the selected modules once, check that the
    unmutated tests pass and time them: the limit of a program is 5x its
    time plus 20 s."""
    alltests = sorted({t for n, files in MODULES for ts in files.values() for t in ts
                       if selected is None or n in selected})
    if skip:
        return dict.fromkeys(alltests, 600)
    ok, out = build(tree, alltests, log)
    if not ok:
        sys.exit("mutate.py: the unmutated tree does not build in %s (see %s)" % (tree, log))
    env = test_env(tree, sanitizers)
    limits = {}
    for t in alltests:
        t0 = time.time()
        rc, out = run(["./" + t], tree, env=env, timeout=1200)
        if rc != 0:
            sys.exit("mutate.py: %s fails without a mutation in %s" % (t, tree))
        limits[t] = 5 * (time.time() - t0) + 20
    return limits


MUTANT_COLS = ["module", "file", "line", "operator", "change", "verdict", "killed_by", "stage",
               "classification", "reason", "seconds", "revision", "key"]


def journal_add(path, m, result, sanitizers):
    """Append one verdict to a journal in the format of mutation-mutants.csv,
    so that an interrupted run's verdicts can be passed to --reuse."""
    verdict, by, secs, rev = result
    stage = "sanitizers" if sanitizers or verdict == "killed (sanitizers)" else "plain"
    if verdict == "timeout":
        by += " (time limit)"
    if verdict in ("killed (sanitizers)", "timeout"):
        verdict = "killed"
    if sanitizers and verdict != "killed":
        return
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(MUTANT_COLS)
        w.writerow([m["module"], m["file"], m["line"], m["op"], m["desc"], verdict, by, stage,
                    "", "", "%.1f" % secs, rev, m["key"]])


def mutate_all(tree, chosen, limits, log, sanitizers, progress, revision, reuse=None,
               stop=None, journal=None):
    """Every mutant of chosen, built and run in tree; after the time stop
    (epoch seconds) the remaining ones are 'not run'."""
    results = {}
    originals = {}
    current = None
    for k, m in enumerate(chosen):
        f = m["file"]
        old = reuse.get(m["key"], m["module"]) if reuse else None
        if stop and time.time() > stop and not old:
            results[m["key"]] = ("not run", "", 0.0, "")
            continue
        if old:
            results[m["key"]] = old
            if progress:
                print("[%d/%d] %-8s %s:%d %s: %s %s at %s (reused)" % (
                    k + 1, len(chosen), m["module"], f, m["line"], m["desc"],
                    old[0], old[1], old[3]), flush=True)
            continue
        if f not in originals:
            with open(os.path.join(tree, f)) as fh:
                originals[f] = fh.read()
        if current and current != f:
            restore(tree, current, originals[current])
        current = f
        t0 = time.time()
        if originals[f][m["start"]:m["end"]] != m["orig"]:
            sys.exit("mutate.py: %s changed during the run (%s)" % (f, m["key"]))
        apply(tree, m, originals[f])
        verdict, by = build_and_run(tree, m["tests"], limits, log, sanitizers)
        results[m["key"]] = (verdict, by, time.time() - t0, revision)
        if journal:
            journal_add(journal, m, results[m["key"]], sanitizers)
        if progress:
            print("[%d/%d] %-8s %s:%d %s: %s %s (%.0f s)" % (
                k + 1, len(chosen), m["module"], f, m["line"], m["desc"], verdict, by,
                time.time() - t0), flush=True)
    if current:
        restore(tree, current, originals[current])
    return results


def summarize(chosen, plain, san, classified):
    rows, survivors = {}, []
    for m in chosen:
        verdict, by, secs, measured = plain[m["key"]]
        stage = "plain"
        if verdict == "killed (sanitizers)":
            verdict, stage = "killed", "sanitizers"
        if verdict == "survived" and m["key"] in san:
            v2, by2, _, rev2 = san[m["key"]]
            if v2 not in ("survived", "not run"):
                verdict, by, stage, measured = "killed", by2, "sanitizers", rev2
        if verdict == "timeout":
            verdict, by = "killed", by + " (time limit)"
        cls, reason = "", ""
        if verdict == "survived":
            cls, reason = classified.get(m["key"], m["module"], ("unclassified", ""))
            survivors.append(m)
        m.update(verdict=verdict, by=by, stage=stage, cls=cls, reason=reason, secs=secs,
                 measured=measured)
        r = rows.setdefault(m["module"], dict(mutants=0, killed=0, survived=0, equivalent=0,
                                              gap=0, unclassified=0, not_compiled=0,
                                              killed_sanitizers=0, not_run=0))
        if verdict == "not run":
            r["not_run"] += 1
            continue
        if verdict == "not compiled":
            r["not_compiled"] += 1
            continue
        r["mutants"] += 1
        if verdict == "killed":
            r["killed"] += 1
            r["killed_sanitizers"] += stage == "sanitizers"
        else:
            r["survived"] += 1
            r[cls if cls in ("equivalent", "gap") else "unclassified"] += 1
    return rows, survivors


def utc_today(hhmm):
    """Epoch seconds of today's UTC time HH:MM (None for None)."""
    if not hhmm:
        return None
    h, m = (int(x) for x in hhmm.split(":"))
    now = time.time()
    return now - now % 86400 + 3600 * h + 60 * m


def revision(srcdir):
    rc, rev = run(["git", "describe", "--always", "--dirty"], srcdir)
    return rev.strip() if rc == 0 else "unknown"


def load_reuse(paths, everything=False):
    """The killed verdicts of a previous run (its mutation-mutants.csv) as a
    KeyTable of (verdict, program, seconds, revision); survivors are run
    again (a test added since may kill them) unless everything is set, which
    keeps survivors and mutants that did not compile too."""
    out = KeyTable()
    for path in [paths] if isinstance(paths, str) else paths:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        for r in rows:
            v = r["verdict"]
            if v == "killed" and r["stage"] == "sanitizers":
                v = "killed (sanitizers)"
            elif v == "not run" or (v != "killed" and not everything):
                continue
            out.add(r["key"], r["module"], (v, r["killed_by"], float(r["seconds"]),
                                            r["revision"]))
    return out


def score(r):
    den = r["mutants"] - r["equivalent"]
    return r["killed"] / den if den else 1.0


def write_reports(outdir, chosen, rows, survivors, args, meta):
    names = [n for n, _ in MODULES]
    tot = {k: sum(rows.get(n, {}).get(k, 0) for n in names) for k in
           ("mutants", "killed", "survived", "equivalent", "gap", "unclassified",
            "not_compiled", "killed_sanitizers", "not_run")}
    cols = ["module", "mutants", "killed", "survived", "equivalent", "score", "gap",
            "unclassified", "killed_sanitizers", "not_compiled", "not_run"]
    with open(os.path.join(outdir, "mutation.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for n in names + ["total"]:
            r = tot if n == "total" else rows.get(n, dict.fromkeys(tot, 0))
            w.writerow([n] + [r[c] if c != "score" else "%.4f" % score(r) for c in cols[1:]])
    with open(os.path.join(outdir, "mutation-mutants.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MUTANT_COLS)
        for m in chosen:
            w.writerow([m["module"], m["file"], m["line"], m["op"], m["desc"], m["verdict"],
                        m["by"], m["stage"], m["cls"], m["reason"], "%.1f" % m["secs"],
                        m["measured"], m["key"]])
    md = []
    md.append("# Mutation testing of mdatt's tests\n")
    md.append("Generated by `make mutation MUTANTS=%d SEED=%d` (tests/mutation/mutate.py); "
              "do not edit.\n" % (args.mutants, args.seed))
    md.append("- revision: %s\n- compiler: %s\n- started: %s UTC, wall time %s\n"
              "- per-mutant time limit: 5x the program's unmutated time + 20 s\n"
              % (meta["rev"], meta["cc"], meta["start"], meta["wall"]))
    timed = [m["secs"] for m in chosen if m["verdict"] != "not run" and m["secs"] > 0]
    if timed:
        mean = sum(timed) / len(timed)
        md.append("- time per mutant (build and run of its programs, niceness 15, on the "
                  "machine as loaded as it was): mean %.0f s, median %.0f s over %d mutants; the "
                  "whole sample of %d takes about %.0f min plus the two builds of the tree "
                  "(about 10 min)\n" % (mean, sorted(timed)[len(timed) // 2], len(timed),
                                        len(chosen), len(chosen) * mean / 60))
    revs = {}
    for m in chosen:
        revs[m["measured"]] = revs.get(m["measured"], 0) + 1
    if len(revs) > 1:
        md.append("- verdicts by revision (killed verdicts of an earlier run are carried over "
                  "for mutants with the same file, line text and change): " + ", ".join(
                      "%s: %d" % kv for kv in sorted(revs.items())) + "\n")
    md.append("Each mutant changes one token or term of one file; the test programs that cover "
              "the file are rebuilt and run (plain build, stopping at the first failure); "
              "survivors are rerun built with `--enable-sanitizers` (the pass CI runs). "
              "Score = killed / (mutants - equivalent); mutants that do not compile are not "
              "counted.\n")
    md.append("| module | files | mutants | killed | of which by the sanitizers | survived "
              "| equivalent | gap | score | not compiled | not run |")
    md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, files in MODULES:
        r = rows.get(n, dict.fromkeys(tot, 0))
        md.append("| %s | %s | %d | %d | %d | %d | %d | %d | %.1f %% | %d | %d |" % (
            n, ", ".join(files), r["mutants"], r["killed"], r["killed_sanitizers"],
            r["survived"], r["equivalent"], r["gap"], 100 * score(r), r["not_compiled"],
            r["not_run"]))
    md.append("| **total** | | %d | %d | %d | %d | %d | %d | %.1f %% | %d | %d |\n" % (
        tot["mutants"], tot["killed"], tot["killed_sanitizers"], tot["survived"],
        tot["equivalent"], tot["gap"], 100 * score(tot), tot["not_compiled"], tot["not_run"]))
    ops = {}
    for m in chosen:
        if m["verdict"] in ("not compiled", "not run"):
            continue
        o = ops.setdefault(m["op"], [0, 0])
        o[0] += 1
        o[1] += m["verdict"] == "killed"
    md.append("Test programs run per file (in this order, until one fails): " + "; ".join(
        "%s: %s" % (f, ", ".join(os.path.basename(t) for t in ts))
        for _, files in MODULES for f, ts in files.items()) + ".\n")
    md.append("Builds: `./configure %s` for the plain pass, `./configure %s` for the "
              "survivors' pass.\n" % (" ".join("'%s'" % a if " " in a else a
                                                 for a in PLAIN_CONFIGURE),
                                        " ".join("'%s'" % a if " " in a else a
                                                 for a in SAN_CONFIGURE)))
    md.append("Per operator (mutants, killed): " + ", ".join(
        "%s %d/%d" % (k, v[1], v[0]) for k, v in sorted(ops.items())) + ".\n")
    md.append("## Survivors\n")
    if not survivors:
        md.append("None.\n")
    else:
        md.append("| module | file:line | change | classification | reason |")
        md.append("|---|---|---|---|---|")
        for m in survivors:
            md.append("| %s | %s:%d | `%s` | %s | %s |" % (
                m["module"], m["file"], m["line"], m["desc"].replace("|", "\\|"),
                m["cls"], m["reason"].replace("|", "\\|")))
    md.append("\nEvery mutant (verdict, the program that killed it, time): "
              "`reports/mutation-mutants.csv`.\n")
    with open(os.path.join(outdir, "mutation.md"), "w") as f:
        f.write("\n".join(md))
    return tot


def report_only(args, classified):
    """The reports again from a finished run's files (new classifications)."""
    chosen, plain = [], {}
    with open(os.path.join(args.outdir, "mutation-mutants.csv"), newline="") as f:
        for r in csv.DictReader(f):
            chosen.append({"module": r["module"], "file": r["file"], "line": int(r["line"]),
                           "op": r["operator"], "desc": r["change"], "key": r["key"]})
            v = r["verdict"]
            if v == "killed" and r["stage"] == "sanitizers":
                v = "killed (sanitizers)"
            plain[r["key"]] = (v, r["killed_by"], float(r["seconds"]), r["revision"])
    meta = {}
    with open(os.path.join(args.outdir, "mutation.md")) as f:
        for line in f:
            m = re.match(r"^- (revision|compiler): (.*)$", line.strip())
            if m:
                meta["rev" if m.group(1) == "revision" else "cc"] = m.group(2)
            m = re.match(r"^- started: (.*) UTC, wall time (.*)$", line.strip())
            if m:
                meta["start"], meta["wall"] = m.group(1), m.group(2)
    rows, survivors = summarize(chosen, plain, {}, classified)
    tot = write_reports(args.outdir, chosen, rows, survivors, args, meta)
    print_summary(tot, survivors, meta)
    return 0


def print_summary(tot, survivors, meta):
    print("mutate.py: %d mutants, %d killed, %d survived (%d equivalent, %d gaps, "
          "%d unclassified), %d not compiled; score %.1f %%; %s" % (
              tot["mutants"], tot["killed"], tot["survived"], tot["equivalent"], tot["gap"],
              tot["unclassified"], tot["not_compiled"], 100 * score(tot), meta["wall"]))
    for m in survivors:
        if m["cls"] == "unclassified":
            print("unclassified survivor:\t%s" % m["key"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--srcdir", default=".")
    ap.add_argument("--outdir", default="reports")
    ap.add_argument("--work", default="/tmp/mdatt-mutation")
    ap.add_argument("--mutants", type=int, default=210)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-sanitizers", action="store_true",
                    help="skip the sanitizer rerun of the survivors")
    ap.add_argument("--list", action="store_true", help="print the sample and stop")
    ap.add_argument("--stop-plain", help="UTC time HH:MM after which the plain pass runs no "
                    "more mutants (the rest are reported as not run)")
    ap.add_argument("--stop", help="UTC time HH:MM after which the sanitizer pass stops")
    ap.add_argument("--rotate", action="store_true",
                    help="run the modules in turn, %d mutants at a time" % CHUNK)
    ap.add_argument("--skip-baseline", action="store_true",
                    help="do not rerun the unmutated tests (a resumed run of a tree whose "
                    "tests just passed); every program gets 600 s")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the reports from the outdir's mutation-mutants.csv and "
                    "mutation.md with the current classifications; run nothing")
    ap.add_argument("--reuse", action="append", help="a previous mutation-mutants.csv (or a "
                    "journal.csv of the work folder; may be given more than once): its killed "
                    "mutants that "
                    "are in this sample (same module, line text and change) keep their "
                    "verdict (and revision)")
    ap.add_argument("--modules", help="comma-separated modules to run (default: all); the "
                    "sample is the same, the other modules' mutants take their verdicts from "
                    "--keep or are not run")
    ap.add_argument("--keep", help="a previous mutation-mutants.csv whose verdicts (killed, "
                    "survived, not compiled) the modules outside --modules keep")
    args = ap.parse_args()
    srcdir = os.path.abspath(args.srcdir)
    work = os.path.abspath(args.work)
    global MODULES
    MODULES = resolve_modules(srcdir)
    classified = load_classified(os.path.join(srcdir, "tests/mutation/classified.tsv"))
    per_module = candidates(srcdir)
    allsites = [(m["key"], name) for name, cand in per_module for m in cand]
    classified.bind(allsites)
    if args.report_only:
        return report_only(args, classified)
    chosen, nsites = choose(per_module, args.mutants, args.seed, args.rotate)
    names = [n for n, _ in MODULES]
    selected = args.modules.split(",") if args.modules else names
    for n in selected:
        if n not in names:
            sys.exit("mutate.py: --modules: no module %s (modules: %s)" % (n, ", ".join(names)))
    if args.list:
        for m in chosen:
            print("%s\t%s:%d\t%s\t%s" % (m["module"], m["file"], m["line"], m["op"], m["desc"]))
        print("candidate sites per module:", nsites, file=sys.stderr)
        return 0
    if os.nice(0) < 15:    # the builds and tests share the machine: niceness 15
        os.nice(15 - os.nice(0))
    start = time.time()
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "build.log")
    plain_tree = os.path.join(work, "plain")
    print("mutate.py: %d mutants (seed %d) in %s" % (len(chosen), args.seed, work), flush=True)
    prepare_tree(srcdir, plain_tree, PLAIN_CONFIGURE, log)
    torun = [m for m in chosen if m["module"] in selected]
    limits = baseline(plain_tree, log, False, args.skip_baseline, selected)
    reuse = load_reuse(args.reuse) if args.reuse else None
    if reuse:
        reuse.bind(allsites)
    keep = load_reuse(args.keep, everything=True) if args.keep else KeyTable()
    keep.bind(allsites)
    plain = {m["key"]: keep.get(m["key"], m["module"], ("not run", "", 0.0, ""))
             for m in chosen if m["module"] not in selected}
    journal = os.path.join(work, "journal.csv")
    print("mutate.py: verdicts are also appended to %s (for --reuse after an interruption)"
          % journal, flush=True)
    plain.update(mutate_all(plain_tree, torun, limits, log, False, True, revision(srcdir), reuse,
                            utc_today(args.stop_plain), journal))
    san = {}
    surv = [m for m in torun if plain[m["key"]][0] == "survived"]
    surv.sort(key=lambda m: m["op"] != "bound")     # possible overruns first
    if surv and not args.no_sanitizers:
        print("mutate.py: %d survivors, rerun with the sanitizers" % len(surv), flush=True)
        san_tree = os.path.join(work, "sanitizers")
        prepare_tree(srcdir, san_tree, SAN_CONFIGURE, log)
        slimits = baseline(san_tree, log, True, args.skip_baseline, selected)
        san = mutate_all(san_tree, surv, slimits, log, True, True, revision(srcdir),
                         stop=utc_today(args.stop), journal=journal)
    rows, survivors = summarize(chosen, plain, san, classified)
    rev = revision(srcdir)
    rc, cc = run(["cc", "--version"], srcdir)
    wall = time.time() - start
    meta = {"rev": rev, "cc": cc.split("\n")[0],
            "start": time.strftime("%Y-%m-%d %H:%M", time.gmtime(start)),
            "wall": "%d min %d s" % (wall // 60, wall % 60)}
    os.makedirs(args.outdir, exist_ok=True)
    tot = write_reports(args.outdir, chosen, rows, survivors, args, meta)
    print_summary(tot, survivors, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
