"""Convert a model checkpoint between numpy .npz and a documented JSON format.

Easy dumps every array as is; medium renames TF-style names to PyTorch-style,
transposes dense kernels, drops optimizer slots and moves the step counter to
metadata; hard also converts a JSON checkpoint (with float16 tensors) back to
.npz, preserving dtypes. The .npz is written here byte for byte (stdlib only),
so generation needs no numpy and stays deterministic.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


DTYPES = {"float32": ("<f4", "f"), "float16": ("<f2", "e"), "int64": ("<i8", "q")}


def _npy(dtype: str, shape: tuple[int, ...], data: list) -> bytes:
    descr, code = DTYPES[dtype]
    shape_txt = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}"
    total = 10 + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")
            + struct.pack(f"<{len(data)}{code}", *data))


def _npz(arrays: dict[str, tuple[str, tuple[int, ...], list]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, (dtype, shape, data) in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, _npy(dtype, shape, data))
    return buf.getvalue()


def _values(rng, n: int, dtype: str) -> list[float]:
    code = DTYPES[dtype][1]
    return [struct.unpack(f"<{code}", struct.pack(f"<{code}", rng.gauss(0.0, 0.5)))[0] for _ in range(n)]


def _transpose(data: list, rows: int, cols: int) -> list:
    return [data[r * cols + c] for c in range(cols) for r in range(rows)]


def _checkpoint(rng, dims: list[int], dtype_of=lambda name: "float32", slots: bool = True):
    arrays: dict[str, tuple[str, tuple[int, ...], list]] = {}
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        arrays[f"dense_{i}/kernel"] = (dtype_of("k"), (a, b), _values(rng, a * b, dtype_of("k")))
        arrays[f"dense_{i}/bias"] = (dtype_of("b"), (b,), _values(rng, b, dtype_of("b")))
    arrays["layer_norm/gamma"] = (dtype_of("n"), (dims[-1],), _values(rng, dims[-1], dtype_of("n")))
    arrays["layer_norm/beta"] = (dtype_of("n"), (dims[-1],), _values(rng, dims[-1], dtype_of("n")))
    if slots:
        for name in [n for n in arrays if n.endswith("kernel")]:
            dt, shape, data = arrays[name]
            arrays[name + "/adam_m"] = (dt, shape, _values(rng, len(data), dt))
            arrays[name + "/adam_v"] = (dt, shape, _values(rng, len(data), dt))
    return arrays


def _rename(name: str) -> str:
    if name.startswith("dense_"):
        idx, kind = name[len("dense_"):].split("/")
        return f"layers.{idx}.{'weight' if kind == 'kernel' else 'bias'}"
    return {"layer_norm/gamma": "norm.weight", "layer_norm/beta": "norm.bias"}[name]


def _to_torch(arrays):
    out = {}
    for name, (dt, shape, data) in arrays.items():
        if name.endswith(("/adam_m", "/adam_v")):
            continue
        if name.endswith("/kernel"):
            shape, data = (shape[1], shape[0]), _transpose(data, *shape)
        out[_rename(name)] = (dt, shape, data)
    return out


def _dims(rng, n_layers: int) -> list[int]:
    dims = [rng.randint(3, 6)]
    for _ in range(n_layers):
        dims.append(pick(rng, [v for v in range(2, 8) if v != dims[-1]]))
    return dims


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    dims = _dims(rng, {"easy": 2, "medium": 2, "hard": 3}[d])
    arrays = _checkpoint(rng, dims, slots=d != "easy")
    step = rng.randint(1000, 99999)
    if d != "easy":
        arrays["global_step"] = ("int64", (), [step])
    names = list(arrays)
    rng.shuffle(names)
    app: dict[str, str | bytes] = {"checkpoint.npz": _npz({n: arrays[n] for n in names})}
    expected = arrays if d == "easy" else _to_torch({n: v for n, v in arrays.items() if n != "global_step"})
    incoming_expected: dict = {}
    if d == "hard":
        half = pick(rng, ("k", "b", "n"))
        in_dims = _dims(rng, 2)
        src = _checkpoint(rng, in_dims, dtype_of=lambda kind: "float16" if kind == half else "float32",
                          slots=False)
        torch_side = _to_torch(src)
        in_step = rng.randint(1000, 99999)
        tensors = [{"name": n, "shape": list(s), "dtype": dt, "data": data}
                   for n, (dt, s, data) in sorted(torch_side.items())]
        rng.shuffle(tensors)
        app["incoming.json"] = json.dumps({"format": "litejson-v1", "metadata": {"step": in_step},
                                           "tensors": tensors}) + "\n"
        incoming_expected = {n: [dt, list(s), data] for n, (dt, s, data) in src.items()}
        incoming_expected["global_step"] = ["int64", [], [in_step]]

    schema = ('{"format": "litejson-v1", "metadata": {...}, "tensors": [{"name": ..., "shape": [...], '
              '"dtype": "float32", "data": [...]}, ...]}')
    rules = [
        "`data` is the tensor flattened in row-major (C) order; `shape` is the list of dimensions",
        "`dtype` is the numpy dtype name (`float32`, `float16`, `int64`)",
        "`tensors` is sorted by name",
    ]
    if d == "easy":
        rules.append("every array of the checkpoint becomes one tensor with the same name; `metadata` is `{}`")
    else:
        rules += [
            "rename `dense_<i>/kernel` to `layers.<i>.weight` and `dense_<i>/bias` to `layers.<i>.bias`; "
            "`layer_norm/gamma` becomes `norm.weight` and `layer_norm/beta` becomes `norm.bias`",
            "dense kernels are stored [in, out] in the checkpoint but the JSON format wants weights as "
            "[out, in]: transpose them",
            "optimizer state (`.../adam_m`, `.../adam_v`) is not part of the model: leave it out",
            "`global_step` is not a tensor in the JSON format: store it as `metadata.step` (an integer)",
        ]
    if d == "hard":
        rules.append(
            "also convert /app/incoming.json (same JSON format, from another run) into /app/incoming.npz "
            "in the original checkpoint layout: original names, kernels back to [in, out], each array with "
            "the dtype its JSON entry declares, and `metadata.step` as an int64 scalar array `global_step`")
    rng.shuffle(rules)
    intro = pick(rng, (
        "Our serving stack cannot read numpy checkpoints. Convert /app/checkpoint.npz into /app/model.json.",
        "Export the weights in /app/checkpoint.npz to the JSON checkpoint format, written to /app/model.json.",
        "Write /app/model.json: the checkpoint /app/checkpoint.npz converted to our JSON exchange format.",
    ))
    instruction = f"{intro}\n\nFormat: `{schema}`\n\nRules:\n{bullets(rules)}\n"

    export = f"""# Convert to the JSON format{'' if d == 'easy' else ' (rename, transpose kernels, drop optimizer slots, step to metadata)'}
