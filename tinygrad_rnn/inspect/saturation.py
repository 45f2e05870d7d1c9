"""`gate_saturation`: how often each unit's gate is nearly shut or nearly open (Karpathy et al. 2015).

A gate σ(·) is left-saturated below 0.1 (it blocks) and right-saturated above 0.9 (it passes all).
Karpathy, Johnson & Fei-Fei plot one point per unit: the fraction of steps it spends
left-saturated against the fraction right-saturated. Points near (0, 1) are gates that are always
open (a forget gate that keeps its memory), near (1, 0) always shut, near the origin gates that
respond to the input; on the diagonal, gates that switch between the two.
"""
from __future__ import annotations

import numpy as np

from .pictures import Plot, new_figure
from .recording import Recording

SIGMOID_GATES = ("i", "f", "o", "r", "z")
# (left, right) thresholds: 0.1 / 0.9 for gates in (0, 1), -0.9 / 0.9 for tanh values in (-1, 1)
THRESHOLDS = {**{g: (0.1, 0.9) for g in SIGMOID_GATES}, "g": (-0.9, 0.9), "n": (-0.9, 0.9), "states": (-0.9, 0.9)}


def gate_saturation(rec: Recording, gates=None) -> Plot:
    """Per unit and gate, the fraction of recorded steps (all sequences of the batch) below 0.1 and
    above 0.9. `.data[gate]` is (H, 2): (left-saturated, right-saturated).

    `gates`: names to show (default: the sigmoid gates, i f o for an LSTM, r z for a GRU). The tanh
    values "g" and "n" can be asked for too, with thresholds -0.9 and 0.9. A plain tanh RNN has no
    gates; for it the picture shows its tanh states a_t against -0.9 and 0.9 (a saturated tanh unit
    passes almost no gradient), under the name "states".
    """
    if gates is None:
        gates = [g for g in rec.gates if g in SIGMOID_GATES]
        if not gates:
            if rec.gates or rec.nonlinearity != "tanh":
                raise ValueError(f"gate_saturation: a {rec.cell} recording has no sigmoid gates "
                                 f"and no tanh state to measure")
            gates = ["states"]
    gates = [gates] if isinstance(gates, str) else list(gates)
    data = {}
    for gate in gates:
        if gate not in THRESHOLDS:
            raise ValueError(f"gate_saturation: {gate!r} is not a bounded gate; choose from "
                             f"{sorted(set(rec.gates) & set(THRESHOLDS)) or ['states']}")
        values = rec.values(gate)
        low, high = THRESHOLDS[gate]
        flat = values.reshape(-1, values.shape[-1])  # (T·batch, H)
        data[gate] = np.stack([(flat < low).mean(axis=0), (flat > high).mean(axis=0)], axis=1)

    fig = new_figure(max(3.3 * len(gates) + 0.4, 5.0), 3.8)
    axes = fig.subplots(1, len(gates), squeeze=False)[0]
    for ax, gate in zip(axes, gates):
        left, right = data[gate].T
        low, high = THRESHOLDS[gate]
        ax.plot([0, 1], [1, 0], color="0.75", linewidth=1, linestyle="--", zorder=1)
        ax.scatter(left, right, s=14, alpha=0.6, color="#0072B2", edgecolors="none", zorder=2)
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.03, 1.03)
        ax.set_aspect("equal")
        ax.set_title(rec.describe(gate), fontsize=10)
        ax.set_xlabel(f"fraction of steps < {low:g}")
        ax.grid(True, alpha=0.25)
    axes[0].set_ylabel(f"fraction of steps > {THRESHOLDS[gates[0]][1]:g}")
    fig.suptitle(f"Saturation: one point per unit ({rec.hidden} units, {rec.steps * rec.batch} steps)",
                 fontsize=10)
    return Plot(fig, data, "gate saturation")
