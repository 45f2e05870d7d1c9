"""Seeing inside a recurrent network: record one run of a model, then draw what its units, gates and
gradients did at every step (Karpathy et al. 2015; see-rnn; LSTMVis; Distill's "Memorization in RNNs").

    from tinygrad_rnn import inspect
    rec = inspect.record(model, xs, loss_fn=lambda outputs: loss_of(outputs), text=text)
    inspect.heatmap(rec, "states").save("states.png")       # units × time
    inspect.heatmap(rec, "grads").save("grads.png")         # |∂L/∂a_t|, log colour
    inspect.gate_saturation(rec)                            # Karpathy's saturation plot
    inspect.jacobian_spectrum(rec)                          # singular values of ∂a_T/∂a_t
    inspect.connectivity(rec, t=40)                         # ‖∂ŷ_t/∂x_s‖ for s = 1..t
    best = inspect.rank_units(rec, inspect.position_in_word)[0]
    inspect.text_view(rec, text, best).save("unit.html")    # the text coloured by one unit
    open("report.html", "w").write(inspect.report(rec))     # all of it on one page

Each picture has `.data` (the arrays drawn), `.save(path)`, and `.figure` (matplotlib) or `.html`.
Pictures need matplotlib (pip install "tinygrad_rnn[plot]"); `record`, `rank_units` and `text_view`
do not.
"""
from .connectivity import connectivity, connectivity_map
from .features import (
           FEATURES,
           inside_brackets,
           inside_quotes,
           position_in_line,
           position_in_sentence,
           position_in_word,
           rank_units,
           unit_correlations,
)
from .heatmaps import heatmap
from .pictures import Plot, TextView
from .recording import RecordedGraph, Recording, record
from .report import report
from .saturation import gate_saturation
from .sensitivity import input_output_norms, state_jacobians
from .spectrum import jacobian_spectrum
from .text import text_view

__all__ = ["record", "Recording", "RecordedGraph", "heatmap", "gate_saturation", "jacobian_spectrum",
           "connectivity", "connectivity_map", "text_view", "rank_units", "unit_correlations", "report",
           "inside_quotes", "inside_brackets", "position_in_line", "position_in_word", "position_in_sentence",
           "FEATURES", "state_jacobians", "input_output_norms", "Plot", "TextView"]
