"""The importance averaged over an ensemble of refitted networks, with its spread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..engines.retrain import FitTask
from ..errors import InputError
from ..result import Importance
from ..validation import check_positive_float, check_positive_int
from .refits import _Refits, _stack

#: The level of an ensemble's percentile interval unless ``ci_level`` says otherwise.
DEFAULT_CI_LEVEL = 0.95


def ensemble(
    model: object,
    X: object,
    y: object,
    *,
    method: str,
    fit: Callable[..., Any] | None = None,
    n_models: int = 10,
    bootstrap: bool = True,
    ci_level: float = DEFAULT_CI_LEVEL,
    random_state: object = None,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Importance:
    """The importance averaged over an ensemble of refitted networks, with its spread.

    ``n_models`` networks are trained by ``fit``, each with its own seed and, by default, on
    its own bootstrap resample of the rows (bagging, Breiman 1996), so that the spread covers
    both the randomness of training and that of the sample. ``method`` runs on every member
    against every row of ``X`` and ``y``, with the options given. A retraining method
    (``forward_stepwise``, ``backward_stepwise``) trains its own networks: for each member it
    runs its whole search on the member's rows (its bootstrap resample, or every row) with the
    member's seed as ``random_state``, so that members differ as those of any other method.
    A single network's ranking can change from one training run to the next (Olden & Jackson
    2002; Gevrey et al. 2003); the ensemble shows by how much.

    For a classifier (one class label per row) the bootstrap is stratified: each class is
    resampled within itself (:func:`varimp.engines.fits.bootstrap_rows`), so every member is
    trained on every class of the data, a rare one included, in its own proportion; an
    unstratified resample can miss a rare class and give a member fewer outputs than the
    model.

    Parameters
    ----------
    model : torch.nn.Module, Keras model, fitted scikit-learn model, or callable
        With ``fit=None``, the model whose training is repeated (a scikit-learn model is
        cloned, a PyTorch or Keras network rebuilt with fresh weights and trained by varimp's
        seeded trainer); never changed, and its own importance is not part of the result.
    X : array-like ``(n, p)`` or ``(n, T, p)``, DataFrame or tensor
    y : array-like
        Targets (required: every member is trained on them).
    method : str
        Any of :func:`varimp.available_methods`.
        A retraining method (``forward_stepwise``, ``backward_stepwise``) runs its whole
        search on every member: with ``p`` variables that is ``p (p + 1) / 2`` more fits per
        member (about ``p (p + 1) / 2 x n_models`` in all).
    fit : callable, optional
        ``fit(X, y) -> model``; when it accepts ``random_state``, each member gets its own seed;
        without it, the global generators (Python's ``random``, NumPy's, torch's) are seeded
        from the member's seed before its fit and restored afterwards
        (:func:`varimp.engines.worker.global_seed`), so a fit that draws from them differs from
        member to member and is reproducible, except in threads of one process (joblib's
        ``"threading"`` backend, Dask workers of several threads), which share them.
    n_models : int, default 10
        Members (at least 2: a spread needs two).
    bootstrap : bool, default True
        Train each member on a bootstrap resample of the rows (stratified by class for a
        classifier); False: on every row, members differing by their seed only.
    ci_level : float, default 0.95
        Level of the percentile interval over the members' scores.
    random_state : int, numpy Generator or None
        Seeds every fit and resample (one seed per member, drawn before any fit is dispatched,
        listed in ``details["ensemble_settings"]["seeds"]``) and the method's own draws, the
        same on every member (a retraining method's search: the member's own seed).
    n_jobs, backend, progress
        As in :func:`randomization_test`.
    **options
        The method's own options and the common options of :func:`varimp.importance`.

    Returns
    -------
    Importance
        ``scores``: the members' mean; ``std``: their standard deviation (``ddof=1``); ``ci``:
        the ``(1 - ci_level) / 2`` and ``1 - (1 - ci_level) / 2`` percentiles of their scores
        (linear interpolation, :func:`numpy.percentile`); ``by_time``: the members' mean table,
        where the method has one; ``kind``: the method's. ``details["members"]`` holds every
        member's scores (member x variable); ``details["per_output"]``, where the method gives
        one per output (several outputs), the members' mean of it.

    Raises
    ------
    InputError
        ``n_models < 2``, ``ci_level`` outside ``(0, 1)``, an unknown method or option.
    ModelError
        A fit (or the method on a member) that raises, returns NaN, returns a model that
        predicts other outputs than the given one, or loses its worker; the message names the
        member, e.g. ``("model", 4)``.

    References
    ----------
    Breiman, L. (1996). Bagging predictors. Machine Learning 24, 123-140.
    Olden, J. D. & Jackson, D. A. (2002). Illuminating the "black box". Ecological Modelling
    154, 135-150.

    Examples
    --------
    >>> X, y, truth = varimp.datasets.friedman1(300, random_state=0)
    >>> model = varimp.train_mlp(X, y, random_state=0)
    >>> bag = varimp.ensemble(model, X, y, method="garson", fit=varimp.train_mlp, n_models=20)
    >>> bag.to_frame()[["feature", "score", "std", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    n_models = check_positive_int(n_models, "n_models", minimum=2)
    if not isinstance(bootstrap, bool | np.bool_):
        raise InputError(f"bootstrap must be True or False; received {bootstrap!r}")
    ci_level = check_positive_float(ci_level, "ci_level")
    if not ci_level < 1:
        raise InputError(f"ci_level must lie strictly between 0 and 1; received {ci_level!r}")
    refits = _Refits.build(model, X, y, method, fit, random_state, options)
    tasks = [FitTask(("model", i + 1), bootstrap=bool(bootstrap)) for i in range(n_models)]
    results = refits.run(tasks, n_jobs, backend, progress, own_search=True)
    members, tables = _stack(results)
    first = results[0]
    variables = first.scores.index
    tail = (1.0 - ci_level) / 2.0
    low, high = np.percentile(members, [100.0 * tail, 100.0 * (1.0 - tail)], axis=0)
    details: dict[str, Any] = {
        "ensemble": f"{n_models} refitted networks"
                    + (", each on a bootstrap resample of the rows" if bootstrap else ""),
        "members": pd.DataFrame(members, columns=variables,
                                index=pd.RangeIndex(1, n_models + 1, name="model")),
        "settings": {k: v for k, v in refits.options.items() if k != "fit"},
        "ensemble_settings": refits.settings(n_models=n_models, bootstrap=bool(bootstrap),
                                             ci_level=ci_level, seeds=refits.seeds(n_models)),
    }
    if first.measure is not None:
        details["measure"] = first.measure
    if all(r.per_output is not None for r in results):  # several outputs: each one's mean
        details["per_output"] = sum(r.per_output for r in results) / n_models
    return Importance(
        method=refits.spec.name,
        scores=pd.Series(members.mean(axis=0), index=variables),
        std=pd.Series(members.std(axis=0, ddof=1), index=variables),
        ci=pd.DataFrame({"low": low, "high": high}, index=variables),
        by_time=None if tables is None else pd.DataFrame(
            tables.mean(axis=0), index=first.by_time.index, columns=first.by_time.columns),
        kind=first.kind,
        details=details,
    )
