"""The committed model rows recomputed on the float kernels other CPUs take, on this machine.

An AMD EPYC runs other kernels than this Intel Xeon (AVX-512): OpenBLAS picks its Zen (Haswell,
AVX2) kernels, torch's vectorised ATen kernels and oneDNN's JIT stop at AVX2, Intel MKL runs
its AVX2 path on AMD, numpy's own SIMD loops lose their AVX-512 targets (Zen 2/3 have none),
and a machine with other core counts sums in another order. Each library lets a process choose
such a path on this CPU with an environment variable; each variant below sets one (or all, for
`amd-epyc`) in a fresh process, which reports the path the libraries say they took, re-runs
every committed `recenter run` row it can re-run in minutes (BM25, MiniLM similarity and
logistic regression, the prompt-blind and gradient-boosting rows; not the cross-encoder, 35
minutes of training), and compares scores and decisions with the committed pairing.jsonl
through tests/cross_cpu.py, the comparison the reproducibility tests make.

Not a test: run `python benchmarks/cross_cpu_paths.py [VARIANT ...]` for the table, or
`--paths` for this process's kernel paths. `--pytest VARIANT` runs the reproducibility tests
under a variant (what .ci/run does with `amd-epyc`).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cross_cpu import (  # noqa: E402
    MAX_FLIP_SHARE,
    REFIT_AGREEMENT,
    REFIT_KINDS,
    compare_runs,
    rule_thresholds,
    score_tolerance,
)


def _numpy_avx512_targets() -> str:
    """numpy's dispatch targets above AVX2, by this numpy's names (2.4 renamed them to x86-64
    levels; a name it does not dispatch would only be warned about and ignored)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__

    return ",".join(t for t in __cpu_dispatch__ if "512" in t or t == "X86_V4")


def _threads(n: int) -> dict[str, str]:
    """OpenMP (torch, scikit-learn), MKL and OpenBLAS threads: the order of a sum's parts."""
    return {"OMP_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n)}


_NUMPY_AVX512 = _numpy_avx512_targets()
_AMD_EPYC = {
    "OPENBLAS_CORETYPE": "Zen",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "NPY_DISABLE_CPU_FEATURES": _NUMPY_AVX512,
}
VARIANTS: dict[str, dict[str, str]] = {
    "this-cpu": {},
    "openblas-zen": {"OPENBLAS_CORETYPE": "Zen"},
    "openblas-haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "aten-avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "onednn-avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "mkl-avx2": {"MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "numpy-no-avx512": {"NPY_DISABLE_CPU_FEATURES": _NUMPY_AVX512},
    "threads-1": _threads(1),
    "threads-2": _threads(2),
    "amd-epyc": _AMD_EPYC,
    "amd-epyc-threads-1": {**_AMD_EPYC, **_threads(1)},
}
# The tests that recompute model or float outputs and compare them with committed values.
REPRODUCIBILITY_TESTS = [
    "tests/test_submissions_repository.py::test_run_rows_are_reproducible",
    "tests/test_submissions_repository.py::test_results_json_is_reproducible",
    "tests/test_run_trained.py::test_trained_rows_are_reproducible",
    "tests/test_run_trained.py::test_tiny_cross_encoder_trains_reproducibly",
    "tests/test_run_retrieval.py::test_cosine_scores_match_a_direct_computation",
    "tests/test_run_retrieval.py::test_bm25_scores_are_bm25s_retrieval_scores",
    "tests/test_run_retrieval.py::test_fitted_threshold_is_the_same_on_another_cpu",
    "tests/test_analyze.py::test_analyze_prints_overlap_and_prompt_blind_scores",
]
RERUN_KINDS = ("bm25", "embedding-similarity", "embedding-classifier", "attribute-prior",
               "attribute-only", "features")  # fmt: skip


@contextlib.contextmanager
def _c_stdout() -> Iterator[list[str]]:
    """What C code writes to file descriptor 1 inside the block (MKL's and oneDNN's verbose
    lines), as lines, in the list yielded."""
    libc = ctypes.CDLL(None)
    lines: list[str] = []
    with tempfile.TemporaryFile(mode="w+") as sink:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(sink.fileno(), 1)
        try:
            yield lines
        finally:
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().splitlines())


def _cpu_model() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    return f"{fields.get('vendor_id', '?')} {fields.get('model name', '?')}"


