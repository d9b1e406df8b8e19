"""The randomization test of Olden & Jackson (2002), and the rules of its observed network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..api import importance
from ..engines.retrain import FitTask
from ..result import Importance
from ..validation import check_positive_int
from .refits import OBSERVED, _Refits, _stack

#: What ``details["test"]`` of a randomization test says.
TEST_NAME = "randomization (Olden & Jackson 2002)"


def permutation_pvalues(observed: np.ndarray, null: np.ndarray, kind: str) -> np.ndarray:
    """``(1 + #{null >= observed}) / (1 + n_permutations)`` along the first axis of ``null``.

    Effects (signed scores: connection weights, mean derivatives) compare magnitudes,
    ``abs(null) >= abs(observed)``; losses, shares and magnitudes compare the scores as they
    are, so a loss below the null's (a negative importance) is never significant.
    """
    if kind == "effect":
        observed, null = np.abs(observed), np.abs(null)
    return (1.0 + (null >= observed).sum(axis=0)) / (1.0 + null.shape[0])


def bh_adjusted(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values of one family, every entry of ``pvalues``
    (:func:`scipy.stats.false_discovery_control`, ``method="bh"``), in its shape: rejecting
    every adjusted value <= q controls the false discovery rate of the family at q."""
    from scipy.stats import false_discovery_control

    pvalues = np.asarray(pvalues, dtype=float)
    return false_discovery_control(pvalues.ravel(), method="bh").reshape(pvalues.shape)


def randomization_test(
    model: object,
    X: object,
    y: object,
    *,
    method: str,
    fit: Callable[..., Any] | None = None,
    n_permutations: int = 99,
    random_state: object = None,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Importance:
    """The randomization test of Olden & Jackson (2002): is each importance more than chance?

    ``n_permutations`` null networks are trained by ``fit`` on the targets permuted across rows
    (each permutation drawn from the fit's own seed), and ``method``, with the same options, is
    computed on each null network against the permuted targets it was trained on. The observed
    importance must come from a network trained by the same procedure on the true targets:
    a network trained longer, or otherwise, than the null networks (one that overfits, say)
    has importances the null networks never reach, whatever the data, and every p-value would
    be the smallest. So:

    - ``fit`` given: the observed importance is ``method`` on ``model``, which must have been
      trained by that ``fit`` (the test assumes it; varimp cannot check it);
    - ``fit=None`` on a scikit-learn model: the null networks are clones of its estimator,
      with its hyper-parameters, and the observed importance is ``method`` on ``model``;
    - ``fit=None`` on a PyTorch or Keras network: varimp rebuilds it and trains it by its own
      trainer, not the user's training, so the observed importance is ``method`` on one more
      network rebuilt and trained that way on the true targets (task ``("observed", 0)``, its
      seed drawn after the permutations', run in the same dispatch); the given model's own
      importance is kept in ``details["given_model"]`` for reference. A retraining method
      (stepwise) retrains every network anyway and is computed on ``model``.

    The p-value of a variable is

    ``p = (1 + #{null >= observed}) / (1 + n_permutations)``

    (Phipson & Smyth 2010: never zero; the smallest attainable is ``1 / (1 + n_permutations)``).
    Effects (``kind="effect"``: signed scores such as connection weights) are compared by
    magnitude; losses, shares and magnitudes by their score as it is.

    What it tests: permuting ``y`` breaks every link between the inputs and the output, so the
    null is "this input's importance is no larger than that of a network trained on targets
    unrelated to every input". In a model with real signal, an irrelevant input's importance
    is compared with null networks that fit noise with all their weights, so its p-value is
    conservative (near 1, not uniform); only on pure-noise targets are the p-values uniform.

    Significance, one rule (the stars of the plots and of the report): each raw p-value is
    that of one variable alone, and testing many at once gives some small ones by chance, so
    declare significant the Benjamini-Hochberg adjusted p-values (:func:`bh_adjusted`, false
    discovery rate) at most the chosen rate (e.g. 0.05), not the raw ones. They are in
    ``details``: ``"pvalues_bh"`` over the variables (``to_frame()``'s ``pvalue_bh``) and,
    for sequences, ``"pvalues_by_time_bh"`` over every cell of the table (time x variable,
    one family) and ``"pvalues_by_time_bh_per_variable"`` over the time steps of each
    variable (one family per column). An adjusted p-value is never below the raw one, so a
    test at 5 % needs at least 19 permutations, and 19 suffice only when every one of the
    ``m`` variables reaches the smallest p-value; when ``k`` of them do and the others are
    large, the smallest adjusted p-value is about ``m / (k (1 + n_permutations))``: one
    discovery among ``m`` variables at 0.05 needs ``20 m - 1`` permutations (99 for 5).

    Parameters
    ----------
    model : torch.nn.Module, Keras model, fitted scikit-learn model, or callable
        The fitted model whose importance is tested (trained by ``fit`` when ``fit`` is
        given); never changed. With ``fit=None`` it also says how to train the null networks
        (see :func:`varimp.refit.resolve_fit`).
    X : array-like ``(n, p)`` or ``(n, T, p)``, DataFrame or tensor
    y : array-like
        The targets the model was trained on (required: the null networks are trained on them,
        permuted).
    method : str
        Any of :func:`varimp.available_methods`, weight-based methods included.
        A retraining method (``forward_stepwise``, ``backward_stepwise``) runs its whole
        search on every refitted network: with ``p`` variables that is ``p (p + 1) / 2`` more
        fits per network (about ``p (p + 1) / 2 x n_permutations`` in all).
    fit : callable, optional
        ``fit(X, y) -> model``, the procedure that trained ``model``; when it accepts
        ``random_state``, each null network gets its own seed, else the global generators are
        seeded from it (:func:`varimp.engines.worker.global_seed`). None: the model is cloned
        (scikit-learn) or rebuilt with fresh weights and trained by varimp's seeded trainer
        (PyTorch, Keras); anything else needs ``fit``.
    n_permutations : int, default 99
        Null networks to train (at least 1).
    random_state : int, numpy Generator or None
        Seeds the permutations and fits (one seed per fit, drawn before any is dispatched) and
        the method's own draws, the same on the model and on every null network. An int is
        handed to the method as it is, so the observed importance equals
        ``varimp.importance(model, X, y, method=method, random_state=random_state)`` (on the
        network varimp trains for it, when it rebuilds one).
    n_jobs, backend : int, str, optional
        Parallel fits: joblib processes (``n_jobs > 1``, ``backend`` a joblib backend name), or
        ``backend="dask"`` (the current ``dask.distributed`` Client, else a local cluster
        started for the call). The numbers do not depend on them.
    progress : bool or None
        A progress bar over the fits (None: once the work has run a few seconds).
    **options
        The method's own options and the common options of :func:`varimp.importance`.
        ``scoring=None`` with ``method="perturbation"``: the measure without ``y`` (the RMS
        change of the predictions) on the observed and every null network; ``y`` still
        trains them (``details["test_settings"]["measure"]`` says so). Every other method
        keeps its own rules for ``scoring``.

    Returns
    -------
    Importance
        The observed importance (method name and kind unchanged) with ``pvalues`` set (raw,
        one variable alone; see Significance above), and in
        ``details``: ``"test"`` (the test's name), ``"null"`` (DataFrame, permutation x
        variable: the null importances), ``"pvalues_by_time"`` (sequences, where the method
        resolves time: a p-value per cell, time x variable, from the null ``by_time`` tables),
        ``"pvalues_bh"``, ``"pvalues_by_time_bh"`` and ``"pvalues_by_time_bh_per_variable"``
        (the Benjamini-Hochberg adjusted p-values: over the variables, over all cells, over
        each variable's cells; see Multiple testing above),
        ``"test_settings"`` (the fit used, the number of permutations, the root seed,
        ``"observed"``: which network the observed importance comes from, and
        ``"observed_seed"``: the seed of the network varimp trained for it, or None) and,
        when varimp trained the observed network, ``"given_model"`` (the given model's own
        scores, for reference only).

    Raises
    ------
    InputError
        ``n_permutations < 1``, an unknown method or option, bad ``X`` or ``y``.
    ModelError
        A fit (or the method on a null network) that raises, returns NaN, returns a model that
        predicts other outputs than the given one, or loses its worker; the message names the
        permutation, e.g. ``("permutation", 17)``.

    References
    ----------
    Olden, J. D. & Jackson, D. A. (2002). Illuminating the "black box": a randomization approach
    for understanding variable contributions in artificial neural networks. Ecological
    Modelling 154, 135-150.
    Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero. Statistical
    Applications in Genetics and Molecular Biology 9(1), 39.

    Examples
    --------
    >>> X, y, truth = varimp.datasets.friedman1(300, random_state=0)
    >>> model = varimp.train_mlp(X, y, random_state=0)
    >>> test = varimp.randomization_test(model, X, y, method="permutation",
    ...                                  fit=varimp.train_mlp, n_permutations=99, n_jobs=2)
    >>> test.to_frame()[["feature", "score", "pvalue"]]  # doctest: +SKIP
    """
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    refits = _Refits.build(model, X, y, method, fit, random_state, options)
    given = importance(model, X, refits.method_y(y), method=refits.spec.name,
                       feature_names=refits.data.feature_names,
                       **_observed_options(refits, n_jobs, backend, progress))
    if refits.without_y:
        given.details["settings"]["scoring"] = None
    tasks = [FitTask(("permutation", i + 1), permute_y=True) for i in range(n_permutations)]
    if refits.trains_observed:
        tasks.append(FitTask(OBSERVED))
    results = refits.run(tasks, n_jobs, backend, progress)
    observed = results.pop() if refits.trains_observed else given
    null, null_by_time = _stack(results)
    variables = list(observed.scores.index)
    observed.pvalues = pd.Series(
        permutation_pvalues(observed.scores.to_numpy(dtype=float), null, observed.kind),
        index=observed.scores.index, name="pvalue")
    details = observed.details
    details["test"] = TEST_NAME
    details["pvalues_bh"] = pd.Series(bh_adjusted(observed.pvalues.to_numpy()),
                                      index=observed.pvalues.index, name="pvalue_bh")
    details["null"] = pd.DataFrame(null, columns=variables, index=pd.RangeIndex(
        1, n_permutations + 1, name="permutation"))
    if observed.by_time is not None and null_by_time is not None:
        cells = permutation_pvalues(observed.by_time.to_numpy(dtype=float), null_by_time,
                                    observed.kind)
        details["pvalues_by_time"] = pd.DataFrame(cells, index=observed.by_time.index,
                                                  columns=observed.by_time.columns)
        details["pvalues_by_time_bh"] = pd.DataFrame(
            bh_adjusted(cells), index=observed.by_time.index, columns=observed.by_time.columns)
        details["pvalues_by_time_bh_per_variable"] = pd.DataFrame(
            np.column_stack([bh_adjusted(cells[:, j]) for j in range(cells.shape[1])]),
            index=observed.by_time.index, columns=observed.by_time.columns)
    details["test_settings"] = refits.settings(n_permutations=n_permutations,
                                               **_observed_settings(refits, len(tasks)))
    if refits.trains_observed:
        details["given_model"] = given.scores.rename("given model")
    return observed


def _altered_words(how: dict[str, Any]) -> str:
    """``max_iter`` set to 300 (the given model's: 200), and so on, for a clone refitted with
    other parameters than the given model's."""
    values = how.get("altered_values", {})
    return ", ".join(f"{name} set to {values[name]['refit']} (the given model's: "
                     f"{values[name]['given']})" if name in values else f"{name} changed"
                     for name in how["altered"])


def _observed_settings(refits: _Refits, n_tasks: int) -> dict[str, Any]:
    """Which network the observed importance of a randomization test comes from, in words."""
    if refits.trains_observed:
        how = refits.fit_description
        network = (f"a {how['architecture']} network rebuilt and trained by {how['trainer']}"
                   if how["how"] == "rebuilt" else f"a clone of {how['estimator']} with "
                   f"{_altered_words(how)}, refitted")
        return {"observed": f"{network} on the true targets, as every null network (the "
                            "given model's own training is not theirs; its scores are "
                            "details['given_model'])",
                "observed_seed": refits.seeds(n_tasks)[-1]}
    if refits.spec.retrains:
        reason = "a retraining method's importance does not depend on its weights"
    elif refits.fit_description["how"] == "clone":
        reason = "the null networks are clones of its estimator"
    else:
        reason = "it must have been trained by fit, as every null network"
    return {"observed": f"the given model ({reason})", "observed_seed": None}


def _observed_options(refits: _Refits, n_jobs: object, backend: object, progress: object
                      ) -> dict[str, Any]:
    """The options of the method on the user's model: a retraining method may use the
    parallel backend and the progress bar there (the null networks' methods run inside a
    worker, sequentially and silently)."""
    extra = {"n_jobs": n_jobs, "backend": backend, "progress": progress}
    return {**refits.options, **{k: v for k, v in extra.items() if k in refits.spec.options}}