import json
import numpy as np
ck = np.load('/app/checkpoint.npz')
for n in sorted(ck.files):
    print(n, ck[n].shape, ck[n].dtype)
EASY = {d == "easy"!r}
def rename(n):
    if n.startswith('dense_'):
        i, kind = n[len('dense_'):].split('/')
        return 'layers.%s.%s' % (i, 'weight' if kind == 'kernel' else 'bias')
    return {{'layer_norm/gamma': 'norm.weight', 'layer_norm/beta': 'norm.bias'}}[n]
tensors, meta, arrays = [], {{}}, {{}}
for n in ck.files:
    a = ck[n]
    if not EASY:
        if n.endswith(('/adam_m', '/adam_v')):
            continue
        if n == 'global_step':
            meta['step'] = int(a)
            continue
        if n.endswith('/kernel'):
            a = a.T
        n = rename(n)
    arrays[n] = a
    tensors.append({{'name': n, 'shape': list(a.shape), 'dtype': str(a.dtype), 'data': np.ascontiguousarray(a).ravel().tolist()}})
tensors.sort(key=lambda t: t['name'])
json.dump({{'format': 'litejson-v1', 'metadata': meta, 'tensors': tensors}}, open('/app/model.json', 'w'))
"""
    check = """
# Read the JSON back: every tensor must rebuild the array it came from
for t in json.load(open('/app/model.json'))['tensors']:
    assert np.array_equal(np.array(t['data'], dtype=t['dtype']).reshape(t['shape']), arrays[t['name']]), t['name']
print(len(tensors), 'tensors', meta)
"""
    back = """
