"""``varimp.importance``: one entry point that dispatches to every method by name, with one call
shape: every common option is accepted by every method, and those a method does not use are
left out (and listed in ``details["options_not_used"]``)."""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .registry import COMMON_OPTIONS, METHODS, MethodSpec, available_methods, method_spec
from .result import Importance

__all__ = ["METHODS", "available_methods", "importance", "split_options"]

#: Common options that configure how the model is read; a method that does not take them
#: directly still honours them through its adapter.
_MODEL_OPTIONS = ("output_kind", "classes")


def split_options(spec: MethodSpec, options: dict[str, Any]
                  ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``(method's own options, model options, names left out)``; InputError for an option
    that is neither a common option nor the method's own."""
    own = set(spec.options)
    unknown = sorted(set(options) - own - set(COMMON_OPTIONS))
    if unknown:
        raise InputError(f"method {spec.name!r} takes the options {sorted(own)} and the common "
                         f"options {sorted(COMMON_OPTIONS)}; received unknown {unknown}")
    used = {k: v for k, v in options.items() if k in own}
    model = {k: v for k, v in options.items() if k in _MODEL_OPTIONS and k not in own}
    unused = sorted(k for k in options if k not in own and k not in model)
    return used, model, unused


def importance(model: object, X: object = None, y: object = None, *, method: str,
               **options: Any) -> Importance:
    """Importance of every input of ``model`` by the method called ``method``.

    ``importance(model, X, y, method="garson", variant="goh")`` is
    ``garson(model, X, y, variant="goh")``. Every common option below is accepted for every
    method; one the method does not use is left out and named in
    ``details["options_not_used"]``. The settings the method ran with, defaults included, are in
    ``details["settings"]``. This is the one place the common options are documented; each
    method documents its own options (``varimp methods`` lists the methods).

    Parameters
    ----------
    model : torch.nn.Module, Keras model, fitted scikit-learn MLP or Pipeline, or callable
        The fitted model; never changed (weights, modes, flags are as they were on return).
    X : array-like ``(n, p)`` or ``(n, T, p)``, DataFrame or tensor
        Tables or sequences (time step ``T - 1`` the most recent). DataFrame columns become
        feature names.
    y : array-like, optional
        Targets, for the methods that measure an error: numbers for regression; class labels of
        any type for classifiers, ``(n,)``, ``(n, 1)`` or one-hot ``(n, k)``; multi-hot
        ``(n, k)`` (0/1) for ``k`` independent sigmoid outputs (multi-label, e.g. the presence
        of ``k`` species: read from the model's last layer; for logits, from a multi-hot
        ``y``); one per step ``(n, T)`` for a model that predicts every step. DataFrame
        columns name the outputs.
    method : str
        One of :func:`varimp.available_methods`.
    ``feature_names`` : sequence of str
        Names of the input features (default: DataFrame columns, else ``x1..xp``).
    ``groups`` : dict
        ``{name: [feature, ...]}``: several features scored as one variable in every method
        (a one-hot block is moved to another observed category, swept over its categories,
        differentiated along each change of category, its connection weights contrasted over
        its categories; a numeric group's derivatives and weights are summed). A group name
        may not clash with another feature; results keep column order, a group in place of
        its first member.
    ``output`` : int, str, list of them, or None
        The output(s) to explain, by index or name (class labels, Keras output names, DataFrame
        ``y`` columns); None: all. One rule for several outputs in every method: each output's
        score is in ``details["per_output"]`` where the method has one, and the score is their
        mean (signed effects average their magnitudes); error-based methods score the selected
        outputs together (a regression error averaged over outputs, each output's own increase
        in ``details["per_output"]``; a classifier's classes by its classification metric,
        selected classes one versus rest; multi-label outputs each as a binary classifier,
        averaged, each in ``details["per_output"]``).
    ``output_step`` : int or None
        A model predicting every time step (``(n, T)`` or ``(n, T, k)`` outputs): the
        predicted step to explain; None: all steps (errors over all, predictions summed).
    ``output_kind`` : {"regression", "probability", "logits"} or None
        What the outputs are. Default: decided once from the model (a softmax or sigmoid last
        layer or ``predict_proba`` means probabilities), never from the values of the data.
        Logits are turned into probabilities (softmax, or sigmoid for one output or for
        multi-label outputs) for the classification metrics. Class labels as ``y`` (one-hot
        included) with several outputs read as regression values are refused with a message
        that names this option; a 0/1 ``y`` for one output read as a value is scored as a
        regression with a ``UserWarning``. ``output_kind="regression"`` silences both.
    ``scoring`` : str, scorer or :class:`varimp.scoring.Scorer`
        The error measure of the methods that use ``y``: any scikit-learn scorer name
        (``"neg_mean_squared_error"``, ``"r2"``, ``"neg_log_loss"``, ``"accuracy"``,
        ``"balanced_accuracy"``, ``"roc_auc"``...) or object (``make_scorer``), or a metric with
        its direction stated. Default ``"auto"``: log loss for classifiers, mean squared error
        for regression. Importances are the increase of an error or the drop of a score. A
        scorer sees the class labels of ``y`` as on a scikit-learn classifier, so its
        ``pos_label`` (1 by default for ``"f1"``, ``"precision"``, ``"average_precision"``...)
        is a label, and the number equals ``sklearn.metrics.get_scorer(name)`` on the same
        predictions.
    ``classes`` : sequence
        The class labels in the order of the model's outputs (default: ``classes_`` where the
        model has it, else ``0..k-1``; for one probability or logit, ``(negative, positive)``).
        For a model that declares its classes (``classes_``), only those, in that order.
    ``random_state`` : int, numpy Generator or None
        Seeds every random draw; the same value gives the same result.
    ``ci_level``, ``n_bootstrap`` : float or None, int
        The data-driven methods (perturbation, permutation, improved stepwise 1, partial
        derivatives): ``ci`` is a percentile interval at level ``ci_level`` (None, the default:
        none) from ``n_bootstrap`` (default 1000) resamples of the rows of what the method
        already computed, with no further model call: each row's share of the score (its
        increase of an error that is a mean over rows, its squared change or squared
        derivative). Seeded by ``random_state``; whole-variable scores only, not ``by_time``.
    ``n_repeats`` : int
        Repeats of a random perturbation; the result then carries ``std``.
    ``batch_size`` : int
        Rows per model call.
    ``max_memory`` : int
        Bytes of perturbed input held at once (default 256 MiB).
    ``n_jobs``, ``backend`` : int, str
        Parallel fits of the methods that retrain networks (forward and backward stepwise,
        and ``varimp.randomization_test`` / ``varimp.ensemble``): joblib processes
        (``n_jobs``) or ``backend="dask"``; the result does not depend on them. The other
        methods leave them out.
    ``progress`` : bool or None
        A progress bar (``tqdm.auto``): None shows it once a call has run a few seconds, also
        in a log file; True at once; False never.
    ``by_time`` : bool
        Sequences: also score every time step and every cell (default True where the method
        can).
    **options
        The method's own options.

    Returns
    -------
    Importance
        ``kind`` says what the scores hold: ``"loss"`` (ranks by the signed score; a negative
        score ranks last and has no share), ``"effect"`` (signed; ranks by magnitude),
        ``"share"`` or ``"magnitude"``.

    Examples
    --------
    The linear function ``y = 2 x1 + x2`` (a plain callable: no network needed) has partial
    derivatives 2, 1 and 0 at every row; PaD sums their squares over the 100 rows.

    >>> import numpy as np
    >>> import varimp
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> def model(X):
    ...     return X @ np.array([2.0, 1.0, 0.0])
    >>> result = varimp.importance(model, X, method="partial_derivatives")
    >>> result.scores.round(3).to_dict()
    {'x1': 400.0, 'x2': 100.0, 'x3': 0.0}
    >>> result.ranks.to_dict()
    {'x1': 1, 'x2': 2, 'x3': 3}
    """
    spec = method_spec(method)
    used, model_options, unused = split_options(spec, options)
    if model_options:
        from .adapters import adapt

        model = adapt(model).configure(**model_options)
    result = spec.function(model, X, y, **used)
    result.details.setdefault("settings", {}).update(model_options)
    result.details["options_not_used"] = unused
    return result
