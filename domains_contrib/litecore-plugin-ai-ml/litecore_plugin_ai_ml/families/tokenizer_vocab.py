"""Build a tokenizer vocabulary from a corpus to an exact spec, then encode held-out text.

Easy is a word-level vocabulary with frequency cut-off and a tie rule; medium
adds a size cap, a number placeholder and sentence markers; hard is byte-pair
encoding: learn merges with a stated tie rule and encode by replaying them.
The spec fully determines the output, so the verifier compares exactly.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


WORDS = ("the a of to and in model data train loss token layer value batch graph node edge sample weight "
         "input output learn rate small large fast slow river stone cloud light night garden paper window "
         "lower upper inner outer tree leaf root branch signal noise filter kernel vector matrix sum mean "
         "table chair market price trade order ledger stream packet router socket server client").split()
PUNCT = (".", ",", "!", "?", ";", ":")
TOKEN_RE = r"[a-z]+|[0-9]+|[^\sa-z0-9]"


def _sentence(rng, vocab: list[str], weights: list[float], numbers: bool) -> str:
    words = rng.choices(vocab, weights=weights, k=rng.randint(4, 11))
    if numbers and rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), str(rng.randint(0, 2024)))
    words = [w.title() if rng.random() < 0.15 else w for w in words]
    words[0] = words[0].capitalize()
    out = " ".join(words)
    if rng.random() < 0.4:
        cut = rng.randrange(1, len(words))
        out = " ".join(words[:cut]) + pick(rng, (",", ";", ":")) + " " + " ".join(words[cut:])
    return out + pick(rng, (".", ".", "!", "?"))


def _pretok(line: str) -> list[str]:
    return re.findall(TOKEN_RE, line.lower())


def _bpe_learn(words: Counter, n_merges: int) -> list[tuple[str, str]]:
    seqs = {w: list(w) + ["</w>"] for w in words}
    merges = []
    for _ in range(n_merges):
        pairs: Counter = Counter()
        for w, seq in seqs.items():
            for a, b in zip(seq, seq[1:]):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        top = max(pairs.values())
        pair = min(p for p, c in pairs.items() if c == top)
        merges.append(pair)
        for w, seq in seqs.items():
            seqs[w] = _merge(seq, pair)
    return merges


def _merge(seq: list[str], pair: tuple[str, str]) -> list[str]:
    out, i = [], 0
    while i < len(seq):
        if i + 1 < len(seq) and (seq[i], seq[i + 1]) == pair:
            out.append(seq[i] + seq[i + 1])
            i += 2
        else:
            out.append(seq[i])
            i += 1
    return out


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    vocab = rng.sample(WORDS, rng.randint(30, 45))
    weights = [1.0 / (i + 1) ** rng.uniform(0.7, 1.1) for i in range(len(vocab))]
    numbers = d == "medium"
    corpus = [_sentence(rng, vocab, weights, numbers) for _ in range(rng.randint(60, 90))]
    extra = rng.sample([w for w in WORDS if w not in vocab], 3)  # out-of-vocabulary words
    held = [_sentence(rng, vocab[:20] + extra, [1.0] * 23, numbers) for _ in range(6)]
    specials = ["<pad>", "<unk>"] + (["<bos>", "<eos>", "<num>"] if d == "medium" else [])
    min_freq = pick(rng, (2, 3))
    counts: Counter = Counter()
    for line in corpus:
        toks = _pretok(line)
        if d == "medium":
            toks = ["<num>" if t.isdigit() else t for t in toks]
        counts.update(toks)
    if d != "hard":
        eligible = sorted((t for t, c in counts.items() if c >= min_freq and t not in specials),
                          key=lambda t: (-counts[t], t))
        cap = len(specials) + len(eligible)
        if d == "medium":
            cap = len(specials) + max(5, len(eligible) - rng.randint(5, 10))
            eligible = eligible[: cap - len(specials)]
        itos = specials + eligible
        stoi = {t: i for i, t in enumerate(itos)}
        encoded = []
        for line in held:
            toks = _pretok(line)
            if d == "medium":
                toks = ["<num>" if t.isdigit() else t for t in toks]
            ids = [stoi.get(t, stoi["<unk>"]) for t in toks]
            if d == "medium":
                ids = [stoi["<bos>"], *ids, stoi["<eos>"]]
            encoded.append(ids)
        merges: list[tuple[str, str]] = []
    else:
        words = Counter(t for line in corpus for t in _pretok(line) if t.isalpha())
        n_merges = pick(rng, (25, 30, 40))
        merges = _bpe_learn(words, n_merges)
        alphabet = sorted({ch for w in words for ch in w} | {"</w>"})
        itos = specials + alphabet + [a + b for a, b in merges]
        stoi = {}
        for t in itos:
            stoi.setdefault(t, len(stoi))
        encoded = []
        for line in held:
            ids = []
            for w in _pretok(line):
                if not w.isalpha():
                    continue
                seq = list(w) + ["</w>"]
                for m in merges:
                    seq = _merge(seq, m)
                ids += [stoi.get(t, stoi["<unk>"]) for t in seq]
            encoded.append(ids)

    rules = [
        "lower-case the text, then split it into tokens with the regular expression "
        f"`{TOKEN_RE}` (runs of letters, runs of digits, or a single other non-space character)",
    ]
    if d == "easy":
        rules += [
            f"ids 0 and 1 are `<pad>` and `<unk>`; then every token seen at least {min_freq} times in the "
            "corpus, most frequent first, ties broken alphabetically (plain string order)",
            "when encoding, tokens not in the vocabulary become `<unk>`",
        ]
    elif d == "medium":
        rules += [
            "every run of digits is replaced by the token `<num>` before counting and before encoding",
            "ids 0..4 are `<pad>`, `<unk>`, `<bos>`, `<eos>`, `<num>`; then the tokens seen at least "
            f"{min_freq} times (other than `<num>`), most frequent first, ties broken alphabetically",
            f"the vocabulary holds at most {cap} entries in total (special tokens included): keep the first "
            "ones in the order above",
            "each encoded line starts with the `<bos>` id and ends with the `<eos>` id; unknown tokens become "
            "`<unk>`",
        ]
    else:
        rules += [
            "only tokens made of letters are used (for training and encoding); each word is a sequence of its "
            "characters followed by the end-of-word symbol `</w>`",
            f"learn exactly {len(merges)} BPE merges: at each step count every adjacent symbol pair over all "
            "words, weighting each word by its corpus frequency; merge the most frequent pair everywhere "
            "(left to right, non-overlapping); ties go to the pair that is smallest as a (left, right) tuple "
            "of strings",
            "vocabulary ids: `<pad>`=0, `<unk>`=1, then the base symbols (every character seen in the "
            "training words, plus `</w>`) sorted, then one entry per merge in the order learned (the "
            "concatenated symbol); a string already in the vocabulary is skipped, so ids stay consecutive",
            "write the merges to /app/merges.txt, one per line as `left right`, in order",
            "to encode a word, start from its characters plus `</w>` and apply the merges in the order "
            "learned; a symbol not in the vocabulary becomes `<unk>`",
        ]
    intro = pick(rng, (
        "Build a tokenizer for the text in /app/corpus.txt.",
        "We need a vocabulary for our language-model experiments, built from /app/corpus.txt.",
        "Create the tokenizer vocabulary for /app/corpus.txt exactly as specified below.",
    ))
    outputs = ("Write the vocabulary to /app/vocab.json as a JSON object mapping each token to its integer id, "
               "and encode every line of /app/heldout.txt into /app/encoded.txt: one line per input line, the "
               "ids separated by single spaces.")
    instruction = f"{intro} {outputs}\n\nSpecification:\n{bullets(rules)}\n"

    if d != "hard":
        work = f"""# Count tokens per the spec, build the ordered vocabulary and encode the held-out text
