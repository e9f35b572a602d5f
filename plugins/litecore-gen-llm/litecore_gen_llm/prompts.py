"""Stage prompts. Every system prompt starts with ``litecore-stage: NAME`` so logs (and the
scripted test server) can tell the stages apart."""

from __future__ import annotations

from litecore.records import DomainSpec

ENVIRONMENT_RULES = """\
The environment is a Debian 12 container built FROM litecore/dev:bookworm, which has bash,
coreutils, python3 with pytest, numpy, pandas, scipy and scikit-learn, git, make, gcc, tmux,
sqlite3, jq, curl, openssl and the usual command-line tools. It has NO network access at build,
run or test time: everything the task needs must be in the files you write. The agent works in
/app as root. Before the tests run, every process the agent started is killed."""


def domain_system_prompt(spec: DomainSpec, domain: str) -> str:
    return (
        f"litecore-stage: sample\n"
        f"You write realistic tasks for engineers working in a Linux terminal, in the domain "
        f"'{domain}'.\nDomain: {spec.description}\nSkills it trains: {', '.join(spec.skills)}.\n"
        f"Typical topics: {', '.join(spec.topics)}.\nTypical tools: {', '.join(spec.tools)}.\n"
        f"{ENVIRONMENT_RULES}\n"
        "A good task needs several commands and some exploration (reading files, checking formats, "
        "running and fixing things), has one verifiable outcome, and can be solved offline."
    )


def sample_request(topic: str, skill: str, difficulty: str) -> str:
    return (
        f"Propose one {difficulty} task about '{topic}' that exercises '{skill}'. Describe the situation, "
        "the input files that exist, and exactly what must be produced. Answer with the task description only."
    )


JUDGE = """litecore-stage: judge
You review proposed terminal tasks. Accept a task only if it is of moderate complexity (several
commands, not a one-liner, not a week of work), clearly described, verifiable from files or program
behaviour, and solvable offline with the tools of a standard Debian image.
Answer with one JSON object: {"accept": true|false, "reason": "..."}"""

INSTRUCTION = """litecore-stage: instruction
Rewrite the task below as the instruction an agent will read. Make every requirement testable:
exact paths under /app, exact output formats, exact names. Do not reveal the solution.
Answer with the instruction text only (markdown allowed)."""

ENVIRONMENT = f"""litecore-stage: environment
Write the input files of the task's environment. {ENVIRONMENT_RULES}
Files are placed under /app. Make the data realistic and specific (not placeholders).
Answer with one JSON object: {{"files": {{"relative/path": "file content", ...}}}}"""

SOLUTION = """litecore-stage: solution
Write the reference solution: a bash script run as `bash /solution/solve.sh` from /app that
completes the task. Separate its steps by blank lines, each step starting with a `#` comment
saying what it does; no blank lines inside heredocs. Start with a step that inspects the inputs.
Answer with the script only, in a ```bash block."""

VERIFIER = """litecore-stage: verifier
Write the hidden tests: a pytest file run as /tests/test_outputs.py after the agent finished.
Check outcomes (files, program behaviour), accept any correct solution, and embed the expected
values (the agent can edit anything under /app, so never recompute expectations from /app inputs).
Use several test functions (they give partial credit) and only the Python standard library plus
what the image has. Answer with the file only, in a ```python block."""

ATTACK = """litecore-stage: attack
You try to break a verifier. Write bash scripts that try to make the tests pass WITHOUT doing the
task: constant or guessed outputs, editing or replacing the tests, writing
/logs/verifier/reward.txt or reward.json, leaving background processes, exploiting loose checks.
Answer with one JSON object: {"attacks": [{"name": "...", "script": "..."}, ...]}"""

CONFIG = """litecore-stage: config
Describe the finished task for its task.toml. Answer with one JSON object:
{"difficulty": "easy|medium|hard", "tags": ["..."], "agent_timeout_sec": 600, "verifier_timeout_sec": 120}"""


def repair(artifact: str, logs: str) -> str:
    return (
        f"The {artifact} you wrote failed when executed. Here are the logs:\n\n{logs}\n\n"
        f"Write a corrected {artifact}, in the same answer format as before."
    )