def kernel_paths() -> dict[str, str]:
    """The float kernels this process runs, as each library reports them."""
    import numpy as np
    import scipy.linalg  # noqa: F401 - loads scipy's own OpenBLAS, for threadpoolctl to list
    import threadpoolctl
    import torch
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    blas = [
        f"{Path(i['filepath']).parent.name}:{i.get('architecture')}x{i['num_threads']}"
        for i in threadpoolctl.threadpool_info()
        if i["user_api"] == "blas"
    ]
    layer = torch.nn.Linear(64, 64)
    with _c_stdout() as lines, torch.backends.mkl.verbose(1), torch.backends.mkldnn.verbose(1):
        layer(torch.randn(8, 64))  # an MKL SGEMM
        torch.nn.functional.gelu(torch.randn(2, 8, 64))  # a oneDNN eltwise (MiniLM's GELU)
    mkl = next((x for x in lines if x.startswith("MKL_VERBOSE oneMKL")), "")
    mkl_isa = mkl.split(" architecture ", 1)[-1].split(", Lnx")[0] if mkl else "not called"
    onednn = next((x for x in lines if ",cpu,isa:" in x), "")
    return {
        "cpu": _cpu_model(),
        "openblas": " ".join(blas) or "none loaded",
        "numpy simd": " ".join(t for t in __cpu_dispatch__ if __cpu_features__.get(t)),
        "torch aten": torch.backends.cpu.get_cpu_capability(),
        "torch threads": str(torch.get_num_threads()),
        "mkl": mkl_isa.replace("Intel(R) ", "").replace("(R)", ""),
        "onednn": onednn.split(",cpu,isa:", 1)[-1] if onednn else "not called",
        "numpy": np.__version__,
        "torch": torch.__version__,
    }


def format_paths(paths: dict[str, str]) -> str:
    return "\n".join(f"  {key:14} {value}" for key, value in paths.items())


def _committed_rows() -> list[Path]:
    import yaml

    from recenter_bench.paths import SUBMISSIONS_DIR
    from recenter_bench.review import find_submissions

    return [
        p
        for p in find_submissions(SUBMISSIONS_DIR)
        if yaml.safe_load((p / "metadata.yaml").read_text()).get("run", {}).get("kind")
        in RERUN_KINDS
    ]


def rerun_committed(dataset: Path) -> dict:
    """This process's kernel paths and, per committed row, how its re-run differs."""
    import yaml

    from recenter_bench.review import load_reference
    from recenter_bench.run.runner import run_system
    from recenter_bench.run.systems import load_system

    reference = load_reference(dataset)
    rows = {}
    for folder in _committed_rows():
        committed = yaml.safe_load((folder / "metadata.yaml").read_text())
        started = time.perf_counter()
        outcome = run_system(load_system(committed["run"]["system"]), reference,
                             ["train", "validation", "test"])  # fmt: skip
        lines = (folder / "pairing.jsonl").read_text().splitlines()
        tolerance = score_tolerance(committed["run"]["kind"])["abs"]
        thresholds = rule_thresholds(committed["run"]["rule"])
        committed_rows = [json.loads(x) for x in lines]
        comparison = compare_runs(committed_rows, outcome.predictions, thresholds, near=tolerance)
        refit = committed["run"]["kind"] in REFIT_KINDS  # compared as a system, not row by row
        rows[folder.parent.name.removeprefix("recenter-bench__")] = {
            "kind": committed["run"]["kind"],
            "tolerance": tolerance,
            "refit": refit,
            "max_diff": comparison.max_score_diff,
            "flips": len(comparison.flips),
            "far_flips": 0 if refit else len(comparison.far_flips),
            "max_flips": int((1 - REFIT_AGREEMENT) * comparison.rows)
            if refit
            else comparison.max_flips,
            "rule": outcome.record["rule"].rsplit(";", 1)[-1].strip(),
            "committed_rule": committed["run"]["rule"].rsplit(";", 1)[-1].strip(),
            "seconds": round(time.perf_counter() - started, 1),
        }
    return {"paths": kernel_paths(), "rows": rows}


def _variant_env(name: str) -> dict[str, str]:
    chosen = {key for variant in VARIANTS.values() for key in variant}
    return {**{k: v for k, v in os.environ.items() if k not in chosen}, **VARIANTS[name]}


