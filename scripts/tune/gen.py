"""Golden values of package tune's TPE sampler and median pruner, from Optuna's own code.

Optuna cannot be installed from its registry here, so this imports it from a checkout of
optuna/optuna (it runs on Debian's python3-numpy and the dependencies Debian's python3-optuna
pulls in: sqlalchemy, alembic, colorlog, tqdm, yaml), and writes testdata/tune/golden.json:

- "parzen": Parzen estimators (optuna/samplers/_tpe/parzen_estimator.py) fitted to observations
  of float, log-float, stepped float, int, log-int, stepped int and categorical parameters, alone
  and together, 0 to 30 observations (30: the ramp of default_weights), with their log densities
  at points drawn from them and on a grid;
- "split": TPESampler's split of complete and pruned trials into below and above
  (optuna/samplers/_tpe/sampler.py _split_trials), both directions;
- "gamma", "weights": default_gamma and default_weights for n = 0..60;
- "pruner": MedianPruner / PercentilePruner decisions (optuna/pruners/_percentile.py) for running
  trials reported step by step against studies of complete and pruned trials.

    /usr/bin/python3 scripts/tune/gen.py OPTUNA_CHECKOUT testdata/tune/golden.json [COMMIT]

(COMMIT names the checkout's commit in the output when the checkout is not a git work tree.)

The checkout used for the committed file: optuna/optuna 1d8ce7bb6 (5.0.0.dev).
"""
import json
import math
import subprocess
import sys

checkout, out = sys.argv[1], sys.argv[2]
given_commit = sys.argv[3] if len(sys.argv) > 3 else ""
sys.path.insert(0, checkout)

import numpy as np  # noqa: E402
import optuna  # noqa: E402
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402
from optuna.samplers._tpe import sampler as tpe  # noqa: E402
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters  # noqa: E402
from optuna.trial import TrialState, create_trial  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)
rng = np.random.RandomState(17)


def dist(p):
    if p["type"] == "float":
        return FloatDistribution(p["low"], p["high"], log=p.get("log", False), step=p.get("step"))
    if p["type"] == "int":
        return IntDistribution(int(p["low"]), int(p["high"]), log=p.get("log", False), step=int(p.get("step", 1)))
    return CategoricalDistribution(p["choices"])


def draw(p, n):
    """n internal values of parameter p, spread over its range."""
    d = dist(p)
    if isinstance(d, CategoricalDistribution):
        return list(rng.randint(len(d.choices), size=n).astype(float))
    out = []
    for _ in range(n):
        if d.log:
            v = math.exp(rng.uniform(math.log(d.low), math.log(d.high)))
        else:
            v = rng.uniform(d.low, d.high)
        if isinstance(d, IntDistribution):
            v = float(min(max(round(v / d.step) * d.step, d.low), d.high))
        elif d.step is not None:
            v = float(min(max(d.low + round((v - d.low) / d.step) * d.step, d.low), d.high))
        out.append(v)
    return out


