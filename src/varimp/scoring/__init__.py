"""Error measures for the methods that compare predictions with targets, as scikit-learn scores.

What the model predicts is decided once, from the model, never from the values of the data:
its *output kind* is ``"regression"`` (values), ``"probability"`` (a softmax or sigmoid last
layer, ``predict_proba``) or ``"logits"`` (declared with ``output_kind="logits"``; turned into
probabilities by a softmax over several outputs, a sigmoid for one). Targets are read
accordingly: numbers for regression; class labels of any type for classifiers, mapped through
the model's classes (``classes=``, else ``classes_``, else ``0..k-1``; a single probability or
logit is the positive class ``classes[1]`` of two). Whether several outputs are multi-label
is decided from the model too (:func:`multilabel_outputs`): several sigmoid units (a
multi-label ``MLPClassifier``, a ``Sigmoid`` after several units; for a model whose layers
varimp cannot read, probabilities that do not sum to 1) are independent binary labels, each
output the probability of its own label, and ``y`` is then 0/1 ``(n, k)``, a row holding any
number of labels; a softmax's outputs are the classes of one classifier, and a 0/1 ``y``
with a row that does not hold exactly one 1 is refused. Logits do not say which: several
logits with a multi-hot ``y`` (0/1, some rows without exactly one 1) are multi-label (a
sigmoid of each logit), with any other ``y`` the logits of one softmax.

A kind *read* from the model (not given) is checked against targets that look like classes: a
one-hot ``y`` for several outputs read as regression values is refused (logits scored by MSE
against one-hot labels would be meaningless), and a numeric ``y`` of two distinct values
(0/1, 1/2) for one output read as a value gives a ``UserWarning``; ``output_kind="regression"``
silences both.

``scoring`` is any scikit-learn scorer name (``"neg_mean_squared_error"``, ``"r2"``,
``"neg_log_loss"``, ``"accuracy"``, ``"balanced_accuracy"``, ``"roc_auc"``, ...), a scorer
object (``sklearn.metrics.make_scorer``), or a :class:`Scorer` wrapping a metric
``f(y_true, y_pred)`` with its direction stated. The short names ``"mse"``, ``"mae"`` and
``"log_loss"`` are kept. ``"auto"`` (the default) is ``"neg_log_loss"`` for classifiers and
``"neg_mean_squared_error"`` for regression. Metrics receive what scikit-learn metrics receive:
``(m,)`` or ``(m, n_outputs)`` arrays of values, ``(m,)`` labels and ``(m, n_classes)``
probabilities; predicted steps of a sequence model count as samples. A scorer sees the user's
class labels, as it would on a scikit-learn classifier (``classes_`` sorted), so ``pos_label``
(the default 1 of ``"f1"``, ``"precision"``, ``"average_precision"``...) is a label of ``y``,
not a position. A regression metric on a classifier compares probabilities with one-hot targets
(MSE is then the Brier score).

Several outputs (the rule shared by every method): a regression error is the mean over the
selected outputs (``multioutput="uniform_average"``); the class probabilities of a classifier
are scored together, and selecting some classes scores each one-vs-rest and takes the mean;
multi-label outputs are each scored as a binary classifier and averaged (the log loss is the
mean over outputs of ``sklearn.metrics.log_loss`` of each column).
Every score is turned into a loss (``-score``), so an importance is "how much worse the model
gets": an increase of MSE or log loss, a drop of R2, accuracy or ROC AUC.
"""

from .closed_forms import CHECK_ROWS, ROW_MEAN_SCORERS
from .evaluation import Evaluation
from .probability import (
    EXPLAINED,
    check_probabilities,
    link_probabilities,
    logit_link,
    probabilities,
)
from .scorers import ALIASES, DEFAULT_SCORING, Scorer, check_scoring
from .targets import (
    CLASSIFIER_KINDS,
    OUTPUT_KINDS,
    Targets,
    check_output_kind,
    multilabel_outputs,
    read_targets,
)

__all__ = ["ALIASES", "CHECK_ROWS", "CLASSIFIER_KINDS", "DEFAULT_SCORING", "EXPLAINED",
           "OUTPUT_KINDS", "ROW_MEAN_SCORERS", "Evaluation", "Scorer", "Targets",
           "check_output_kind", "check_probabilities", "check_scoring", "link_probabilities",
           "logit_link", "multilabel_outputs", "probabilities", "read_targets"]
