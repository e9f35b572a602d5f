"""The ``llm`` generator engine: stages, execution-grounded gate with repair, dedup, accounting."""

from __future__ import annotations

import json
import random
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from litecore.errors import LitecoreError
from litecore.generate import GeneratedTask, GenerationContext, TaskPlan, TaskRejected, render_draft
from litecore.llm import litellm_module
from litecore.records import Domain, TaskDraft, TaskRequest
from litecore.rollout import write_json_atomic
from litecore.task import load_dataset, load_task, write_task
from litecore.verify import run_solution

from litecore_gen_llm import prompts
from litecore_gen_llm.client import LLMClient, LLMError, Reply
from litecore_gen_llm.config import LLMGenConfig

STAGES = ("sample", "judge", "instruction", "environment", "solution", "verifier", "attack", "config")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "topic"


def extract_code(text: str, lang: str = "") -> str:
    """The body of the first fenced block (preferring ``lang``), else the whole reply."""
    blocks = re.findall(r"```([a-zA-Z0-9_+-]*)\n(.*?)```", text, re.S)
    for tag, body in blocks:
        if not lang or tag.lower() in (lang, ""):
            return body.strip("\n") + "\n"
    if blocks:
        return blocks[0][1].strip("\n") + "\n"
    return text.strip() + "\n"


def extract_json(text: str) -> dict[str, Any]:
    """The first JSON object in a reply (fences and chatter around it are ignored)."""
    body = extract_code(text, "json") if "```" in text else text
    start = body.find("{")
    while start >= 0:
        depth = 0
        for i in range(start, len(body)):
            if body[i] == "{":
                depth += 1
            elif body[i] == "}":
                depth -= 1
                if depth == 0:
                    try:
                        value = json.loads(body[start : i + 1])
                    except json.JSONDecodeError:
                        break
                    if isinstance(value, dict):
                        return value
                    break
        start = body.find("{", start + 1)
    raise ValueError("no JSON object in the reply")


