# litecore verifier support: records each test's outcome and writes the reward.
# Harbor reads /logs/verifier/reward.json: "reward" is 1 only if every test passed;
# "fraction_passed" and one "test:<name>" entry per test carry partial credit.
import json
import os

_outcomes = {}


def pytest_runtest_logreport(report):
    name = report.nodeid.split("::", 1)[-1]
    if report.when == "call":
        _outcomes[name] = 1.0 if report.passed else 0.0
    elif report.failed:
        _outcomes[name] = 0.0


def pytest_sessionfinish(session, exitstatus):
    total = len(_outcomes)
    passed = sum(_outcomes.values())
    ok = total > 0 and passed == total and int(exitstatus) == 0
    data = {
        "reward": 1.0 if ok else 0.0,
        "fraction_passed": passed / total if total else 0.0,
        "tests_passed": passed,
        "tests_total": float(total),
    }
    for name, value in sorted(_outcomes.items()):
        data["test:" + name] = value
    out = os.environ.get("LITECORE_REWARD_DIR", "/logs/verifier")
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, ".reward.json.tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, os.path.join(out, "reward.json"))
