"""The importance averaged over an ensemble of refitted networks, with its spread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..api import split_options
from ..engines.retrain import FitTask
from ..methods.measure import check_interval
from ..result import Importance
from ..validation import check_flag, check_positive_int
from .refits import _Refits, _stack

#: The level of an ensemble's prediction interval unless ``ci_level`` says otherwise.
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
    ci_level: float | None = DEFAULT_CI_LEVEL,
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
    ci_level : float or None, default 0.95
        Level of the t prediction interval built from the members' scores
        (:func:`prediction_interval`); None: no interval.
    random_state : int, numpy Generator or None
        Seeds every fit and resample (one seed per member, drawn before any fit is dispatched,
        listed in ``details["ensemble_settings"]["seeds"]``) and the method's own draws, the
        same on every member (a retraining method's search: the member's own seed).
    n_jobs, backend, progress
        As in :func:`randomization_test`.
    **options
        The method's own options and the common options of :func:`varimp.importance`.
        ``scoring=None`` with ``method="perturbation"``: every member is measured without
        ``y`` (the RMS change of its predictions), ``y`` only training the members
        (``details["ensemble_settings"]["measure"]`` says so).

    Returns
    -------
    Importance
        ``scores``: the members' mean; ``std``: their standard deviation (``ddof=1``); ``ci``
        (None with ``ci_level=None``): ``scores -/+ t * std * sqrt(1 + 1 / m)`` with ``m =
        n_models`` and ``t`` the ``(1 + ci_level) / 2`` quantile of Student's t with ``m - 1``
        degrees of freedom (:func:`prediction_interval`), per variable. It is a prediction
        interval for the importance of one more network trained the same way (with
        ``bootstrap=True`` each member is also trained on a resample of the rows, so the
        sample's uncertainty is in it; with ``bootstrap=False``, training runs on these rows
        only), exact when the members' importances are roughly normal across networks. It is
        symmetric about ``scores``, so it always contains them, and it is not a confidence
        interval of their mean: that would be ``sqrt(m + 1)`` times narrower (``t * std /
        sqrt(m)``). ``details["interval"]`` says so in words; for percentiles instead, take
        them of ``details["members"]``. ``by_time`` has no interval.
        ``by_time``: the members' mean table, where the method has one; ``kind``: the
        method's. ``details["members"]`` holds every member's scores (member x variable);
        ``details["per_output"]``, where the method gives one per output (several outputs),
        the members' mean of it; ``details["settings"]``: the settings every member's method
        ran with, defaults included (as :func:`varimp.importance` records them), and
        ``details["options_not_used"]`` the options given that it left out (the common
        options the method does not take, and ``n_bootstrap``: a member has no row-bootstrap
        interval); ``details["ensemble_settings"]``: the fit, ``n_models``, ``bootstrap``,
        ``ci_level`` and every member's seed.

    Raises
    ------
    InputError
        ``n_models < 2``, ``ci_level`` neither None nor in ``(0, 1)``, an unknown method or
        option.
    ModelError
        A fit (or the method on a member) that raises, returns NaN, returns a model that
        predicts other outputs than the given one, or loses its worker; the message names the
        member, e.g. ``("model", 4)``.

    References
    ----------
    Breiman, L. (1996). Bagging predictors. Machine Learning 24, 123-140.
    Geisser, S. (1993). Predictive Inference: An Introduction, ch. 2 (the normal prediction
    interval). Chapman & Hall.
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
    bootstrap = check_flag(bootstrap, "bootstrap")
    ci_level = check_interval(ci_level, 2)[0]  # the members' interval: no resamples of rows
    refits = _Refits.build(model, X, y, method, fit, random_state, options)
    tasks = [FitTask(("model", i + 1), bootstrap=bootstrap) for i in range(n_models)]
    results = refits.run(tasks, n_jobs, backend, progress, own_search=True)
    members, tables = _stack(results)
    first = results[0]
    variables = first.scores.index
    settings, not_used = _member_settings(refits, options, first)
    details: dict[str, Any] = {
        "ensemble": f"{n_models} refitted networks"
                    + (", each on a bootstrap resample of the rows" if bootstrap else ""),
        "members": pd.DataFrame(members, columns=variables,
                                index=pd.RangeIndex(1, n_models + 1, name="model")),
        "settings": settings,
        "options_not_used": not_used,
        "ensemble_settings": refits.settings(n_models=n_models, bootstrap=bootstrap,
                                             ci_level=ci_level, seeds=refits.seeds(n_models)),
    }
    ci = None
    if ci_level is not None:
        low, high = prediction_interval(members, ci_level)
        ci = pd.DataFrame({"low": low, "high": high}, index=variables)
        details["interval"] = interval_words(ci_level, n_models, bootstrap)
    if first.measure is not None:
        details["measure"] = first.measure
    if all(r.per_output is not None for r in results):  # several outputs: each one's mean
        details["per_output"] = sum(r.per_output for r in results) / n_models
    return Importance(
        method=refits.spec.name,
        scores=pd.Series(members.mean(axis=0), index=variables),
        std=pd.Series(members.std(axis=0, ddof=1), index=variables),
        ci=ci,
        by_time=None if tables is None else pd.DataFrame(
            tables.mean(axis=0), index=first.by_time.index, columns=first.by_time.columns),
        kind=first.kind,
        details=details,
    )


def prediction_interval(members: np.ndarray, ci_level: float) -> tuple[np.ndarray, np.ndarray]:
    """The t prediction interval at ``ci_level`` for one more draw like ``members`` (axis 0):
    ``mean -/+ t * sd * sqrt(1 + 1 / m)``, ``m`` the members, ``sd`` their standard deviation
    (``ddof=1``) and ``t`` the ``(1 + ci_level) / 2`` quantile of Student's t with ``m - 1``
    degrees of freedom. For ``m`` independent normal members it holds a new draw with
    probability exactly ``ci_level`` (the new draw minus the mean has variance
    ``sigma^2 (1 + 1 / m)``, studentized by ``sd``). Needs ``m >= 2``."""
    from scipy.special import stdtrit  # on first use: importing varimp stays light

    values = np.asarray(members, dtype=float)
    m = values.shape[0]
    centre = values.mean(axis=0)
    half = stdtrit(m - 1, (1.0 + ci_level) / 2.0) * values.std(axis=0, ddof=1) * \
        np.sqrt(1.0 + 1.0 / m)
    return centre - half, centre + half


def interval_words(ci_level: float, n_models: int, bootstrap: bool) -> str:
    """What an ensemble's ``ci`` is, in words (``details["interval"]``)."""
    from scipy.special import stdtrit

    t = float(stdtrit(n_models - 1, (1.0 + ci_level) / 2.0))
    what = ("each trained on a bootstrap resample of the rows, so the sample's uncertainty is "
            "included" if bootstrap else "each trained on these rows, their seeds alone "
            "differing: training runs only, not the sample's uncertainty")
    return (f"{ci_level:g} t prediction interval for the importance of one more network "
            f"trained the same way ({what}): score -/+ t * std * sqrt(1 + 1/{n_models}), "
            f"t = {t:.4g} the {(1.0 + ci_level) / 2.0:g} quantile of Student's t with "
            f"{n_models - 1} degrees of freedom, assuming roughly normal importances across "
            f"networks; not a confidence interval of the mean score, which would be "
            f"sqrt({n_models} + 1) = {np.sqrt(n_models + 1.0):.3g} times narrower; the "
            "members' scores are in details[\"members\"] (for percentiles)")


def _member_settings(refits: _Refits, options: dict[str, Any], first: Any
                     ) -> tuple[dict[str, Any], list[str]]:
    """The settings every member's method ran with, defaults included (as
    :func:`varimp.importance` records them; ``random_state`` the one handed to the method, a
    retraining method's members searching with their own seeds), and the options given that
    it left out: the common options the method does not take, and ``n_bootstrap`` (a member
    has no row-bootstrap interval: the ensemble's interval is over the members)."""
    _, _, unused = split_options(refits.spec, options)
    dropped = [k for k in ("n_bootstrap",) if k in options and k not in unused]
    settings = {k: v for k, v in (first.settings or {}).items()
                if k not in ("ci_level", "n_bootstrap")}
    if "random_state" in refits.options:
        settings["random_state"] = refits.options["random_state"]
    return settings, sorted(unused + dropped)
