"""`jacobian_spectrum`: the singular values of ∂a_T/∂a_t against the lag T - t.

For a linear recurrence a_t = W a_{t-1} + U x_t, ∂a_T/∂a_t = W^(T-t): its singular values shrink or
grow like ρ(W)^(T-t), which is why gradients vanish or explode (REFERENCES.md, BPTT). A trained
tanh RNN multiplies by diag(tanh') W at every step, so its spectrum falls at least as fast as the
linear line once units saturate; the picture shows how far the real thing departs from the theory.
"""
from __future__ import annotations

import numpy as np

from .pictures import Plot, new_figure
from .recording import Recording
from .sensitivity import state_jacobians

MAX_CURVES = 32  # more singular values than this are thinned to evenly spaced ones (all stay in .data)


def jacobian_spectrum(rec: Recording, batch: int = 0, max_lag: int | None = None) -> Plot:
    """Singular values of ∂a_T/∂a_t for sequence `batch`, lag T - t = 0 .. max_lag (default T - 1),
    from H vector-Jacobian products. `.data`: "lag" (K,), "singular_values" (K, H) largest first,
    "rho" (the rate of the reference line), "line" (K,) = rho^lag, and "fitted_rate": the geometric
    rate at which the largest singular value actually falls.

    The reference line is the linear theory ρ(W)^(T-t), ρ(W) the spectral radius of the cell's
    recurrent matrix W (H, H); the fitted rate is drawn beside it, so the gap between theory and the
    trained model shows. A gated cell has no single such matrix (its W stacks one block per gate), so
    for LSTM and GRU the reference line is the fitted rate itself, labelled as such.
    """
    lags, J = state_jacobians(rec, batch, max_lag)
    values = np.linalg.svd(J.astype(np.float64), compute_uv=False)  # (K, H), descending
    fitted = _fitted_rate(lags, values[:, 0])
    W = rec.recurrent_weight
    if W is not None and W.ndim == 2 and W.shape == (rec.hidden, rec.hidden):
        rho = float(np.max(np.abs(np.linalg.eigvals(W.astype(np.float64)))))
        label = f"linear theory ρ(W)$^{{T-t}}$, ρ(W) = {rho:.3g}"
    else:
        rho = fitted
        label = f"fitted rate r$^{{T-t}}$, r = {rho:.3g} ({rec.cell} has no single W)"
    line = rho ** lags.astype(np.float64)

    fig = new_figure(6.8, 4.2)
    ax = fig.add_subplot()
    shown = np.where(values > 0, values, np.nan)  # log axis: a zero cannot be drawn
    H = values.shape[1]
    curves = np.unique(np.linspace(0, H - 1, min(H, MAX_CURVES)).round().astype(int))
    for index in curves[1:]:
        ax.plot(lags, shown[:, index], color="#56B4E9", linewidth=0.8, alpha=0.7)
    ax.plot(lags, shown[:, 0], color="#0072B2", linewidth=2.0, label="largest singular value")
    if len(curves) > 1:
        ax.plot([], [], color="#56B4E9", linewidth=0.8,
                label="the others" + ("" if len(curves) == H else f" ({len(curves) - 1} of {H - 1} drawn)"))
    ax.plot(lags, np.where(line > 0, line, np.nan), color="#D55E00", linestyle="--", linewidth=1.5, label=label)
    if rho is not fitted and len(lags) > 1:
        ax.plot(lags, fitted ** lags.astype(np.float64), color="0.35", linestyle=":", linewidth=1.5,
                label=f"fitted to the largest: r$^{{T-t}}$, r = {fitted:.3g}")
    ax.set_yscale("log")
    # The axis spans the measured values: a theory line far above or below them leaves the chart
    # rather than squeezing the measurements into a sliver.
    finite = shown[np.isfinite(shown)]
    if finite.size:
        ax.set_ylim(min(finite.min(), 1.0) / 3, max(finite.max(), 1.0) * 3)
    ax.set_xlabel("lag T − t (steps back from the last state)")
    ax.set_ylabel("singular values of ∂a$_T$/∂a$_t$")
    ax.set_title(f"How a$_T$ depends on earlier states ({rec.cell}, {rec.hidden} units, T = {rec.steps})",
                 fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    data = {"lag": lags, "singular_values": values, "rho": np.asarray(rho), "line": line,
            "fitted_rate": np.asarray(fitted)}
    return Plot(fig, data, "Jacobian spectrum")


def _fitted_rate(lags: np.ndarray, largest: np.ndarray) -> float:
    """r minimising Σ (log σ(k) - k log r)² over the lags k >= 1 where σ(k) > 0 (σ(0) = 1 exactly)."""
    keep = (lags >= 1) & (largest > 0)
    if not keep.any():
        return 1.0
    k, log_sigma = lags[keep].astype(np.float64), np.log(largest[keep])
    return float(np.exp(np.sum(k * log_sigma) / np.sum(k * k)))