# Convert incoming.json back to the npz layout, keeping each declared dtype
doc = json.load(open('/app/incoming.json'))
inv = {'norm.weight': 'layer_norm/gamma', 'norm.bias': 'layer_norm/beta'}
out = {}
for t in doc['tensors']:
    a = np.array(t['data'], dtype=t['dtype']).reshape(t['shape'])
    n = t['name']
    if n.startswith('layers.'):
        _, i, kind = n.split('.')
        n = 'dense_%s/%s' % (i, 'kernel' if kind == 'weight' else 'bias')
        if kind == 'weight':
            a = np.ascontiguousarray(a.T)
    else:
        n = inv[n]
    out[n] = a
out['global_step'] = np.array(doc['metadata']['step'], dtype=np.int64)
np.savez('/app/incoming.npz', **out)
print({k: (v.dtype, v.shape) for k, v in out.items()})
"""
    tail = back if d == "hard" else ""
    solve = f"""# Inspect the checkpoint: an .npz is a zip of .npy arrays
python3 -m zipfile -l /app/checkpoint.npz
{"head -c 400 /app/incoming.json; echo" if d == "hard" else "ls -l /app"}

# One script: print every array's shape and dtype, convert, and check the JSON reads back the same
python3 - <<'PY'
{export}{check}{tail}PY
"""
    if d == "easy":
        wrong = export.replace("np.ascontiguousarray(a).ravel().tolist()", "a.flatten(order='F').tolist()")
    elif d == "medium":
        wrong = export.replace("            a = a.T\n", "            pass\n")
    else:
        wrong = export + back.replace("dtype=t['dtype']", "dtype=np.float32")
    assert wrong not in (export, export + tail)
    wrong = f"python3 - <<'PY'\n{wrong}PY\n"
    exp_json = {n: [dt, list(s), data] for n, (dt, s, data) in expected.items()}
    tests = f"""import json
import math
import pathlib

EXPECTED = json.loads({json.dumps(json.dumps(exp_json, sort_keys=True))})
STEP = {step if d != "easy" else None!r}
INCOMING = json.loads({json.dumps(json.dumps(incoming_expected, sort_keys=True))})


MODEL = pathlib.Path("/app/model.json")


def model():
    assert MODEL.is_file(), "/app/model.json was not written"
    return json.loads(MODEL.read_text())


def test_format_and_order():
    m = model()
    assert m["format"] == "litejson-v1"
    names = [t["name"] for t in m["tensors"]]
    assert names == sorted(names)


def test_tensor_names():
    assert sorted(t["name"] for t in model()["tensors"]) == sorted(EXPECTED)


def test_shapes_and_dtypes():
    for t in model()["tensors"]:
        dt, shape, _ = EXPECTED[t["name"]]
        assert list(t["shape"]) == shape, t["name"]
        assert t["dtype"] == dt, t["name"]


def test_values():
    for t in model()["tensors"]:
        want = EXPECTED[t["name"]][2]
        assert len(t["data"]) == len(want), t["name"]
        for a, b in zip(t["data"], want):
            assert math.isclose(float(a), b, rel_tol=1e-6, abs_tol=1e-7), t["name"]


def test_metadata():
    meta = model().get("metadata", {{}})
    if STEP is None:
        assert meta == {{}}
    else:
        assert int(meta["step"]) == STEP
"""
    if d == "hard":
        tests += """

def test_incoming_npz_round_trip():
    assert pathlib.Path("/app/incoming.npz").is_file(), "/app/incoming.npz was not written"
    import numpy as np
    with np.load("/app/incoming.npz") as z:
        assert sorted(z.files) == sorted(INCOMING)
        for name, (dt, shape, data) in INCOMING.items():
            a = z[name]
            assert str(a.dtype) == dt, (name, a.dtype)
            assert list(a.shape) == shape, (name, a.shape)
            for x, y in zip(a.ravel().tolist(), data):
                assert math.isclose(float(x), y, rel_tol=1e-6, abs_tol=1e-7), name
"""
    return TaskDraft(
        instruction=instruction,
        app_files=app,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("checkpoint", "numpy", "serialization"),
    )


FAMILY = TaskFamily(
    name="checkpoint-convert",
    description="convert model checkpoints between .npz and a documented JSON format (rename, transpose, dtypes)",
    generate=generate,
    requires=("python3",),
)
