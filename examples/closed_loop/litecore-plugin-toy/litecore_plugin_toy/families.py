"""The toy families: ``echo-words`` and ``make-file``.

Values are drawn from small fixed lists so a tokenizer trained on the training
trajectories knows each of them as a token; each family has two slots, so
held-out instances are mostly new combinations (48 x 47 and 24 x 48 of them),
never new spellings.
"""

from __future__ import annotations

from litecore.records import TaskDraft, TaskFamily, TaskRequest

WORDS: tuple[str, ...] = (
    "apple", "river", "stone", "cloud", "maple", "tiger", "candle", "garden", "silver", "rocket",
    "pepper", "violet", "harbor", "meadow", "falcon", "copper", "lemon", "forest", "planet", "marble",
    "orange", "winter", "summer", "canyon", "pillow", "basket", "dragon", "island", "mirror", "jacket",
    "butter", "carpet", "engine", "feather", "ginger", "hammer", "kettle", "ladder", "magnet", "needle",
    "pencil", "puzzle", "rabbit", "saddle", "ticket", "velvet", "wallet", "zipper",
)
NAMES: tuple[str, ...] = (
    "notes", "hello", "result", "output", "report", "summary", "greeting", "message",
    "record", "status", "answer", "final", "first", "second", "label", "title",
    "memo", "entry", "token", "value", "marker", "sample", "draft", "chosen",
)

_TIMEOUTS = {"agent_timeout_sec": 60.0, "verifier_timeout_sec": 60.0}


def _file_tests(path: str, word: str) -> str:
    # two checks, one per copied value: the file's name, then its content
    return f'''import pathlib

TARGET = pathlib.Path({path!r})


def test_file_exists():
    assert TARGET.is_file()


def test_file_holds_the_word():
    assert TARGET.read_text().strip() == {word!r}
'''


def _words_tests(path: str, first: str, second: str) -> str:
    # one check per copied word, so partial credit counts correctly copied values
    return f'''import pathlib


def words():
    return pathlib.Path({path!r}).read_text().split()


def test_first_word():
    assert words()[:1] == [{first!r}]


def test_second_word():
    assert words()[1:] == [{second!r}]
'''


def _other(word: str) -> str:
    return WORDS[(WORDS.index(word) + 1) % len(WORDS)]


def echo_words(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    first, second = rng.sample(WORDS, 2)
    return TaskDraft(
        instruction=f"Write the output of `echo {first} {second}` to /app/answer.txt.",
        app_files={},
        solve=f"# Run echo {first} {second} and save its output with tee.\necho {first} {second} | tee /app/answer.txt\n",
        wrong_solve=f"echo {second} {first} > /app/answer.txt\n",
        tests=_words_tests("/app/answer.txt", first, second),
        tags=("toy",),
        **_TIMEOUTS,
    )


def make_file(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    name, word = rng.choice(NAMES), rng.choice(WORDS)
    path = f"/app/{name}.txt"
    return TaskDraft(
        instruction=f"Create the file {path} holding the output of `echo {word}`.",
        app_files={},
        solve=f"# Run echo {word} and save its output to {path} with tee.\necho {word} | tee {path}\n",
        wrong_solve=f"echo {word} > /app/answer.txt\n" if name != "answer" else f"echo {_other(word)} > {path}\n",
        tests=_file_tests(path, word),
        tags=("toy",),
        **_TIMEOUTS,
    )


FAMILIES: tuple[TaskFamily, ...] = (
    TaskFamily(name="echo-words", description="write the two words the task names to /app/answer.txt",
               generate=echo_words, requires=("bash",), difficulties=("easy",)),
    TaskFamily(name="make-file", description="create the named file holding the named word",
               generate=make_file, requires=("bash",), difficulties=("easy",)),
)
