"""The default ``fit`` of the retraining methods: how a model like the user's is trained again.

The retraining methods (forward and backward stepwise selection, the randomization test,
ensembles) train many new networks. :func:`resolve_fit` turns what the user gave into one
callable ``fit(X, y, random_state=None) -> model`` and a description of it (recorded in
``details["fit"]``):

- ``fit`` given: used as it is (``random_state`` is passed when its signature takes it); the
  model's own training method (``fit=model.fit``, ``partial_fit``, ``fit_transform``, also of
  a Pipeline's step) is refused, as it would retrain the user's model in place
  (:func:`check_not_in_place`). A ``fit`` closing over the model (``lambda X, y:
  model.fit(X, y)``) trains the user's model in place when it runs in this process: varimp
  stops at the first such fit when it returns the model itself, but cannot undo it;
- a scikit-learn estimator or Pipeline: ``sklearn.base.clone`` of it, every ``random_state``
  parameter (of every step) set to the fit's seed, then ``fit(X, y)``: the user's
  hyper-parameters, fresh weights;
- a PyTorch or Keras network whose structure varimp reads (:mod:`varimp.network`): the same
  architecture rebuilt as a PyTorch module with fresh weights (a Keras model gets a PyTorch
  twin) and trained by varimp's seeded trainers, :func:`varimp.train_mlp` for a chain of dense
  layers and :func:`varimp.train_recurrent` for stacked recurrent layers of one cell under at
  most one dense layer, on standardized inputs (the scaling folded into the first layer),
  with a validation split and early stopping (:data:`MLP_TRAINING`, :data:`RECURRENT_TRAINING`);
- anything else: an :class:`~varimp.InputError` asking for ``fit=``.

A rebuilt network is the same chain of layer sizes, activations and cells, not the same
network: it is trained by varimp's trainer (not by the user's optimizer, loss and epochs), and
what the neutral description does not carry is left out: dropout (``Dropout`` layers, a
recurrent layer's ``dropout`` and ``recurrent_dropout``), noise layers, regularizers,
constraints and layers without a bias (rebuilt with one). :func:`resolve_fit` lists what it
left out in the description (``not_carried``) and warns once (``UserWarning``); ``fit=``
reproduces the user's own training exactly.

The description also says how each fit is seeded (``seeding``): a callable that takes
``random_state`` gets each fit's seed; any other is run with the global generators (Python's
``random``, NumPy's, torch's) seeded from the fit's seed and restored afterwards
(:func:`varimp.engines.worker.global_seed`).

Every callable here is a small picklable object holding an unfitted description, never the
user's model, so that it travels to worker processes and leaves the model untouched.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .adapters import Adapter, adapt
from .engines.fits import accepts_random_state
from .engines.worker import global_seed
from .errors import InputError, UnsupportedModelError, describe

#: Training of a rebuilt dense network (arguments of :func:`varimp.train_mlp`).
MLP_TRAINING: dict[str, Any] = {"epochs": 200, "batch_size": 32, "lr": 0.01,
                                "standardize": True, "validation_fraction": 0.2, "patience": 10}
#: Training of a rebuilt recurrent network (arguments of :func:`varimp.train_recurrent`).
RECURRENT_TRAINING: dict[str, Any] = {"epochs": 200, "batch_size": 32, "lr": 0.02,
                                      "standardize": True, "validation_fraction": 0.2,
                                      "patience": 20}
#: ``seeding`` of a description: how each fit's seed reaches the fit.
SEED_PASSED = "each fit's seed passed as random_state"
SEED_GLOBAL = ("each fit's seed set in the global generators (Python random, numpy.random, "
               "torch) before the fit and restored after it: the fit takes no random_state "
               "(reproducible on processes, not with threads sharing those generators)")
_ASK = ("pass fit=, a callable fit(X, y) -> model (optionally taking random_state), e.g. "
        "functools.partial(varimp.train_mlp, hidden=(8,)) for tables or "
        "functools.partial(varimp.train_recurrent, cell='gru') for sequences")


class CannotRefit(InputError):
    """varimp cannot train a model like the given one without ``fit=``: ``reason`` says why;
    the message adds how to pass ``fit``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}: {_ASK}")
        self.reason = reason