def grid(p):
    d = dist(p)
    if isinstance(d, CategoricalDistribution):
        return [float(i) for i in range(len(d.choices))]
    if isinstance(d, IntDistribution):
        vals = list(range(d.low, d.high + 1, d.step))
        if len(vals) > 12:
            vals = vals[:: max(1, len(vals) // 12)] + [d.high]
        return [float(v) for v in vals]
    if d.step is not None:
        n = int(round((d.high - d.low) / d.step))
        return [d.low + i * d.step for i in range(n + 1)]
    if d.log:
        return list(np.exp(np.linspace(math.log(d.low), math.log(d.high), 9)))
    return list(np.linspace(d.low, d.high, 9))


def parzen_case(name, space, n_obs, seed_obs=None):
    search_space = {k: dist(v) for k, v in space.items()}
    obs = {k: np.asarray(draw(v, n_obs), dtype=float) for k, v in space.items()}
    params = _ParzenEstimatorParameters(
        prior_weight=1.0, consider_magic_clip=True, consider_endpoints=False,
        weights=tpe.default_weights, multivariate=True)
    pe = _ParzenEstimator(obs, search_space, params)
    samples = pe.sample(np.random.RandomState(n_obs + 1), 20)
    points = [[float(samples[k][i]) for k in space] for i in range(20)]
    if len(space) == 1:
        k = next(iter(space))
        points += [[v] for v in grid(space[k])]
    x = {k: np.asarray([pt[j] for pt in points]) for j, k in enumerate(space)}
    logpdf = pe.log_pdf(x)
    return {
        "name": name,
        "space": space,
        "observations": [[float(obs[k][i]) for k in space] for i in range(n_obs)],
        "points": points,
        "log_pdf": [float(v) for v in logpdf],
    }


FT = {
    "lr": {"type": "float", "low": 0.01, "high": 5, "log": True},
    "epochs": {"type": "int", "low": 1, "high": 100, "log": True},
    "dim": {"type": "int", "low": 1, "high": 1000, "log": True},
    "word-ngrams": {"type": "int", "low": 1, "high": 5},
    "minn": {"type": "categorical", "choices": [0, 2, 3]},
    "bucket": {"type": "int", "low": 10000, "high": 10000000, "log": True},
}

parzen = [
    parzen_case("float, no observation", {"x": {"type": "float", "low": -5, "high": 5}}, 0),
    parzen_case("float, one observation", {"x": {"type": "float", "low": -5, "high": 5}}, 1),
    parzen_case("float, three", {"x": {"type": "float", "low": -5, "high": 5}}, 3),
    parzen_case("log float", {"lr": {"type": "float", "low": 1e-6, "high": 1e-4, "log": True}}, 7),
    parzen_case("stepped float", {"f": {"type": "float", "low": 0, "high": 1, "step": 0.1}}, 6),
    parzen_case("int with ties", {"n": {"type": "int", "low": 1, "high": 5}}, 12),
    parzen_case("log int", {"dim": {"type": "int", "low": 1, "high": 1000, "log": True}}, 8),
    parzen_case("stepped int", {"s": {"type": "int", "low": 0, "high": 100, "step": 10}}, 9),
    parzen_case("categorical", {"c": {"type": "categorical", "choices": ["max", "mean", "x"]}}, 5),
    parzen_case("categorical, no observation", {"c": {"type": "categorical", "choices": [4, 8, 16]}}, 0),
    parzen_case("ramp weights (30 observations)", {
        "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        "dropout": {"type": "float", "low": 0, "high": 0.7},
        "c": {"type": "categorical", "choices": [16, 32, 64, 128]},
    }, 30),
    parzen_case("fastText's space, joint", FT, 15),
    parzen_case("fastText's space, joint, 2 observations", FT, 2),
]


def trial(number, state, params, dists, value=None, inter=None):
    t = create_trial(state=state, value=value, params=params, distributions=dists,
                     intermediate_values=inter or {})
    return t


def split_case(direction, spec, n_below):
    study = optuna.create_study(direction=direction)
    dists = {"x": FloatDistribution(0, 1)}
    for i, (state, value, inter) in enumerate(spec):
        st = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED}[state]
        study.add_trial(trial(i, st, {"x": 0.01 * i}, dists, value if state == "complete" else None,
                              {int(k): v for k, v in (inter or {}).items()}))
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    below, above = tpe._split_trials(study, trials, n_below)
    return {
        "direction": direction,
        "trials": [{"state": s, "value": v, "intermediate": [[int(k), (None if isinstance(x, float) and math.isnan(x) else x)] for k, x in (inter or {}).items()]} for s, v, inter in spec],
        "n_below": n_below,
        "below": [t.number for t in below],
        "above": [t.number for t in above],
    }


SPEC = [
    ("complete", 0.5, {1: 0.4}), ("pruned", None, {1: 0.3}), ("complete", 0.9, None),
    ("pruned", None, {1: 0.1, 2: 0.8}), ("complete", 0.5, None), ("pruned", None, None),
    ("complete", 0.2, None), ("pruned", None, {1: 0.2, 2: float("nan")}), ("pruned", None, {1: 0.6, 2: 0.7}),
    ("complete", 0.7, {1: 0.6, 2: 0.7}), ("pruned", None, {1: 0.95}),
]
split = []
for direction in ("minimize", "maximize"):
    for n_below in (0, 1, 3, 5, 7, 9, 11):
        split.append(split_case(direction, SPEC, n_below))


def pruner_case(name, pruner, kwargs, direction, finished, running):
    study = optuna.create_study(direction=direction)
    dists = {"x": FloatDistribution(0, 1)}
    for i, (state, value, inter) in enumerate(finished):
        st = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED}[state]
        study.add_trial(trial(i, st, {"x": 0.5}, dists, value, inter))
    decisions = []
    for k in range(1, len(running) + 1):
        inter = dict(running[:k])
        t = create_trial(state=TrialState.RUNNING, params={"x": 0.5}, distributions=dists, intermediate_values=inter)
        decisions.append(bool(pruner.prune(study, t)))
    return {
        "name": name, "pruner": kwargs, "direction": direction,
        "trials": [{"state": s, "value": v, "intermediate": [[k, x] for k, x in (inter or {}).items()]} for s, v, inter in finished],
        "running": [[k, (None if math.isnan(x) else x)] for k, x in running],
        "prune": decisions,
    }