def shingles(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z]+|\d+", text.lower())
    return frozenset(" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2)))


@attrs.define
class StageCost:
    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0

    def add(self, r: Reply) -> None:
        if r.cached:
            self.cached += 1
        else:
            self.calls += 1
        self.prompt_tokens += r.prompt_tokens
        self.completion_tokens += r.completion_tokens
        self.cost_usd += 0.0 if r.cached else r.cost_usd
        self.wall_s += r.wall_s


@attrs.define
class Candidate:
    """Everything one plan item produced so far, and what it cost."""

    plan: TaskPlan
    topic: str
    skill: str
    costs: dict[str, StageCost] = attrs.field(factory=dict)
    artifacts: dict[str, Any] = attrs.field(factory=dict)
    logs: list[str] = attrs.field(factory=list)
    sandbox_s: float = 0.0
    repairs: int = 0


@attrs.frozen
class Fault:
    stage: str
    logs: str


class LLMGenerator:
    """Factory of the ``llm`` engine: ``LLMGenerator(config, domains, context)``."""

    def __init__(self, config: LLMGenConfig, domains: Mapping[str, Domain], context: GenerationContext | None) -> None:
        if context is None:
            raise LitecoreError("the llm generator needs a run context (use it through `litecore run`)")
        self.config = config
        self.domains = domains
        self.context = context
        self.work = context.work_dir
        cache = Path(config.cache_dir) if config.cache_dir else self.work / "llm-cache"
        self.client = LLMClient(config, cache)
        litellm_module()  # import it now (seconds), not inside the first candidate's accounting
        self._seen: list[tuple[str, frozenset[str]]] | None = None
        self._seen_lock = threading.Lock()

    # -- planning ------------------------------------------------------------
    def families(self, domain: Domain) -> list[str]:
        return [f"llm-{slug(t)}" for t in domain.spec.topics] or ["llm-general"]

    def _topic(self, domain: Domain, family: str) -> str:
        for t in domain.spec.topics:
            if f"llm-{slug(t)}" == family:
                return t
        return family.removeprefix("llm-").replace("-", " ")

    # -- one plan item -------------------------------------------------------
    def generate(self, plan: TaskPlan) -> GeneratedTask:
        domain = self.domains[plan.domain]
        rng = random.Random(f"llm:{plan.seed}")
        skill = rng.choice(domain.spec.skills) if domain.spec.skills else "general problem solving"
        cand = Candidate(plan=plan, topic=self._topic(domain, plan.family), skill=skill)
        t0 = time.monotonic()
        try:
            generated = self._run(domain, cand)
        except TaskRejected as exc:
            if not str(exc).startswith("near-duplicate"):
                self._release(plan.task_id)
            self._record(cand, accepted=False, reason=str(exc), wall=time.monotonic() - t0)
            raise
        except LLMError as exc:
            self._release(plan.task_id)
            reason = f"LLM call failed: {exc}"
            self._record(cand, accepted=False, reason=reason, wall=time.monotonic() - t0)
            raise TaskRejected(reason) from None
        self._record(cand, accepted=True, reason="proven", wall=time.monotonic() - t0)
        return generated

    def _ask(self, cand: Candidate, stage: str, messages: list[dict[str, str]], **kw: Any) -> str:
        reply = self.client.chat(messages, **kw)
        cand.costs.setdefault(stage, StageCost()).add(reply)
        return reply.text

    def _run(self, domain: Domain, cand: Candidate) -> GeneratedTask:
        plan = cand.plan
        system = prompts.domain_system_prompt(domain.spec, domain.name)
        # 0. task sampling
        if self.config.magpie:
            raw = self.client.complete_raw(
                f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n", stop=["<|im_end|>"])
            cand.costs.setdefault("sample", StageCost()).add(raw)
            task_text = raw.text.strip()
        else:
            task_text = self._ask(cand, "sample", [
                {"role": "system", "content": system},
                {"role": "user", "content": prompts.sample_request(cand.topic, cand.skill, plan.difficulty)},
            ], temperature=self.config.sample_temperature).strip()
        cand.artifacts["raw_task"] = task_text
        # 1. feasibility judge
        try:
            verdict = extract_json(self._ask(cand, "judge", [
                {"role": "system", "content": prompts.JUDGE}, {"role": "user", "content": task_text}]))
        except ValueError:
            raise TaskRejected("judge: unreadable verdict") from None
        if verdict.get("accept") is not True:
            raise TaskRejected(f"judge: {verdict.get('reason', 'not accepted')}")
        # 2. instruction
        instruction = self._ask(cand, "instruction", [
            {"role": "system", "content": prompts.INSTRUCTION}, {"role": "user", "content": task_text}]).strip()
        if not instruction:
            raise TaskRejected("instruction: empty")
        self._check_duplicate(plan.task_id, instruction)
        cand.artifacts["instruction"] = instruction
        # 3. environment
        cand.artifacts["files"] = self._environment(cand, instruction, feedback=None)
        env_log = self._explore(domain, cand)
        # 4. reference solution, seeing what the environment really holds
        cand.artifacts["solve"] = self._solution(cand, env_log, feedback=None)
        solve_log = self._try_solution(domain, cand)
        # 5. verifier, seeing what the solution did
        cand.artifacts["tests"] = self._verifier(cand, solve_log, feedback=None)
        # 6. the gate with repair, then verifier hardening: attack -> refine -> re-prove.
        # Every attack ever written stays in the gate, so a refinement cannot reopen a hole.
        self._gate_with_repair(domain, cand, attacks={})
        attacks: dict[str, str] = {}
        for _ in range(self.config.max_attack_rounds):
            new = self._attacks(cand)
            if not new:
                break
            attacks.update(new)
            fault = self._gate(domain, cand, attacks)
            if fault is None:
                break
            cand.logs.append(f"attack round ({fault.stage}):\n{fault.logs}")
            if fault.stage == "verifier":
                cand.artifacts["tests"] = self._verifier(cand, solve_log, feedback=fault.logs)
            self._gate_with_repair(domain, cand, attacks)
        # 7. configuration
        try:
            meta = extract_json(self._ask(cand, "config", [
                {"role": "system", "content": prompts.CONFIG}, {"role": "user", "content": instruction}]))
        except ValueError:
            meta = {}
        draft = self._draft(cand, meta, attacks)
        return render_draft(domain, plan.family, TaskRequest(seed=plan.seed, difficulty=plan.difficulty), draft,
                            generator="llm", description=f"{cand.topic}: {cand.skill}")

    # -- stages --------------------------------------------------------------
    def _environment(self, cand: Candidate, instruction: str, feedback: str | None) -> dict[str, str]:
        messages = [{"role": "system", "content": prompts.ENVIRONMENT},
                    {"role": "user", "content": f"Task instruction:\n{instruction}"}]
        if feedback:
            messages.append({"role": "user", "content": prompts.repair("environment", feedback)})
        try:
            files = extract_json(self._ask(cand, "environment", messages)).get("files", {})
        except ValueError:
            raise TaskRejected("environment: reply held no JSON object") from None
        if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise TaskRejected("environment: 'files' must map paths to text")
        clean = {}
        for path, content in files.items():
            rel = path.removeprefix("/app/").lstrip("/")
            if not rel or ".." in Path(rel).parts:
                raise TaskRejected(f"environment: bad file path {path!r}")
            clean[rel] = content
        return clean

    def _solution(self, cand: Candidate, env_log: str, feedback: str | None) -> str:
        messages = [{"role": "system", "content": prompts.SOLUTION},
                    {"role": "user", "content": f"Task instruction:\n{cand.artifacts['instruction']}\n\n"
                                                f"What the environment holds (executed):\n{env_log}"}]
        if feedback:
            messages.append({"role": "user", "content": prompts.repair("solution", feedback)})
        return extract_code(self._ask(cand, "solution", messages), "bash")

    def _verifier(self, cand: Candidate, solve_log: str, feedback: str | None) -> str:
        messages = [{"role": "system", "content": prompts.VERIFIER},
                    {"role": "user", "content": f"Task instruction:\n{cand.artifacts['instruction']}\n\n"
                                                f"Reference solution:\n{cand.artifacts['solve']}\n\n"
                                                f"Its execution log:\n{solve_log}"}]
        if feedback:
            messages.append({"role": "user", "content": prompts.repair("test file", feedback)})
        return extract_code(self._ask(cand, "verifier", messages), "python")

    def _attacks(self, cand: Candidate) -> dict[str, str]:
        messages = [{"role": "system", "content": prompts.ATTACK},
                    {"role": "user", "content": f"Task instruction:\n{cand.artifacts['instruction']}\n\n"
                                                f"Hidden tests:\n{cand.artifacts['tests']}"}]
        try:
            items = extract_json(self._ask(cand, "attack", messages)).get("attacks", [])
        except ValueError:
            items = []
        out = {}
        for i, item in enumerate(items[: self.config.attacks]):
            if isinstance(item, dict) and isinstance(item.get("script"), str):
                out[slug(str(item.get("name") or f"attack-{i}"))] = item["script"]
        cand.artifacts["attacks"] = out
        return out

    # -- execution -----------------------------------------------------------
    def _draft(self, cand: Candidate, meta: Mapping[str, Any], attacks: Mapping[str, str]) -> TaskDraft:
        def num(key: str, default: float) -> float:
            v = meta.get(key, default)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else default

        tags = tuple(str(t) for t in meta.get("tags", []) if isinstance(t, (str, int)))[:8]
        return TaskDraft(
            instruction=cand.artifacts["instruction"],
            app_files=cand.artifacts["files"],
            solve=cand.artifacts["solve"],
            tests=cand.artifacts["tests"],
            wrong_solve=next(iter(attacks.values()), "true\n"),
            tags=tags + (slug(cand.topic), slug(cand.skill)),
            agent_timeout_sec=num("agent_timeout_sec", 600.0),
            verifier_timeout_sec=num("verifier_timeout_sec", 120.0),
        )

    def _materialize(self, domain: Domain, cand: Candidate, attacks: Mapping[str, str]):
        plan = cand.plan
        draft = self._draft(cand, {}, attacks)
        gen = render_draft(domain, plan.family, TaskRequest(seed=plan.seed, difficulty=plan.difficulty), draft,
                           generator="llm", description=f"{cand.topic}: {cand.skill}")
        n = len(cand.logs)
        dest = self.work / "candidates" / plan.task_id / f"try{n}"
        if dest.exists():
            shutil.rmtree(dest)
        write_task(dest, instruction=gen.instruction, config=gen.config, files=gen.files,
                   executables=gen.executables)
        return load_task(dest)

    def _trial(self, cand: Candidate, task, script):
        """One sandbox: run ``script`` (True = reference solution, None = nothing), verify."""
        t0 = time.monotonic()
        try:
            with self.context.backend().open(task) as sb:
                if script is None:
                    res = None
                else:
                    res = run_solution(sb, task, None if script is True else script)
                verdict = self.context.verifier.verify(task, sb)
        finally:
            cand.sandbox_s += time.monotonic() - t0
        return res, verdict

    def _explore(self, domain: Domain, cand: Candidate) -> str:
        cand.artifacts.setdefault("solve", "true\n")
        cand.artifacts.setdefault("tests", "def test_placeholder():\n    pass\n")
        task = self._materialize(domain, cand, {})
        t0 = time.monotonic()
        try:
            with self.context.backend().open(task) as sb:
                res = sb.exec("ls -la /app; for f in $(find /app -type f | head -20); do echo \"== $f\"; "
                              "head -c 600 \"$f\"; echo; done", timeout=30)
        except LitecoreError as exc:
            raise TaskRejected(f"environment: {exc}") from None
        finally:
            cand.sandbox_s += time.monotonic() - t0
        log = res.output[-6000:]
        cand.logs.append(f"explore:\n{log}")
        return log

    def _try_solution(self, domain: Domain, cand: Candidate) -> str:
        task = self._materialize(domain, cand, {})
        res, _ = self._trial(cand, task, True)
        log = f"exit code {res.exit_code}{' (timed out)' if res.timed_out else ''}\n{res.output[-4000:]}"
        cand.logs.append(f"solution:\n{log}")
        return log

    def _gate(self, domain: Domain, cand: Candidate, attacks: Mapping[str, str]) -> Fault | None:
        """Build, oracle 1, noop 0, every attack 0; the first failure names the stage at fault."""
        task = self._materialize(domain, cand, attacks)
        try:
            self.context.backend().prepare(task)
        except LitecoreError as exc:
            return Fault("environment", f"the environment does not build: {exc}")
        res, v = self._trial(cand, task, True)
        if v.reward != 1.0:
            solve = f"solve.sh: exit {res.exit_code}{' (timed out)' if res.timed_out else ''}\n{res.output[-2500:]}"
            tests = f"tests: reward {v.reward} {v.error or ''}\n{v.output[-2500:]}"
            # a crashing solution is the solution's fault; tests that error out are the verifier's;
            # otherwise blame the solution first and the tests on the next failure
            if res.exit_code not in (0, None) or res.timed_out:
                stage = "solution"
            elif v.reward is None or "Error" in v.output and "AssertionError" not in v.output:
                stage = "verifier"
            else:
                stage = "solution" if cand.repairs % 2 == 0 else "verifier"
            return Fault(stage, f"The reference solution must earn reward 1 but earned {v.reward}.\n{solve}\n{tests}")
        _, v = self._trial(cand, task, None)
        if v.reward != 0.0:
            return Fault("verifier", f"Doing nothing must earn reward 0 but earned {v.reward}: the tests pass "
                                     f"on the untouched environment.\n{v.output[-2500:]}")
        for name, script in attacks.items():
            _, v = self._trial(cand, task, script)
            if v.reward is None or v.reward > 0.0:
                return Fault("verifier", f"The attack '{name}' earned reward {v.reward} without doing the task:\n"
                                         f"{script}\nTest output:\n{v.output[-2000:]}")
        return None

    def _gate_with_repair(self, domain: Domain, cand: Candidate, attacks: Mapping[str, str]) -> None:
        for _ in range(self.config.max_repairs + 1):
            fault = self._gate(domain, cand, attacks)
            if fault is None:
                return
            cand.logs.append(f"gate failed ({fault.stage}):\n{fault.logs}")
            if cand.repairs >= self.config.max_repairs:
                break
            cand.repairs += 1
            if fault.stage == "environment":
                cand.artifacts["files"] = self._environment(cand, cand.artifacts["instruction"], fault.logs)
            elif fault.stage == "solution":
                cand.artifacts["solve"] = self._solution(cand, cand.logs[0], fault.logs)
            else:
                cand.artifacts["tests"] = self._verifier(cand, cand.logs[-1], fault.logs)
        raise TaskRejected(f"not proven after {cand.repairs} repairs ({fault.stage}): "
                           f"{fault.logs.splitlines()[0][:160]}")

    # -- dedup and records ---------------------------------------------------
    def _check_duplicate(self, task_id: str, instruction: str) -> None:
        """First come, first served: a passing instruction is reserved at once (and released if
        its candidate is rejected later), so concurrent candidates cannot both get through."""
        mine = shingles(instruction)
        with self._seen_lock:
            if self._seen is None:
                self._seen = []
                if self.context.tasks_dir.is_dir():
                    try:
                        for t in load_dataset(self.context.tasks_dir):
                            self._seen.append((t.id, shingles(t.instruction)))
                    except LitecoreError:
                        pass
            for tid, other in self._seen:
                sim = len(mine & other) / max(1, len(mine | other))
                if tid != task_id and sim >= self.config.dedup_threshold:
                    raise TaskRejected(f"near-duplicate of {tid} (similarity {sim:.2f})")
            self._seen.append((task_id, mine))

    def _release(self, task_id: str) -> None:
        with self._seen_lock:
            if self._seen is not None:
                self._seen = [(t, s) for t, s in self._seen if t != task_id]

    def _record(self, cand: Candidate, *, accepted: bool, reason: str, wall: float) -> None:
        model_s = sum(c.wall_s for c in cand.costs.values())
        record = {
            "task_id": cand.plan.task_id,
            "domain": cand.plan.domain,
            "topic": cand.topic,
            "skill": cand.skill,
            "accepted": accepted,
            "reason": reason,
            "repairs": cand.repairs,
            "stages": {k: attrs.asdict(v) for k, v in cand.costs.items()},
            "wall_s": round(wall, 4),
            "model_s": round(model_s, 4),
            "sandbox_s": round(cand.sandbox_s, 4),
            "engine_overhead_s": round(max(0.0, wall - model_s - cand.sandbox_s), 4),
        }
        write_json_atomic(self.work / "accounting" / f"{cand.plan.task_id}.json", json.dumps(record, indent=2))
        if not accepted:
            write_json_atomic(self.work / "rejected" / f"{cand.plan.task_id}.json",
                              json.dumps(record | {"artifacts": cand.artifacts, "logs": cand.logs}, indent=2))

    def report_section(self) -> str:
        """Acceptance, cost per accepted environment, per-stage accounting, coverage."""
        return accounting_report(self.work / "accounting")


def accounting_report(folder: Path) -> str:
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    if not records:
        return ""
    accepted = [r for r in records if r["accepted"]]
    n = max(1, len(accepted))
    stages: dict[str, StageCost] = {}
    for r in records:
        for name, c in r["stages"].items():
            s = stages.setdefault(name, StageCost())
            for k, v in c.items():
                setattr(s, k, getattr(s, k) + v)
    calls = sum(s.calls for s in stages.values())
    tokens = sum(s.prompt_tokens + s.completion_tokens for s in stages.values())
    cost = sum(s.cost_usd for s in stages.values())
    lines = [
        "## LLM synthesis",
        "",
        f"Candidates: {len(records)}, accepted: {len(accepted)} ({len(accepted) / len(records):.0%}); "
        f"per accepted environment: {calls / n:.1f} LLM calls, {tokens / n:.0f} tokens, ${cost / n:.4f}, "
        f"{sum(r['wall_s'] for r in records) / n:.1f}s wall",
        "",
        "| stage | calls | cached | prompt tokens | completion tokens | cost $ | model s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in STAGES:
        if name in stages:
            s = stages[name]
            lines.append(f"| {name} | {s.calls} | {s.cached} | {s.prompt_tokens} | {s.completion_tokens} | "
                         f"{s.cost_usd:.4f} | {s.wall_s:.1f} |")
    reasons = Counter(r["reason"].split(":")[0] for r in records if not r["accepted"])
    if reasons:
        lines += ["", "Rejected: " + ", ".join(f"{k} ({v})" for k, v in reasons.most_common())]
    topics = Counter(r["topic"] for r in accepted)
    skills = Counter(r["skill"] for r in accepted)
    lines += ["", f"Topic coverage: {len(topics)} topics ({', '.join(f'{k} {v}' for k, v in topics.most_common())})",
              f"Skill coverage: {len(skills)} skills ({', '.join(f'{k} {v}' for k, v in skills.most_common())})"]
    return "\n".join(lines) + "\n"