python3 - <<'PY'
import json, re
from collections import Counter
MEDIUM = {d == "medium"!r}
MIN_FREQ = {min_freq}
CAP = {cap if d == "medium" else None!r}
specials = {specials!r}
def toks(line):
    t = re.findall(r'{TOKEN_RE}', line.lower())
    return ['<num>' if MEDIUM and x.isdigit() else x for x in t]
counts = Counter(t for line in open('/app/corpus.txt') for t in toks(line))
keep = sorted((t for t, c in counts.items() if c >= MIN_FREQ and t not in specials), key=lambda t: (-counts[t], t))
itos = specials + keep
if CAP:
    itos = itos[:CAP]
stoi = {{t: i for i, t in enumerate(itos)}}
json.dump(stoi, open('/app/vocab.json', 'w'), indent=1)
with open('/app/encoded.txt', 'w') as out:
    for line in open('/app/heldout.txt'):
        ids = [stoi.get(t, stoi['<unk>']) for t in toks(line)]
        if MEDIUM:
            ids = [stoi['<bos>']] + ids + [stoi['<eos>']]
        out.write(' '.join(map(str, ids)) + '\\n')
print(len(itos), 'tokens')
PY"""
    else:
        work = f"""# Learn the BPE merges with the stated tie rule, then build the vocabulary and encode