def refit_refusal(model: object, X: object, y: object, *, output_kind: str | None = None,
                  classes: object = None) -> str | None:
    """Why varimp cannot train a model like ``model`` without ``fit=`` (:class:`CannotRefit`'s
    reason), or None when it can: what :func:`varimp.compare` and the command line say when
    they skip the retraining methods. ``output_kind`` and ``classes`` (the common options of
    :func:`varimp.importance`) override what is read from the model, as in the methods."""
    if output_kind is not None or classes is not None:
        model = adapt(model).configure(output_kind=output_kind, classes=classes)
    try:
        resolve_fit(model, None, np.asarray(X), y)
    except CannotRefit as exc:
        return exc.reason
    return None


def check_fraction(value: object, name: str) -> float:
    """A number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise InputError(f"{name} must be a number strictly between 0 and 1; received "
                         f"{describe(value)}")
    return float(value)


def resolve_fit(model: object, fit: object, X: np.ndarray, y: np.ndarray
                ) -> tuple[Callable[..., Any], dict[str, Any]]:
    """The callable that trains a model like ``model``, and a description of it.

    Parameters
    ----------
    model : torch.nn.Module, Keras model, scikit-learn estimator or Pipeline, callable, Adapter
        The user's fitted model; never changed, never held by the returned callable.
    fit : callable or None
        The user's ``fit(X, y) -> model``; None: derived from ``model`` (module docstring).
    X, y : ndarray
        The validated data (tables or sequences); they decide how targets are read for a
        rebuilt classifier.

    Returns
    -------
    fit : callable
        ``fit(X, y, random_state=None) -> fitted model`` (a given ``fit`` as it is).
    description : dict
        ``how`` (``"given"``, ``"clone"`` or ``"rebuilt"``), ``seeding`` (:data:`SEED_PASSED`
        or :data:`SEED_GLOBAL`) and what was used: the estimator and its parameters, or the
        architecture, trainer, training hyper-parameters and ``not_carried`` (what the
        rebuilt network leaves out of the given one, in words).

    Raises
    ------
    InputError
        ``fit`` is not callable or is ``model``'s own ``fit`` (:func:`check_not_in_place`), or
        ``fit`` is None and ``model`` cannot be refitted.

    Warns
    -----
    UserWarning
        A rebuilt network leaves out something of the given one (dropout, regularizers,
        constraints, bias-free layers), naming them (under Python's default filters, once
        per model and process).
    """
    if fit is not None:
        if not callable(fit):
            raise InputError(f"fit must be a callable fit(X, y) -> model, or None to refit a "
                             f"copy of the model; received {describe(fit)}")
        check_not_in_place(fit, model)
        if isinstance(fit, NetworkRefit):  # varimp's rebuild, altered (the CLI's --fit-epochs)
            return fit, fit.description(type(adapt(model).model).__name__)
        if isinstance(fit, SklearnRefit):  # a clone with other parameters (--fit-epochs)
            return fit, _altered_clone(fit, model)
        return fit, {"how": "given", "fit": _name(fit), "seeding":
                     SEED_PASSED if accepts_random_state(fit) else SEED_GLOBAL}
    from .adapters.sklearn import SklearnAdapter

    adapter = adapt(model)
    if isinstance(adapter, SklearnAdapter):  # a clone of the estimator
        return _sklearn_refit(adapter.model, adapter.input_columns)
    if type(adapter).network is Adapter.network:  # no network to rebuild: a plain function
        raise CannotRefit(f"varimp cannot retrain {type(adapter.model).__name__} (only "
                          "scikit-learn estimators and PyTorch or Keras networks of dense and "
                          "recurrent layers are refitted without help)")
    try:
        network = adapter.network()
    except UnsupportedModelError as exc:
        raise CannotRefit(f"varimp cannot rebuild {type(adapter.model).__name__} to retrain "
                          f"it ({exc})") from exc
    refit = _rebuild(network, adapter, np.asarray(X), None if y is None else np.asarray(y))
    description = refit.description(type(adapter.model).__name__)
    if refit.not_carried:  # (issued here: once per model and process, not once per call)
        warnings.warn(f"the networks varimp retrains are rebuilt from the layer sizes, "
                      f"activations and cells of the given {type(adapter.model).__name__}, "
                      f"with fresh weights, and trained by {description['trainer']}; they "
                      f"also differ from it in: {'; '.join(refit.not_carried)}. Pass fit= to "
                      f"reproduce your own training exactly", UserWarning, stacklevel=1)
    return refit, description


#: Names of the methods that train their object in place (scikit-learn's, Keras' ``fit``).
IN_PLACE_METHODS = frozenset({"fit", "partial_fit", "fit_transform"})


def check_not_in_place(fit: object, model: object) -> None:
    """Refuse a ``fit`` that trains the user's model itself: a bound method named in
    :data:`IN_PLACE_METHODS` (``model.fit``, also wrapped in ``functools.partial``) of the
    model or of a step of its Pipeline. Every fit would retrain the user's model in place, and
    the retraining methods never change it. Other methods of the model (one that builds and
    trains a new network, say) are allowed.

    A ``fit`` that closes over the model (``lambda X, y: model.fit(X, y)``) cannot be seen
    here: run in the caller's process (sequentially, or with ``backend="threading"``), it
    trains the user's model in place; the engine stops at the first such fit when it returns
    the model itself (a :class:`varimp.ModelError`), but cannot undo that training (and a fit
    returning a copy after training the model is not caught). On worker processes it trains a
    copy of the model.

    Raises
    ------
    InputError
        Naming the method and what to pass instead.
    """
    inner = fit
    while isinstance(inner, functools.partial):
        inner = inner.func
    owner = getattr(inner, "__self__", None)
    if owner is None or not inspect.ismethod(inner) or inner.__name__ not in IN_PLACE_METHODS:
        return
    given = adapt(model).model
    parts = [given] + [step for _, step in getattr(given, "steps", ()) if step is not None]
    if not any(owner is part for part in parts):
        return
    clone = ("a function returning sklearn.base.clone(model).fit(X, y)"
             if hasattr(given, "get_params") else
             "a function that builds and trains a new model")
    raise InputError(f"fit={type(owner).__name__}.{inner.__name__} is a method of the given "
                     f"model: each of the many fits would train your model itself, in place, "
                     f"and varimp never changes the model it is given. Pass fit=None (varimp "
                     f"refits a copy: {_COPY}), or {clone}")


#: What ``fit=None`` does, in a few words (for messages).
_COPY = ("a scikit-learn clone, or a PyTorch or Keras network rebuilt with fresh weights and "
         "trained by varimp's seeded trainer")


def _name(fit: object) -> str:
    inner = getattr(fit, "func", fit)  # functools.partial
    return getattr(inner, "__qualname__", None) or type(inner).__name__


# -- scikit-learn ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SklearnRefit:
    """``clone(estimator)`` with every ``random_state`` parameter set to the fit's seed, fitted.

    A seed above ``2**32 - 1`` (scikit-learn's limit) is taken modulo ``2**32``. An estimator
    without any ``random_state`` parameter is fitted with the global generators seeded
    (:func:`varimp.engines.worker.global_seed`). ``columns``: the column names the estimator
    was fitted on (``feature_names_in_``), given back to X as a DataFrame when X has as many
    columns, so a pipeline that selects columns by name (a ``ColumnTransformer``) refits.
    """

    estimator: Any
    seeded: tuple[str, ...]
    columns: tuple[str, ...] | None = None

    def __call__(self, X: np.ndarray, y: np.ndarray, random_state: int | None = None) -> Any:
        from sklearn.base import clone

        if self.columns is not None and np.ndim(X) == 2 and np.shape(X)[1] == len(self.columns):
            import pandas as pd

            X = pd.DataFrame(X, columns=list(self.columns))
        estimator = clone(self.estimator)
        if random_state is None:
            return estimator.fit(X, _sklearn_targets(y))
        seed = int(random_state) % 2**32
        if not self.seeded:
            with global_seed(seed):
                return estimator.fit(X, _sklearn_targets(y))
        estimator.set_params(**{name: seed for name in self.seeded})
        return estimator.fit(X, _sklearn_targets(y))


def _sklearn_targets(y: np.ndarray) -> np.ndarray:
    """One target column as ``(n,)``, as scikit-learn estimators expect."""
    y = np.asarray(y)
    return y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y


def _sklearn_refit(model: object, columns: Sequence[str] | None = None
                   ) -> tuple[SklearnRefit, dict[str, Any]]:
    from sklearn.base import clone

    try:
        estimator = clone(model)
    except Exception as exc:  # noqa: BLE001 - any failure of clone means: cannot refit
        raise CannotRefit(f"scikit-learn could not clone {type(model).__name__} "
                          f"({exc})") from exc
    params = estimator.get_params(deep=True)
    seeded = tuple(sorted(name for name in params if name == "random_state"
                          or name.endswith("__random_state")))
    shown = {name: value for name, value in estimator.get_params(deep=False).items()
             if value is None or isinstance(value, str | int | float | bool | tuple)}
    return SklearnRefit(estimator, seeded, None if columns is None else tuple(columns)), {
        "how": "clone", "estimator": type(model).__name__, "params": shown,
        "seeded": list(seeded), "seeding": SEED_PASSED if seeded else SEED_GLOBAL}


def _altered_clone(fit: SklearnRefit, model: object) -> dict[str, Any]:
    """The description of a clone whose parameters differ from ``model``'s: ``altered`` names
    them, so that a randomization test trains its observed network the same way."""
    description = _sklearn_refit(fit.estimator)[1]
    given = adapt(model).model
    ours = fit.estimator.get_params(deep=True)
    theirs = given.get_params(deep=True) if hasattr(given, "get_params") else {}
    altered = sorted(name for name, value in ours.items() if name in theirs
                     and not _holds_estimator(value) and repr(theirs[name]) != repr(value))
    description["altered"] = altered
    description["altered_values"] = {name: {"given": repr(theirs[name]), "refit": repr(ours[name])}
                                     for name in altered}
    return description


def _holds_estimator(value: object) -> bool:
    """Whether a parameter is an estimator or holds one (a Pipeline's ``steps``): such a value
    differs whenever a parameter inside it does, which is named on its own."""
    if hasattr(value, "get_params"):
        return True
    return isinstance(value, (list, tuple)) and any(map(_holds_estimator, value))


# -- rebuilt networks -----------------------------------------------------------------------------
@dataclass(frozen=True)
class NetworkRefit:
    """A network rebuilt from its neutral description and trained by a varimp trainer.

    ``trainer`` is ``"mlp"`` (:func:`varimp.train_mlp`) or ``"recurrent"``
    (:func:`varimp.train_recurrent`); ``arguments`` are the trainer's architecture arguments and
    ``training`` its training ones. ``task`` says how targets are read: ``"regression"`` (as
    given) or ``"classes"`` (labels mapped to the indices of ``classes``; with
    ``multilabel``, several sigmoid outputs, one 0/1 column per label, each trained by binary
    cross-entropy). With ``logits``, the trained network's final softmax or sigmoid is
    removed, so that it returns logits as the user's model does. ``not_carried``: what the
    rebuilt network leaves out of the given one, in words.
    """

    trainer: str
    arguments: dict[str, Any]
    task: str = "regression"
    classes: tuple | None = None
    n_outputs: int = 1
    multilabel: bool = False
    logits: bool = False
    architecture: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    not_carried: tuple[str, ...] = ()

    def __call__(self, X: np.ndarray, y: np.ndarray, random_state: int | None = None) -> Any:
        from . import train

        target = self._targets(np.asarray(X), np.asarray(y))
        trainer = train.train_mlp if self.trainer == "mlp" else train.train_recurrent
        seed = 0 if random_state is None else random_state
        model = trainer(X, target, **self.arguments, **self.training, random_state=seed)
        if self.logits:
            model = train.without_probability_layer(model)
        return model

    def _targets(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return y
        from .scoring import read_targets

        steps = X.shape[1] if self.trainer == "recurrent" and \
            self.arguments.get("return_sequences") else 1
        kind = "logits" if self.logits else "probability"
        index = read_targets(y, (X.shape[0], steps, self.n_outputs), kind, self.classes,
                             multilabel=self.multilabel).values
        index = index[:, 0] if steps == 1 else index
        return index.astype(np.float64) if self.n_outputs == 1 or self.multilabel else index

    def description(self, model_name: str) -> dict[str, Any]:
        name = "varimp.train_mlp" if self.trainer == "mlp" else "varimp.train_recurrent"
        return {"how": "rebuilt", "model": model_name, "rebuilt_as": "torch.nn.Module",
                "architecture": self.architecture, "trainer": name,
                "params": {**self.arguments, **self.training},
                "not_carried": list(self.not_carried), "seeding": SEED_PASSED}


def _rebuild(network: Any, adapter: Any, X: np.ndarray, y: np.ndarray | None) -> NetworkRefit:
    from .network import Dense, Recurrent

    layers = list(network.layers)
    if not all(isinstance(layer, Dense | Recurrent) for layer in layers):
        raise CannotRefit(f"varimp rebuilds chains of dense and recurrent layers only; "
                          f"{type(adapter.model).__name__} flattens its input")
    kind = adapter.output_kind
    last = layers[-1]
    n_outputs = last.n_out
    classifier = kind in ("probability", "logits")
    recurrent = [layer for layer in layers if isinstance(layer, Recurrent)]
    dense = [layer for layer in layers if isinstance(layer, Dense)]
    multilabel = _multilabel(adapter, n_outputs, X, y)
    if recurrent:
        arguments, architecture = _recurrent_arguments(recurrent, dense, layers, kind, adapter)
        trainer, training = "recurrent", dict(RECURRENT_TRAINING)
    else:
        arguments, architecture = _dense_arguments(dense, kind, adapter, multilabel)
        trainer, training = "mlp", dict(MLP_TRAINING)
        if arguments["task"] == "multiclass":  # every class an output, even one absent from y
            arguments["n_classes"] = n_outputs
    return NetworkRefit(
        trainer=trainer, arguments=arguments,
        task="classes" if classifier else "regression",
        classes=adapter.classes if classifier else None,
        n_outputs=n_outputs, multilabel=multilabel,
        logits=kind == "logits", architecture=architecture, training=training,
        not_carried=tuple(adapter.not_carried()) + _precision(adapter))


def _precision(adapter: Any) -> tuple[str, ...]:
    """The model's float precision, when varimp's trainers (float32) do not keep it."""
    name = str(getattr(adapter, "dtype", "float32")).removeprefix("torch.")
    if name == "float32" or not name.startswith(("float", "bfloat")):
        return ()
    return (f"the model computes in {name}: rebuilt and trained in float32",)


def _multilabel(adapter: Any, n_outputs: int, X: np.ndarray, y: np.ndarray | None) -> bool:
    """Whether the outputs are independent binary labels, as the methods read them
    (:func:`varimp.scoring.multilabel_outputs`, decided from the model; logits, which do not
    say, by a multi-hot ``y``, as :func:`varimp.scoring.read_targets` reads it)."""
    from .scoring import multilabel_outputs, read_targets

    # the network is read, so its last layer decides: no prediction is needed, only how many
    # outputs there are (no rows: no model call before the methods check X)
    declared = multilabel_outputs(adapter, np.empty((0, 1, n_outputs)))
    if declared is not None or y is None:
        return bool(declared)
    steps = X.shape[1] if X.ndim == 3 and np.ndim(y) == 3 else 1
    return read_targets(y, (X.shape[0], steps, n_outputs), adapter.output_kind,
                        adapter.classes, multilabel=None).multilabel


def _refuse(adapter: Any, what: str) -> CannotRefit:
    return CannotRefit(f"varimp cannot rebuild {type(adapter.model).__name__}: {what}")


def _dense_arguments(dense: list, kind: str, adapter: Any, multilabel: bool = False
                     ) -> tuple[dict[str, Any], str]:
    from .modules import TORCH_ACTIVATIONS

    hidden, last = dense[:-1], dense[-1]
    activations = {layer.activation for layer in hidden}
    if len(activations) > 1:
        raise _refuse(adapter, f"its hidden layers use different activations "
                               f"{sorted(activations)} (varimp.train_mlp uses one)")
    activation = activations.pop() if activations else "tanh"
    if activation not in TORCH_ACTIVATIONS:
        raise _refuse(adapter, f"hidden activation {activation!r} is not one of "
                               f"{sorted(TORCH_ACTIVATIONS)}")
    task = _dense_task(last, kind, adapter, multilabel)
    arguments = {"hidden": tuple(layer.n_out for layer in hidden), "activation": activation,
                 "task": task}
    sizes = " -> ".join(str(s) for s in (dense[0].n_in, *arguments["hidden"], last.n_out))
    return arguments, f"Dense {sizes}, hidden {activation}, output {last.activation}"


def _dense_task(last: Any, kind: str, adapter: Any, multilabel: bool = False) -> str:
    """The train_mlp task that gives the user's output layer and output kind: several
    sigmoid outputs (probabilities, or multi-label logits) are ``"binary"``, one sigmoid
    per label."""
    if kind == "regression" and last.activation == "identity":
        return "regression"
    if kind == "probability" and last.activation == "softmax":
        return "multiclass"
    if kind == "probability" and last.activation == "sigmoid":
        return "binary"
    if kind == "logits" and last.activation == "identity":
        return "binary" if last.n_out == 1 or multilabel else "multiclass"
    raise _refuse(adapter, f"its output layer ({last.activation}, read as {kind}) is not one "
                           "varimp.train_mlp trains (identity for regression or logits, "
                           "sigmoid or softmax for probabilities)")


def _recurrent_arguments(recurrent: list, dense: list, layers: list, kind: str, adapter: Any
                         ) -> tuple[dict[str, Any], str]:
    cells = {layer.cell for layer in recurrent}
    if len(cells) > 1 or layers[:len(recurrent)] != recurrent or len(dense) > 1:
        raise _refuse(adapter, "varimp.train_recurrent trains stacked recurrent layers of one "
                               "cell under at most one dense layer")
    odd = [layer.name for layer in recurrent if layer.recurrent_activation != "sigmoid"
           or (layer.cell == "gru" and not layer.reset_after)
           or (layer is not recurrent[-1] and not layer.return_sequences)]
    if odd:
        raise _refuse(adapter, f"layers {odd} differ from varimp's recurrent layers (sigmoid "
                               "gates, reset_after GRU, every layer but the last returning its "
                               "sequence)")
    cell = cells.pop()
    head = dense[0] if dense else None
    out_activation = head.activation if head else recurrent[-1].activation
    if kind == "regression" and (head is None or head.activation == "identity"):
        loss = "mse"
    elif kind == "probability" and out_activation == "sigmoid":
        loss = "bce"  # one sigmoid output, or one per label (multi-label)
    else:
        raise _refuse(adapter, f"its output ({out_activation}, read as {kind}) is not one "
                               "varimp.train_recurrent trains (a linear head for regression, "
                               "sigmoid outputs for probabilities)")
    arguments = {"cell": cell, "units": tuple(layer.n_out for layer in recurrent),
                 "activations": tuple(layer.activation for layer in recurrent),
                 "return_sequences": bool(recurrent[-1].return_sequences),
                 "head": head is not None, "loss": loss}
    units = " -> ".join(str(u) for u in arguments["units"])
    architecture = (f"{cell.upper()} {recurrent[0].n_in} -> {units} "
                    f"({', '.join(arguments['activations'])})"
                    f"{', all steps' if arguments['return_sequences'] else ', last step'}"
                    f"{f', Dense {head.n_in} -> {head.n_out} {head.activation}' if head else ''}")
    return arguments, architecture


__all__ = ["MLP_TRAINING", "RECURRENT_TRAINING", "SEED_GLOBAL", "SEED_PASSED", "NetworkRefit",
           "SklearnRefit", "check_fraction", "check_not_in_place", "resolve_fit"]