def run_variant(name: str, dataset: Path) -> dict:
    """`rerun_committed` in a fresh process under the variant's environment."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(dataset)],
        env=_variant_env(name),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def print_table(results: dict[str, dict]) -> None:
    print("\nKernel paths each variant took (as the libraries report them):")
    for name, result in results.items():
        p = result["paths"]
        aten = f"{p['torch aten']}x{p['torch threads']}"
        print(f"  {name:19} openblas {p['openblas']}; numpy {p['numpy simd']}; aten {aten}; "
              f"mkl {p['mkl']}; onednn {p['onednn']}")  # fmt: skip
    print("\nAgainst the committed rows: max |score diff| beside the tolerance of the row's kind;")
    print(f"flips (far: not within the tolerance of the threshold); {MAX_FLIP_SHARE:.1%} may flip;")
    print(
        f"a refit row (tree ensemble) is compared as a system: {REFIT_AGREEMENT:.0%} of decisions."
    )
    print(f"{'variant':19} {'row':40} {'max |diff|':>10} {'tolerance':>9} {'flips':>5} "
          f"{'allowed':>7} {'far':>3} {'rule':>20}")  # fmt: skip
    for name, result in results.items():
        for row, r in result["rows"].items():
            rule = r["rule"] if r["rule"] == r["committed_rule"] else f"{r['rule']} (!)"
            tolerance = "refit" if r.get("refit") else f"{r['tolerance']:g}"
            print(f"{name:19} {row[:40]:40} {r['max_diff']:10.2e} {tolerance:>9} {r['flips']:5d} "
                  f"{r['max_flips']:7d} {r['far_flips']:3d} {rule[-20:]:>20}")  # fmt: skip
    print(f"\n{'variant':19} {'max |diff| / tolerance (row)':>50} {'flips':>5} {'allowed':>7} "
          f"{'far':>3} {'refit flips/allowed':>19}")  # fmt: skip
    for name, result in results.items():
        rows = {k: r for k, r in result["rows"].items() if not r.get("refit")}
        refits = [
            f"{r['flips']}/{r['max_flips']}" for r in result["rows"].values() if r.get("refit")
        ]
        worst = max(rows, key=lambda row: rows[row]["max_diff"] / rows[row]["tolerance"])
        ratio = rows[worst]["max_diff"] / rows[worst]["tolerance"]
        flips = max(r["flips"] for r in rows.values())
        allowed = min(r["max_flips"] for r in rows.values())
        far = sum(r["far_flips"] for r in rows.values())
        print(f"{name:19} {ratio:9.3f} ({worst[:38]:38}) {flips:5d} {allowed:7d} {far:3d} "
              f"{' '.join(refits):>19}")  # fmt: skip


def wide_paths(paths: dict[str, str]) -> list[str]:
    """The kernel paths that use instructions an AMD EPYC before Zen 4 lacks."""
    kernels = ("openblas", "numpy simd", "torch aten", "mkl", "onednn")
    wide = ("512", "SkylakeX", "Cooperlake", "Sapphire", "AVX10", "AMX")
    return [f"{k}: {paths[k]}" for k in kernels if any(w in paths[k] for w in wide)]


def run_pytest(name: str, extra: list[str]) -> int:
    """The reproducibility tests in a fresh process under the variant, its paths printed; for
    the AMD variants, refused when a library ignored its variable (the tests would then run
    the wide Intel kernels again and prove nothing)."""
    env = _variant_env(name)
    print(f"cross-CPU: the reproducibility tests on the {name} kernels "
          + " ".join(f"{k}={v}" for k, v in VARIANTS[name].items()), flush=True)  # fmt: skip
    child = [sys.executable, __file__, "--paths", "--json"]
    paths = json.loads(subprocess.run(child, env=env, capture_output=True, text=True,
                                      check=True).stdout)  # fmt: skip
    print(format_paths(paths))
    if name.startswith("amd-") and (wide := wide_paths(paths)):
        print(f"error: {name}: a library ignored its variable: {'; '.join(wide)}", file=sys.stderr)
        return 1
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return subprocess.run([*command, *REPRODUCIBILITY_TESTS, *extra], env=env, cwd=REPO).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="*", metavar="VARIANT", help=", ".join(VARIANTS))
    parser.add_argument("--paths", action="store_true", help="print this process's kernels")
    parser.add_argument("--json", action="store_true", help="--paths as one JSON object")
    parser.add_argument("--pytest", choices=VARIANTS, help="run the tests under a variant")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args, extra = parser.parse_known_args()
    if unknown := set(args.variants) - VARIANTS.keys():
        parser.error(f"unknown variant {sorted(unknown)[0]!r}; choose from {', '.join(VARIANTS)}")
    if args.paths:
        paths = kernel_paths()
        print(json.dumps(paths) if args.json else format_paths(paths))
        return 0
    if args.pytest:
        return run_pytest(args.pytest, extra)
    if args.child:
        print(json.dumps(rerun_committed(args.child)))
        return 0
    from recenter_bench.loaders.build import build_dataset
    from recenter_bench.paths import PREVIEW_RELEASE_DIR

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "dataset"
        build_dataset(PREVIEW_RELEASE_DIR, dataset)
        for name in args.variants or VARIANTS:
            started = time.perf_counter()
            results[name] = run_variant(name, dataset)
            print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
