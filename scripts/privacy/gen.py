"""Golden values of the RDP accountant from Opacus' own code.

Opacus cannot be installed here, so this loads its accounting module from a
checkout of pytorch/opacus (its analysis/rdp.py needs numpy and scipy only:
Debian's python3-numpy and python3-scipy), and writes testdata/privacy/golden.json:
epsilons for a grid of sampling rates, noise multipliers, steps and deltas,
and noise multipliers found by Opacus' get_noise_multiplier search (whose
loop is reproduced here over the same accountant, since importing
opacus.accountants would import torch and the whole package).

    /usr/bin/python3 scripts/privacy/gen.py OPACUS_CHECKOUT testdata/privacy/golden.json
"""
import importlib.util
import json
import os
import sys

opacus, out = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location(
    "rdp", os.path.join(opacus, "opacus", "accountants", "analysis", "rdp.py"))
rdp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rdp)

# RDPAccountant.DEFAULT_ALPHAS (opacus/accountants/rdp.py).
ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


def epsilon(q, sigma, steps, delta):
    r = rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=ALPHAS)
    eps, order = rdp.get_privacy_spent(orders=ALPHAS, rdp=r, delta=delta)
    return float(eps), float(order)


def noise_multiplier(target_eps, delta, q, steps, tol=0.01):
    # opacus/accountants/utils.py get_noise_multiplier, with steps given.
    eps_high = float("inf")
    sigma_low, sigma_high = 0, 10
    while eps_high > target_eps:
        sigma_high = 2 * sigma_high
        eps_high, _ = epsilon(q, sigma_high, steps, delta)
        if sigma_high > 1e6:
            raise ValueError("The privacy budget is too low.")
    while target_eps - eps_high > tol:
        sigma = (sigma_low + sigma_high) / 2
        eps, _ = epsilon(q, sigma, steps, delta)
        if eps < target_eps:
            sigma_high, eps_high = sigma, eps
        else:
            sigma_low = sigma
    return sigma_high


cases = []
for q in [0.001, 0.01, 0.04, 0.25]:
    for sigma in [0.5, 0.8, 1.1, 1.5, 3.0, 10.0]:
        for steps in [1, 100, 2250, 20000]:
            for delta in [1e-5, 1e-8]:
                eps, order = epsilon(q, sigma, steps, delta)
                cases.append({"q": q, "sigma": sigma, "steps": steps, "delta": delta, "epsilon": eps, "order": order})
searches = []
for target in [0.5, 1, 3, 8]:
    for q, steps in [(0.04, 2250), (0.04, 2000), (0.01, 1000), (0.004, 25000)]:
        searches.append({"epsilon": target, "delta": 1e-5, "q": q, "steps": steps,
                         "noise_multiplier": noise_multiplier(target, 1e-5, q, steps)})
with open(out, "w") as f:
    json.dump({"alphas": ALPHAS, "epsilon": cases, "noise_multiplier": searches}, f, indent=1)
    f.write("\n")