python3 - <<'PY'
import json, re
from collections import Counter
N = {len(merges)}
words = Counter(t for line in open('/app/corpus.txt') for t in re.findall(r'{TOKEN_RE}', line.lower()) if t.isalpha())
def apply(seq, pair):
    out, i = [], 0
    while i < len(seq):
        if i + 1 < len(seq) and seq[i] == pair[0] and seq[i + 1] == pair[1]:
            out.append(seq[i] + seq[i + 1]); i += 2
        else:
            out.append(seq[i]); i += 1
    return out
seqs = {{w: list(w) + ['</w>'] for w in words}}
merges = []
for _ in range(N):
    pc = Counter()
    for w, s in seqs.items():
        for p in zip(s, s[1:]):
            pc[p] += words[w]
    best = sorted(pc.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    merges.append(best)
    seqs = {{w: apply(s, best) for w, s in seqs.items()}}
open('/app/merges.txt', 'w').write(''.join(f'{{a}} {{b}}\\n' for a, b in merges))
base = sorted(set(''.join(words)) | {{'</w>'}})
stoi = {{}}
for t in ['<pad>', '<unk>'] + base + [a + b for a, b in merges]:
    stoi.setdefault(t, len(stoi))
json.dump(stoi, open('/app/vocab.json', 'w'), indent=1)
with open('/app/encoded.txt', 'w') as out:
    for line in open('/app/heldout.txt'):
        ids = []
        for w in re.findall(r'{TOKEN_RE}', line.lower()):
            if not w.isalpha():
                continue
            s = list(w) + ['</w>']
            for m in merges:
                s = apply(s, m)
            ids += [stoi.get(t, 1) for t in s]
        out.write(' '.join(map(str, ids)) + '\\n')
print(len(stoi), 'vocab entries;', merges[:5])
PY"""
    solve = f"""# Look at the corpus and the held-out text
head -5 /app/corpus.txt
wc -l /app/corpus.txt /app/heldout.txt

{work}

# Spot-check the outputs
head -c 300 /app/vocab.json
head -3 /app/encoded.txt
"""
    if d == "easy":
        wrong = work.replace("key=lambda t: (-counts[t], t)", "key=lambda t: -counts[t]")
    elif d == "medium":
        wrong = work.replace("if CAP:", "if False:")
    else:
        wrong = work.replace("list(w) + ['</w>']", "list(w)").replace(" | {'</w>'}", "")
    assert wrong != work
    vocab_map = stoi
    tests = f"""import json
import pathlib

VOCAB = json.loads({json.dumps(json.dumps(vocab_map, sort_keys=True))})
ENCODED = {encoded!r}
MERGES = {[list(m) for m in merges]!r}


def test_vocab_is_exact():
    got = json.loads(pathlib.Path("/app/vocab.json").read_text())
    assert got == VOCAB


def test_special_ids():
    got = json.loads(pathlib.Path("/app/vocab.json").read_text())
    assert got.get("<pad>") == 0 and got.get("<unk>") == 1


def test_encoded_lines():
    lines = pathlib.Path("/app/encoded.txt").read_text().splitlines()
    got = [[int(t) for t in line.split()] for line in lines]
    assert got == ENCODED
"""
    if d == "hard":
        tests += """

def test_merges_in_order():
    lines = [l.split() for l in pathlib.Path("/app/merges.txt").read_text().splitlines() if l.strip()]
    assert lines == MERGES
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"corpus.txt": "\n".join(corpus) + "\n", "heldout.txt": "\n".join(held) + "\n"},
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("tokenizer", "nlp", "bpe" if d == "hard" else "vocabulary"),
    )


FAMILY = TaskFamily(
    name="tokenizer-vocab",
    description="build a word-level or BPE vocabulary to an exact spec and encode held-out text",
    generate=generate,
    requires=("python3",),
)
