"""Partial derivatives, "PaD" (Dimopoulos et al. 1995, 1999), for MLPs and recurrent networks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..result import Importance
from ._common import group_columns, prepare, resolve_output, resolve_step, time_table


def partial_derivatives(
    model: object, X: object, y: object = None, *, feature_names: Any = None,
    output: Any = None, output_step: int | None = None, groups: Any = None,
    batch_size: int | None = None, by_time: bool = True,
) -> Importance:
    """Partial derivatives of the output with respect to every input, at every observation.

    ``d_i(x) = d y(x) / d x_i`` is taken at each sample (by autodiff where the framework has it,
    otherwise central finite differences; ``details["gradient"]`` says which). The score of
    variable ``i`` is its sum of squared derivatives ``SSD_i = sum_n d_i(x_n)^2``, whose share
    is Dimopoulos' PaD contribution; ``details["summary"]`` holds the mean, standard deviation and
    root mean square of the derivatives (as NeuralSens reports them) and
    ``details["derivatives"]`` the derivatives themselves.

    Sequences ``(n, T, p)``: the derivative is taken for every cell. A variable's score uses the
    derivative along a shift of the variable at all steps together (the sum of its cell
    derivatives), matching what perturbation does; ``by_time`` holds the SSD of every cell.
    A group (``groups=``) moves all its features together in the same way. Predictions per time
    step are summed over the steps, or taken at ``output_step``; several outputs are scored
    together by adding their SSD (the squared norm of the Jacobian row) unless ``output``
    selects one.

    References
    ----------
    Dimopoulos, Y., Bourret, P. & Lek, S. (1995). Use of some sensitivity criteria for choosing
    networks with good generalization ability. Neural Processing Letters 2, 1-4.
    Dimopoulos, I., Chronopoulos, J., Chronopoulou-Sereli, A. & Lek, S. (1999). Neural network
    models to study relationships between lead concentration in grasses and permanent urban
    descriptors in Athens city (Greece). Ecological Modelling 120, 157-165.
    """
    setup = prepare(model, X, y, feature_names=feature_names, groups=groups,
                    replaces_cells=False)
    data, adapter, names = setup.data, setup.adapter, setup.variables
    n_steps, n_outputs = adapter.predict(data.X[:1], batch_size).shape[1:]
    output_step = resolve_step(output_step, n_steps)
    outputs = resolve_output(output, n_outputs, getattr(adapter, "output_names", None))
    ssd, cells, summaries, derivatives = [], [], [], {}
    for k in outputs:
        grad = group_columns(adapter.gradient(data.X, k, output_step, batch_size), setup.groups)
        along = grad.sum(axis=1) if data.sequence else grad  # (n, variables)
        ssd.append((along**2).sum(axis=0))
        if data.sequence and by_time:
            cells.append((grad**2).sum(axis=0))
        summaries.append(pd.DataFrame({
            "output": k, "variable": names, "mean": along.mean(axis=0),
            "std": along.std(axis=0, ddof=1) if len(along) > 1 else np.zeros(len(names)),
            "rms": np.sqrt((along**2).mean(axis=0)), "ssd": ssd[-1],
        }))
        derivatives[f"output {k}"] = pd.DataFrame(along, columns=names)
    details = {
        "summary": pd.concat(summaries, ignore_index=True),
        "derivatives": derivatives if len(outputs) > 1 else derivatives[f"output {outputs[0]}"],
        "gradient": adapter.gradient_kind,
        "outputs": outputs,
    }
    table = time_table(np.sum(cells, axis=0), names) if cells else None
    return Importance("partial_derivatives", pd.Series(np.sum(ssd, axis=0), index=names),
                      by_time=table, details=details)