def curve(a, b, steps=5):
    return {s: a + (b - a) * s / steps for s in range(1, steps + 1)}


COMPLETE = [("complete", 0.80, curve(0.6, 0.8)), ("complete", 0.85, curve(0.7, 0.85)),
            ("complete", 0.70, curve(0.5, 0.7)), ("pruned", None, {1: 0.2, 2: 0.25}),
            ("complete", 0.90, curve(0.75, 0.9)), ("complete", 0.75, curve(0.65, 0.75))]
RUN_BAD = [(1, 0.3), (2, 0.5), (3, 0.9), (4, 0.95)]
RUN_AT_MEDIAN = [(s, curve(0.65, 0.8)[s]) for s in range(1, 6)]
RUN_GOOD = [(s, 0.9 + 0.01 * s) for s in range(1, 6)]
MedianPruner, PercentilePruner = optuna.pruners.MedianPruner, optuna.pruners.PercentilePruner
pruner = []
for direction, flip in (("maximize", False), ("minimize", True)):
    f = (lambda v: 1 - v) if flip else (lambda v: v)
    fin = [(s, None if v is None else f(v), {k: f(x) for k, x in (i or {}).items()}) for s, v, i in COMPLETE]

    def run(r):
        return [(k, f(x)) for k, x in r]

    for rname, r in (("worse", RUN_BAD), ("at the median", RUN_AT_MEDIAN), ("better", RUN_GOOD)):
        pruner.append(pruner_case(f"median, {rname}", MedianPruner(), {"percentile": 50}, direction, fin, run(r)))
        pruner.append(pruner_case(f"median, {rname}, before 5 complete", MedianPruner(), {"percentile": 50}, direction, fin[:4], run(r)))
        pruner.append(pruner_case(f"median, {rname}, 2 startup, warmup 2, interval 2", MedianPruner(n_startup_trials=2, n_warmup_steps=2, interval_steps=2),
                                  {"percentile": 50, "n_startup_trials": 2, "n_warmup_steps": 2, "interval_steps": 2}, direction, fin, run(r)))
        pruner.append(pruner_case(f"25th percentile, {rname}", PercentilePruner(25.0, n_startup_trials=3), {"percentile": 25, "n_startup_trials": 3}, direction, fin, run(r)))
        pruner.append(pruner_case(f"median, {rname}, min 6 trials", MedianPruner(n_min_trials=6), {"percentile": 50, "n_min_trials": 6}, direction, fin, run(r)))
    pruner.append(pruner_case("median, NaN then a value", MedianPruner(), {"percentile": 50}, direction, fin, [(1, float("nan")), (2, f(0.99))]))
    pruner.append(pruner_case("median, a step no complete trial reached", MedianPruner(), {"percentile": 50}, direction, fin, [(1, f(0.99)), (7, f(0.1))]))

# A running value equal to the interpolated median is not pruned: the median must be computed
# as numpy computes it, to the last bit.
# (Four values put the median halfway between two, where the two ways of interpolating differ
# in the last bit for these.)
for vals in ([0.03, 0.9, 0.95, 0.01], [0.02, 0.29, 0.5, 0.01], [0.17, 0.55, 0.8, 0.1], [1 / 3, 2 / 3, 0.1, 0.9]):
    b = vals[1]
    for direction in ("maximize", "minimize"):
        q = 50.0
        m = float(np.nanpercentile(np.asarray(vals), 100 - q if direction == "maximize" else q))
        fin = [("complete", v, {1: v}) for v in vals] + [("complete", b, {2: b})]
        pruner.append(pruner_case(f"median equal to the running value {m!r}", MedianPruner(n_startup_trials=2), {"percentile": 50, "n_startup_trials": 2},
                                  direction, fin, [(1, m)]))
        pruner.append(pruner_case(f"25th percentile equal to the running value", PercentilePruner(25.0, n_startup_trials=2), {"percentile": 25, "n_startup_trials": 2},
                                  direction, fin, [(1, float(np.nanpercentile(np.asarray(vals), 75 if direction == "maximize" else 25)))]))

commit = given_commit or subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
golden = {
    "optuna": optuna.__version__ + (" " + commit if commit else ""),
    "gamma": [tpe.default_gamma(n) for n in range(61)],
    "weights": [[float(w) for w in tpe.default_weights(n)] for n in range(61)],
    "parzen": parzen,
    "split": split,
    "pruner": pruner,
}
with open(out, "w") as fh:
    json.dump(golden, fh, indent=1)
    fh.write("\n")
print(f"wrote {out}: {len(parzen)} estimators, {len(split)} splits, {len(pruner)} pruner cases")
